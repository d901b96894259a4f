// Merging several adapters against Python peft 0.13.2's add_weighted_adapter
// (../shared/fixtures/peft-0.13/llama-merge: LoRA adapters a and b, r 4, α 8, on q/v, weights
// [0.7, 0.5]): every merge's ΔW per module, and the factors themselves where they are unique;
// DARE by its properties (peft draws its masks from torch's RNG); what is refused and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SKIP_NO_SHARED, assertClose, fixture, readJson } from '../../helpers/fixtures.js';
import { deltaOf, readAdapterUpdates, type AdapterUpdates } from '../../../src/engine/merge/adapter-updates.js';
import { combineAdapters, type CombineMethod, type CombinedAdapter } from '../../../src/engine/merge/combine.js';
import { openSafetensors } from '../../../src/engine/io/safetensors.js';
import { PeftError } from '../../../src/errors.js';

const DIR = () => fixture('peft-0.13', 'llama-merge');
const PEFT_METHODS = ['linear', 'cat', 'svd', 'ties', 'ties_svd', 'magnitude_prune', 'dare_linear', 'dare_ties'] as const;

function inputs(): [AdapterUpdates, AdapterUpdates] {
  return [readAdapterUpdates(join(DIR(), 'a')), readAdapterUpdates(join(DIR(), 'b'))];
}

function deltaAt(c: CombinedAdapter, path: string): Float32Array {
  const t = new Map(c.tensors.map((x) => [x.name, x]));
  const A = t.get(`base_model.model.${path}.lora_A.weight`)!;
  const B = t.get(`base_model.model.${path}.lora_B.weight`)!;
  return deltaOf({ kind: 'lora', A: A.data as Float32Array, B: B.data as Float32Array, r: A.shape[0], inDim: A.shape[1], outDim: B.shape[0], scale: 1 });
}

function run(method: CombineMethod, extra: Partial<Parameters<typeof combineAdapters>[1]> = {}): CombinedAdapter {
  const out = readJson(DIR(), method, 'outputs.json');
  return combineAdapters(inputs(), { method, weights: out.weights, density: out.density ?? undefined, ...extra });
}

test('every deterministic merge gives peft 0.13.2\'s ΔW per module, and its config (r, lora_alpha = r, targets)', { skip: SKIP_NO_SHARED }, () => {
  for (const method of PEFT_METHODS.filter((m) => !m.startsWith('dare'))) {
    const c = run(method);
    const out = readJson(DIR(), method, 'outputs.json');
    for (const [path, want] of Object.entries(out.delta_weights)) assertClose(deltaAt(c, path), want as never, `${method} ΔW ${path}`);
    const cfg = readJson(DIR(), method, 'adapter_config.json');
    for (const k of ['r', 'lora_alpha', 'peft_type', 'task_type', 'use_rslora', 'use_dora']) assert.deepEqual(c.config[k], cfg[k], `${method} ${k}`);
    assert.deepEqual([...(c.config.target_modules as string[])].sort(), [...cfg.target_modules].sort());
    assert.deepEqual(c.config.rank_pattern, {});
    // factor-wise merges and cat are unique: the tensors themselves match peft's file
    if (!method.endsWith('svd')) {
      const file = openSafetensors(join(DIR(), method, 'adapter_model.safetensors'));
      for (const t of c.tensors) assertClose(t.data as Float32Array, Array.from(file.read(t.name)), `${method} ${t.name}`);
    }
  }
});

test('DARE keeps about density of each factor, rescaled by 1/density; at density 1 it is linear (ties)', { skip: SKIP_NO_SHARED }, () => {
  const [a, b] = inputs();
  const lin = run('linear');
  const d1 = combineAdapters([a, b], { method: 'dare_linear', weights: [0.7, 0.5], density: 1 });
  assert.deepEqual(d1.tensors.map((t) => Array.from(t.data)), lin.tensors.map((t) => Array.from(t.data)));
  const tiesD1 = combineAdapters([a, b], { method: 'dare_ties', weights: [0.7, 0.5], density: 1 });
  const ties1 = combineAdapters([a, b], { method: 'ties', weights: [0.7, 0.5], density: 1 });
  assert.deepEqual(tiesD1.tensors.map((t) => Array.from(t.data)), ties1.tensors.map((t) => Array.from(t.data)));
  // one adapter at weight 1: what survives is the factor × √s / density, the rest 0
  const one = combineAdapters([a], { method: 'dare_linear', weights: [1], density: 0.5, seed: 3 });
  let kept = 0;
  let total = 0;
  for (const t of one.tensors) {
    const src = a.modules.get(t.name.replace(/^base_model\.model\./, '').replace(/\.lora_[AB]\.weight$/, ''))!;
    const orig = (t.name.includes('lora_A') ? (src as { A: Float32Array }).A : (src as { B: Float32Array }).B);
    (t.data as Float32Array).forEach((v, i) => {
      total++;
      if (v !== 0) {
        kept++;
        assert.ok(Math.abs(v - (orig[i] * Math.sqrt(2)) / 0.5) < 1e-5);
      }
    });
  }
  assert.ok(Math.abs(kept / total - 0.5) < 0.05, `kept ${kept} of ${total}`);
  // seeded: the same seed gives the same merge, another seed another one
  const again = combineAdapters([a], { method: 'dare_linear', weights: [1], density: 0.5, seed: 3 });
  assert.deepEqual(again.tensors.map((t) => Array.from(t.data)), one.tensors.map((t) => Array.from(t.data)));
  const other = combineAdapters([a], { method: 'dare_linear', weights: [1], density: 0.5, seed: 4 });
  assert.notDeepEqual(other.tensors.map((t) => Array.from(t.data)), one.tensors.map((t) => Array.from(t.data)));
});

test('task_arithmetic is Σ w·ΔW exactly; svd with --exact is its truncation; pcb merges ΔW', { skip: SKIP_NO_SHARED }, () => {
  const [a, b] = inputs();
  const ta = combineAdapters([a, b], { method: 'task_arithmetic', weights: [0.7, 0.5] });
  const svdExact = combineAdapters([a, b], { method: 'svd', weights: [0.7, 0.5], exactScale: true, rank: 8 });
  for (const p of a.modules.keys()) {
    const want = deltaOf(a.modules.get(p) as never).map((v, i) => 0.7 * v + 0.5 * deltaOf(b.modules.get(p) as never)[i]);
    assertClose(deltaAt(ta, p), Array.from(want), `task_arithmetic ${p}`, 1e-4, 1e-6);
    assertClose(deltaAt(svdExact, p), Array.from(want), `svd --exact rank 8 ${p}`, 1e-4, 1e-6);
  }
  assert.equal(ta.ranks.get('model.layers.0.self_attn.q_proj'), 8);
  const pcb = combineAdapters([a, b], { method: 'pcb', weights: [1, 1], density: 0.3, rank: 'full' });
  assert.equal(pcb.ranks.get('model.layers.0.self_attn.q_proj'), 32);
});

test('refusals: weights that do not match, density outside (0, 1], linear across ranks, heads of both, different backbones', { skip: SKIP_NO_SHARED }, () => {
  const [a, b] = inputs();
  const usage = (re: RegExp) => (e: unknown) => e instanceof PeftError && e.exitCode === 2 && re.test(e.message);
  assert.throws(() => combineAdapters([a, b], { method: 'linear', weights: [1] }), usage(/2 adapters but 1 weight/));
  assert.throws(() => combineAdapters([a, b], { method: 'ties', weights: [1, 1], density: 0 }), usage(/density 0 is outside \(0, 1\]/));
  assert.throws(() => combineAdapters([a, b], { method: 'ties', weights: [1, 1], density: 1.5 }), usage(/density 1\.5 is outside/));
  assert.throws(() => combineAdapters([a, b], { method: 'ties', weights: [1, 1] }), usage(/needs --density/));
  assert.throws(() => combineAdapters([a, b], { method: 'linear', weights: [1, 1], density: 0.5 }), usage(/--density does nothing for --method linear/));
  // a rank-2 copy of b: linear refuses, cat and task_arithmetic merge
  const b2: AdapterUpdates = { ...b, modules: new Map([...b.modules].map(([p, u]) => {
    const l = u as { A: Float32Array; B: Float32Array; inDim: number; outDim: number; scale: number };
    return [p, { kind: 'lora' as const, r: 2, inDim: l.inDim, outDim: l.outDim, scale: 4, A: l.A.slice(0, 2 * l.inDim), B: Float32Array.from({ length: l.outDim * 2 }, (_, i) => l.B[Math.floor(i / 2) * 4 + (i % 2)]) }];
  })) };
  assert.throws(() => combineAdapters([a, b2], { method: 'linear', weights: [1, 1] }), usage(/merges LoRA factors of equal rank.*ranks 4 .*2 /));
  const cat = combineAdapters([a, b2], { method: 'cat', weights: [1, 1] });
  assert.equal(cat.config.r, 6);
  const p = 'model.layers.0.self_attn.q_proj';
  const want = deltaOf(a.modules.get(p) as never).map((v, i) => v + deltaOf(b2.modules.get(p) as never)[i]);
  assertClose(deltaAt(cat, p), Array.from(want), 'cat across ranks', 1e-4, 1e-6);
  // task heads: both carry one → choose
  const withHead = (x: AdapterUpdates, v: number): AdapterUpdates => ({ ...x, head: new Map([['base_model.model.score.weight', { shape: [2, 32], data: new Float32Array(64).fill(v) }]]) });
  assert.throws(() => combineAdapters([withHead(a, 1), withHead(b, 2)], { method: 'linear', weights: [1, 1] }), usage(/each carry their own task head/));
  const kept = combineAdapters([withHead(a, 1), withHead(b, 2)], { method: 'linear', weights: [1, 1], head: 2 });
  assert.equal(kept.tensors.find((t) => t.name === 'base_model.model.score.weight')!.data[0], 2);
  // different backbones: a module with other shapes, or another base model named
  const wide: AdapterUpdates = { ...b, modules: new Map([[p, { kind: 'lora', r: 4, inDim: 64, outDim: 64, scale: 2, A: new Float32Array(256), B: new Float32Array(256) }]]) };
  assert.throws(() => combineAdapters([a, wide], { method: 'cat', weights: [1, 1] }), (e: unknown) => e instanceof PeftError && /different shapes \(\[32, 32\] vs \[64, 64\]\): they are adapters for different backbones/.test(e.message));
  const other: AdapterUpdates = { ...b, config: { ...b.config, base_model_name_or_path: 'meta-llama/Llama-2-7b-hf' } };
  assert.throws(() => combineAdapters([a, other], { method: 'cat', weights: [1, 1] }), /adapters for different backbones do not merge/);
});

test('different targets: a module only one adapter adapts is merged from that adapter; target_modules is the union', { skip: SKIP_NO_SHARED }, () => {
  const [a, b] = inputs();
  const qOnly: AdapterUpdates = { ...a, config: { ...a.config, target_modules: ['q_proj'] }, modules: new Map([...a.modules].filter(([p]) => p.endsWith('q_proj'))) };
  const c = combineAdapters([qOnly, b], { method: 'task_arithmetic', weights: [0.7, 0.5] });
  assert.deepEqual(c.config.target_modules, ['q_proj', 'v_proj']);
  assert.match(c.notes.join(' '), /2 of 4 modules are adapted by only some of the adapters/);
  const v = 'model.layers.1.self_attn.v_proj';
  assertClose(deltaAt(c, v), Array.from(deltaOf(b.modules.get(v) as never).map((x) => 0.5 * x)), 'v_proj: b alone, weighted', 1e-4, 1e-6);
  const q = 'model.layers.1.self_attn.q_proj';
  const want = deltaOf(a.modules.get(q) as never).map((x, i) => 0.7 * x + 0.5 * deltaOf(b.modules.get(q) as never)[i]);
  assertClose(deltaAt(c, q), Array.from(want), 'q_proj: both', 1e-4, 1e-6);
});

