// MoS (lowrank basis: shards) against the authors' code (test/fixtures/reference/mos): pools shared
// by the layers of one projection type, A and B assembled from the shards the per-layer index masks
// name (vector sharding), outputs, pool gradients accumulated over layers; and our own seeded
// draw: subset selection, pair dissociation and privatization, as their code draws them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { reference } from '../../helpers/reference.js';
import { ShardLowRank, ShardPools, shardIndices } from '../../../src/engine/methods/shard-pool.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { composition, linearOf, llama, plan, logits, maxDiff } from './helpers.js';

const ref = reference('mos');
const cfg = ref.case.config;
const PROJ = ['q_proj', 'up_proj'] as const;

test('MoS: A and B from the pools and masks, y per layer, pool gradients summed over the 3 layers', async () => {
  await useBackend();
  const pools = new Map(PROJ.map((p) => {
    const d = cfg.dims[p];
    const pool = new ShardPools(cfg.chunk_pool_r, d.in, d.out, cfg.num_chunk_per_vec);
    pool.nameTree();
    pool.poolA.set(ref.t(`pool_A_${p}`));
    pool.poolB.set(ref.t(`pool_B_${p}`));
    pool.poolA.makeTrainable();
    pool.poolB.makeTrainable();
    return [p, pool];
  }));
  const vars = PROJ.flatMap((p) => [pools.get(p)!.poolA.variable, pools.get(p)!.poolB.variable]);
  const runs: { key: string; m: ShardLowRank }[] = [];
  for (let l = 0; l < cfg.layers; l++) {
    for (const p of PROJ) {
      const d = cfg.dims[p];
      const m = new ShardLowRank(d.in, d.out, cfg.lora_r, pools.get(p)!);
      m.configureComposition(composition(cfg.scaling), d.in);
      m.nameTree();
      m.maskA.set(ref.t(`mask_A_L${l}_${p}`));
      m.maskB.set(ref.t(`mask_B_L${l}_${p}`));
      runs.push({ key: `L${l}_${p}`, m });
    }
  }
  for (const { key, m } of runs) {
    const { a, b } = m.factors();
    assertClose(a, ref.j(`A_${key}`), `A_${key}`, 0, 0);
    assertClose(b, ref.j(`B_${key}`), `B_${key}`, 0, 0);
  }
  const { value, grads } = tf.variableGrads(() => tf.addN(runs.map(({ key, m }) => {
    const base = linearOf(ref.t(`W_${key}`), null);
    const y = new ForwardContext(new Map([['s', [m]]]), { training: false }).linear('s', ref.t(`x_${key}`), base);
    assertClose(y, ref.j(`y_${key}`), `y_${key}`);
    return tf.sum(tf.mul(y, ref.t(`G_${key}`)));
  })) as tf.Scalar, vars);
  assert.ok(Math.abs(value.dataSync()[0] - ref.case.scalars.loss) < 1e-3);
  for (const p of PROJ) {
    assertClose(grads[pools.get(p)!.poolA.variable.name], ref.j(`grad_pool_A_${p}`), `dL/dpool_A ${p}`);
    assertClose(grads[pools.get(p)!.poolB.variable.name], ref.j(`grad_pool_B_${p}`), `dL/dpool_B ${p}`);
  }
});

test('MoS draws: per layer (rank − private)·n distinct shared shards, its own private ones, A and B drawn apart', () => {
  const spec = { rank: cfg.lora_r, n: cfg.num_chunk_per_vec, privateRank: cfg.valid_param_private_r, shared: cfg.private_start_idx };
  for (let slot = 0; slot < cfg.layers; slot++) {
    const a = shardIndices(0, `L${slot}.A`, { ...spec, slot });
    const b = shardIndices(0, `L${slot}.B`, { ...spec, slot });
    const sharedA = [...a.slice(0, 4)];
    assert.equal(new Set(sharedA).size, 4, 'no shard twice');
    assert.ok(sharedA.every((i) => i < cfg.private_start_idx));
    // the fixture's masks follow the same rule: private shards 6 + 2l, 7 + 2l at the end
    assert.deepEqual([...a.slice(4)], [6 + 2 * slot, 7 + 2 * slot]);
    assert.deepEqual([...ref.v(`mask_A_L${slot}_q_proj`).slice(4)], [6 + 2 * slot, 7 + 2 * slot]);
    assert.notDeepEqual([...a], [...b], 'pair dissociation: A and B are drawn separately');
  }
});

test('MoS on LLaMA: trainable = pool_rank · layers · (in + out) per position; zero at init', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const peft = injectMethod(model, plan({ preset: 'mos', rank: 3, pool_rank: 2, private_rank: 1, shards_per_vector: 2 }), 0);
  // q 32 → 32 and v 32 → 16 over the 2 layers
  assert.equal(peft.store.namedParams().reduce((n, [, p]) => n + p.size, 0), 2 * 2 * (32 + 32) + 2 * 2 * (32 + 16));
  assert.equal(maxDiff(logits(model, peft), logits(model, null)), 0);
  assert.throws(() => injectMethod(llama(), plan({ preset: 'mos', rank: 8, pool_rank: 2, private_rank: 1 }), 0), /each layer draws 14 shared shards, but the pool of model.self_attn.query shares only 4/);
});
