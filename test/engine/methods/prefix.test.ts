import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, SKIP_NO_SHARED, readJson, fixture, toTensor, assertClose } from '../../helpers/fixtures.js';
import { loadBackbone, type ModelInputs } from '../../../src/engine/backbones/index.js';
import { openSafetensors } from '../../../src/engine/io/safetensors.js';
import { Attention } from '../../../src/engine/nn/attention.js';
import { ForwardContext, type Attachment } from '../../../src/engine/nn/context.js';
import { PrefixAttention, UngatedPrefix, PrefixMlp } from '../../../src/engine/methods/prefix.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { saveAdapter } from '../../../src/engine/adapters/peft/save.js';
import { loadAdapter } from '../../../src/engine/adapters/peft/load.js';
import { normalArray } from '../../../src/engine/random.js';
import { llama, plan, randomize, logits, maxDiff } from './helpers.js';

const D = 8;
const H = 4;
const KV = 2;
const HD = 2;
const P = 3;
const T = 5;
const SITES = { query: 'q', key: 'k', value: 'v', heads: 'heads', outProj: 'o' };

/** An attention with random q/k/v and an identity output projection, so its output is the merged heads. */
function attention(): Attention {
  const a = new Attention({ hidden: D, numHeads: H, numKvHeads: KV, headDim: HD, qkvBias: false, outBias: false, names: { q: 'q', k: 'k', v: 'v', o: 'o' } });
  a.nameTree();
  a.namedParams().forEach(([n, p], i) => p.set(n === 'o.weight' ? tf.eye(D) : tf.tensor(normalArray(p.size, 0.5, 10 + i), [...p.shape])));
  return a;
}

function rand(shape: number[], seed: number, std = 1): tf.Tensor {
  return tf.tensor(normalArray(shape.reduce((a, b) => a * b, 1), std, seed), shape);
}

function run(a: Attention, x: tf.Tensor3D, attach: Attachment | null): tf.Tensor {
  const ctx = new ForwardContext(attach ? new Map([['heads', [attach]]]) : new Map(), { training: false });
  return a.forward(x, x, tf.zeros([1, 1, T, T]) as tf.Tensor4D, ctx, SITES);
}

/** Per head i (kv head g = ⌊i·KV/H⌋): own scores, prefix scores, and the head's plain output. */
function perHead(a: Attention, x: tf.Tensor3D, pk: tf.Tensor, pv: tf.Tensor, i: number) {
  const g = Math.floor((i * KV) / H);
  const x2 = tf.reshape(x, [T, D]) as tf.Tensor2D;
  const col = (w: tf.Tensor, h: number) => tf.slice(tf.matMul(x2, w as tf.Tensor2D, false, true), [0, h * HD], [T, HD]);
  const q = col(a.q.weight.value, i);
  const k = col(a.k.weight.value, g);
  const v = col(a.v.weight.value, g);
  const scale = 1 / Math.sqrt(HD);
  const sc = tf.mul(tf.matMul(q as tf.Tensor2D, k as tf.Tensor2D, false, true), scale);
  const kP = tf.reshape(tf.slice(pk, [g, 0, 0], [1, P, HD]), [P, HD]);
  const vP = tf.reshape(tf.slice(pv, [g, 0, 0], [1, P, HD]), [P, HD]);
  const sp = tf.mul(tf.matMul(q as tf.Tensor2D, kP as tf.Tensor2D, false, true), scale);
  const h = tf.matMul(tf.softmax(sc), v as tf.Tensor2D);
  const dh = tf.matMul(tf.softmax(sp), vP as tf.Tensor2D);
  const ep = tf.sum(tf.exp(sp), 1, true);
  const lambda = tf.div(ep, tf.add(ep, tf.sum(tf.exp(sc), 1, true)));
  return { h, dh, lambda };
}

test('gated prefix: concatenated keys/values are (1 − λ)·h + λ·softmax(q·P_kᵀ)·P_v (He et al. Eq. 7–10), with GQA', async () => {
  await useBackend();
  const a = attention();
  const x = rand([1, T, D], 1) as tf.Tensor3D;
  const m = new PrefixAttention(KV, P, HD, true);
  m.nameTree();
  m.key!.set(rand([KV, P, HD], 2));
  m.value!.set(rand([KV, P, HD], 3));
  const got = run(a, x, m);
  const heads = Array.from({ length: H }, (_, i) => {
    const { h, dh, lambda } = perHead(a, x, m.key!.value, m.value!.value, i);
    return tf.add(tf.mul(h, tf.sub(1, lambda)), tf.mul(dh, lambda));
  });
  const want = tf.reshape(tf.concat(heads, 1), [1, T, D]);
  assert.ok(maxDiff(got, want) < 1e-5, `max diff ${maxDiff(got, want)}`);
});

test('ungated prefix (−gating): h + s·softmax(q·P_kᵀ/√d)·P_v per head at the heads site', async () => {
  await useBackend();
  const a = attention();
  const x = rand([1, T, D], 4) as tf.Tensor3D;
  for (const [composition, s] of [['add', 1], ['scaled', 2.5]] as const) {
    const m = new UngatedPrefix(H, KV, P, HD, true);
    m.configureComposition({ ...plan({ function: 'prefix', composition, ...(composition === 'scaled' ? { scale: s } : {}) }).modules[0] }, D, s);
    m.nameTree();
    m.key!.set(rand([KV, P, HD], 5));
    m.value!.set(rand([KV, P, HD], 6));
    const got = run(a, x, m);
    const heads = Array.from({ length: H }, (_, i) => {
      const { h, dh } = perHead(a, x, m.key!.value, m.value!.value, i);
      return tf.add(h, tf.mul(dh, s));
    });
    const want = tf.reshape(tf.concat(heads, 1), [1, T, D]);
    assert.ok(maxDiff(got, want) < 1e-5, `${composition}: max diff ${maxDiff(got, want)}`);
  }
});

test('prefix reparam: one MLP per location group, run once per forward, stored as plain prefixes', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const method = plan({ function: 'prefix', length: P, reparam: { hidden: 8 } });
  const peft = injectMethod(model, method, 0);
  const names = peft.store.namedParams().map(([n]) => n).sort();
  assert.deepEqual(names, ['prefix.model.self_attn.embedding', 'prefix.model.self_attn.transform.0.bias', 'prefix.model.self_attn.transform.0.weight',
    'prefix.model.self_attn.transform.2.bias', 'prefix.model.self_attn.transform.2.weight']);
  const mlp = peft.store.namedModules().find(([, m]) => m instanceof PrefixMlp)![1] as PrefixMlp;
  assert.deepEqual(mlp.w2.shape, [2 * 2 * 2 * 8, 8]); // layers·2·kvHeads·headDim
  const stored = peft.modules[0].storedShapes!;
  assert.deepEqual([...stored.keys()].sort(), [
    'model.layers.0.self_attn.heads.prefix.prefix_key', 'model.layers.0.self_attn.heads.prefix.prefix_value',
    'model.layers.1.self_attn.heads.prefix.prefix_key', 'model.layers.1.self_attn.heads.prefix.prefix_value',
  ]);
  for (const s of stored.values()) assert.deepEqual(s, [2, P, 8]);

  // the MLP (the only tanh in LLaMA) runs once for both layers
  const profile = await tf.profile(() => logits(model, peft));
  assert.equal(profile.kernels.filter((k) => k.name === 'Tanh').length, 1);

  // layer l's keys are slot 2l of the MLP's output, its values slot 2l + 1
  const out = mlp.output(null);
  const tensors = peft.modules[0].storedTensors!();
  const slot = (s: number) => tf.transpose(tf.reshape(tf.slice(out, [0, s, 0, 0], [P, 1, 2, 8]), [P, 2, 8]), [1, 0, 2]);
  assert.equal(maxDiff(tensors.get('model.layers.1.self_attn.heads.prefix.prefix_value')!, slot(3)), 0);

  // saved collapsed: the reloaded plain prefixes give the same outputs
  const dir = mkdtempSync(join(tmpdir(), 'peft-prefix-'));
  const { type } = saveAdapter(peft, dir, { baseModel: 'models/llama' });
  assert.equal(type, 'UNIFIED_VIEW');
  assert.equal(readJson(dir, 'adapter_config.json').method.modules[0].options.reparam, null);
  const fresh = llama();
  const loaded = loadAdapter(dir, fresh);
  assert.deepEqual(loaded.warnings, []);
  assert.ok(maxDiff(logits(fresh, loaded.peft), logits(model, peft)) < 1e-6);
});

test('prefix shift_positions: real tokens start at the prefix length (Python peft), saved as PREFIX_TUNING', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  assert.equal(injectMethod(model, plan({ function: 'prefix', length: P }), 0).positionOffset, 0);
  const peft = injectMethod(model, plan({ function: 'prefix', length: P, shift_positions: true, reparam: { hidden: 6 } }), 0);
  assert.equal(peft.positionOffset, P);
  const dir = mkdtempSync(join(tmpdir(), 'peft-prefix-shift-'));
  assert.equal(saveAdapter(peft, dir, { baseModel: 'models/llama' }).type, 'PREFIX_TUNING');
  const fresh = llama();
  const loaded = loadAdapter(dir, fresh);
  assert.equal(loaded.peft.positionOffset, P);
  assert.ok(maxDiff(logits(fresh, loaded.peft), logits(model, peft)) < 1e-6);
});

test('an ungated or position-keeping prefix is no PREFIX_TUNING: it saves as UNIFIED_VIEW and reloads', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  for (const spec of [{ function: 'prefix', length: P, composition: 'add' }, { function: 'prefix', length: P, shift_positions: false }]) {
    const model = llama();
    const peft = injectMethod(model, plan(spec), 0);
    randomize(peft, 3, 0.5);
    const dir = mkdtempSync(join(tmpdir(), 'peft-prefix-u-'));
    assert.equal(saveAdapter(peft, dir, { baseModel: 'models/llama' }).type, 'UNIFIED_VIEW');
    const fresh = llama();
    const loaded = loadAdapter(dir, fresh);
    assert.ok(maxDiff(logits(fresh, loaded.peft), logits(model, peft)) < 1e-6);
  }
});

/** AdapterHub's prefix locations → our location groups (BERT has self_prefix only). */
const HUB_GROUPS: Record<string, string> = {
  encoder_prefix: 'encoder.self_attn', self_prefix: 'decoder.self_attn', cross_prefix: 'decoder.cross_attn',
};

for (const [model, task] of [['bert', 'seq-cls'], ['bart', 'seq2seq']] as const) {
  for (const flat of [false, true]) {
    const name = `${model}-prefix_tuning${flat ? '_flat' : ''}`;
    test(`prefix ${flat ? '(direct)' : '(MLP reparam)'} reproduces AdapterHub's prefix tuning on ${model.toUpperCase()} (${name})`, { skip: SKIP_NO_SHARED }, async () => {
      await useBackend();
      const dir = fixture('adapters', name);
      const { model: m } = loadBackbone(fixture('models', model), { task, numLabels: 3 });
      const peft = injectMethod(m, plan({ function: 'prefix', length: 5, reparam: flat ? null : { hidden: 16 } }, task), 0);
      const file = openSafetensors(join(dir, 'adapter.safetensors'));
      const read = (n: string) => tf.tensor(file.read(n), file.info(n).shape);
      const ours = new Map(peft.store.namedParams());
      const locations = [...new Set(file.names().filter((n) => !n.includes('.pool.')).map((n) => /\.fixture\.(\w+)\./.exec(n)![1]))];
      for (const loc of locations) {
        const base = file.names().find((n) => !n.includes('.pool.') && n.includes(`.fixture.${loc}.`))!.replace(/\.fixture\..*/, `.fixture.${loc}`);
        const group = model === 'bert' ? 'model.self_attn' : HUB_GROUPS[loc];
        if (!flat) {
          const set = (ourLocal: string, hub: string) => ours.get(`prefix.${group}.${ourLocal}`)!.set(read(`${base}.${hub}`));
          set('embedding', 'wte.weight');
          for (const part of ['0.weight', '0.bias', '2.weight', '2.bias']) set(`transform.${part}`, `control_trans.${part}`);
        } else {
          // flat: [P·layers·2·heads·d] viewed [P, layers·2, heads, d]; layer l's keys are slot 2l
          const sites = peft.modules[0].sites.filter((s) => `${s.stack === 'model' ? 'model' : s.stack}.${s.position.split('.')[0]}` === group).sort((a, b) => a.layer - b.layer);
          const v = tf.reshape(read(`${base}.control_trans`), [5, sites.length * 2, 4, 8]);
          sites.forEach((s, l) => {
            for (const [slot, part] of [[2 * l, 'prefix_key'], [2 * l + 1, 'prefix_value']] as const) {
              ours.get(`${s.path}.prefix.${part}`)!.set(tf.transpose(tf.reshape(tf.slice(v, [0, slot, 0, 0], [5, 1, 4, 8]), [5, 4, 8]), [1, 0, 2]));
            }
          });
        }
      }
      const raw = readJson(fixture('models', model, 'inputs.json'));
      const inputs: ModelInputs = { inputIds: toTensor(raw.input_ids, 'int32') as tf.Tensor2D, attentionMask: toTensor(raw.attention_mask, 'int32') as tf.Tensor2D };
      if (raw.token_type_ids) inputs.tokenTypeIds = toTensor(raw.token_type_ids, 'int32') as tf.Tensor2D;
      if (raw.decoder_input_ids) inputs.decoderInputIds = toTensor(raw.decoder_input_ids, 'int32') as tf.Tensor2D;
      assertClose(m.forward(inputs, peft.context({ training: false })).logits, readJson(dir, 'outputs.json').logits, `${name} logits`);
    });
  }
}
