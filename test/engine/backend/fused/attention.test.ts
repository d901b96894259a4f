// The fused attention (src/engine/backend/fused/attention.ts): on native one kernel each way,
// compared with its composite of tfjs ops on cpu — values and the gradients of q, k and v —
// with grouped-query heads, rotary tables, padding and causal masks, a fully masked row.
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { attention, ensureGradients, initBackend, listBackends } from '../../../../src/engine/backend/index.js';
import { additiveMask } from '../../../../src/engine/nn/attention.js';
import { Rotary } from '../../../../src/engine/nn/rotary.js';
import { assertNoLeak, assertParity, randn, type Input } from '../parity.js';

await ensureGradients();
const status = (await listBackends()).find((s) => s.name === 'native');
const skip = status?.available ? false : `native backend unavailable: ${status?.reason}`;
if (!skip) await initBackend('native');

/** An additive mask [B, 1, T, T] as the backbones build it: key padding (right) and causal. */
function maskInput(lengths: number[], T: number, causal: boolean): Input {
  const km = tf.tensor2d(lengths.flatMap((n) => Array.from({ length: T }, (_, j) => (j < n ? 1 : 0))), [lengths.length, T]);
  const m = additiveMask(km, lengths.length, T, T, causal);
  const values = m.dataSync().slice() as Float32Array;
  tf.dispose([km, m]);
  return { shape: [lengths.length, 1, T, T], dtype: 'float32', values };
}

function tables(d: number, T: number): Input[] {
  const r = new Rotary(d, 10000);
  const { cos, sin } = r.tables(0, T);
  const out: Input[] = [cos, sin].map((t) => ({ shape: [T, d], dtype: 'float32', values: t.dataSync().slice() as Float32Array }));
  r.clear();
  return out;
}

interface Case {
  name: string;
  B: number;
  T: number;
  H: number;
  Hkv: number;
  d: number;
  lengths?: number[];
  causal?: boolean;
  rope?: boolean;
}

const CASES: Case[] = [
  { name: 'GQA, rotary, right padding, causal (LLaMA)', B: 3, T: 9, H: 4, Hkv: 2, d: 8, lengths: [9, 4, 1], causal: true, rope: true },
  { name: 'MHA, padding mask only (BERT)', B: 2, T: 7, H: 2, Hkv: 2, d: 16, lengths: [7, 3] },
  { name: 'no mask, no rotary', B: 2, T: 5, H: 3, Hkv: 1, d: 4 },
  { name: 'a row with no real key (length 0)', B: 2, T: 6, H: 2, Hkv: 2, d: 8, lengths: [6, 0], causal: true, rope: true },
  { name: 'longer rows (several vector widths)', B: 2, T: 37, H: 8, Hkv: 4, d: 8, lengths: [37, 20], causal: true, rope: true },
];

for (const c of CASES) {
  test(`attention: ${c.name} — native kernel matches the composite on cpu`, { skip }, async () => {
    const inputs: Input[] = [randn([c.B, c.T, c.H * c.d], 1, 2), randn([c.B, c.T, c.Hkv * c.d], 2, 2), randn([c.B, c.T, c.Hkv * c.d], 3)];
    const extra: Input[] = [];
    if (c.lengths) extra.push(maskInput(c.lengths, c.T, c.causal ?? false));
    if (c.rope) extra.push(...tables(c.d, c.T));
    const all = [...inputs, ...extra];
    const run = (fn: typeof attention) => (...xs: tf.Tensor[]) => {
      const [q, k, v, ...rest] = xs;
      const mask = c.lengths ? rest.shift()! : null;
      const rotary = c.rope ? { cos: rest[0]!, sin: rest[1]! } : null;
      return fn(q!, k!, v!, mask, { heads: c.H, kvHeads: c.Hkv, scale: 1 / Math.sqrt(c.d), rotary });
    };
    // on cpu the op is its composite (the reference); on native the kernel, which must match it
    await assertParity('native', c.name, all, run(attention), 1e-4, 1e-5);
    // gradients of q, k, v (the mask and tables are constants: their gradients are not compared)
    const grads = (...xs: tf.Tensor[]) => {
      const [q, k, v, ...rest] = xs;
      const w = tf.tensor(randn([c.B, c.T, c.H * c.d], 9).values, [c.B, c.T, c.H * c.d]);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(run(attention)(a, b, e, ...rest), w)));
      return g([q!, k!, v!]);
    };
    await assertParity('native', `gradient of ${c.name}`, all, grads, 1e-3, 1e-4);
  });
}

test('attention: no tensor leaks when trained', { skip }, async () => {
  await tf.setBackend('native');
  const q = tf.variable(tf.randomNormal([2, 5, 16]), true, 'att_leak_q');
  const kv = tf.randomNormal([2, 5, 8]);
  const step = () => tf.tidy(() => {
    const { grads } = tf.variableGrads(() => tf.sum(attention(q, kv, kv, null, { heads: 2, kvHeads: 1, scale: 0.35 })) as tf.Scalar, [q]);
    q.assign(tf.sub(q, tf.mul(0.01, grads[q.name]!)));
  });
  await assertNoLeak('native', step);
  tf.dispose([q, kv]);
});

