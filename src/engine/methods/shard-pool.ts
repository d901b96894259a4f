// lowrank with basis: shards — MoS, Mixture of Shards (Wang et al. 2025). One pair of shard pools
// per position (stack × role: every layer's query projection shares one pair), trained:
//   pool_A [P, in/n]  (row = an A-shard),  pool_B [out/n, P]  (column = a B-shard),
//   P = pool_rank · layers · n,  n = shards_per_vector.
// Each site draws, once and from projection_seed (their code's one-time random "routing"), the
// shards of its r rank vectors — subset selection from the shared part of the pool, pair
// dissociation (A and B drawn separately), shard privatization (private_rank ranks from shards
// only this layer owns) — and concatenates n shards per vector (vector sharding):
//   A[k, :] = concat_i pool_A[mask_A[k·n + i], :],   B[:, k] = concat_i pool_B[:, mask_B[k·n + i]],
//   Δh = u·Aᵀ·Bᵀ (scaled by α/r). Init as the authors: pool_A U(±1/√in), pool_B = 0.
// The masks are regenerated, never stored: the adapter holds the pools alone.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import type { SiteInfo } from '../backbones/types.js';
import { SiteModule, buildPerSite, inputDim } from './compose.js';
import type { BuildContext, BuiltModule } from './types.js';
import type { ModulePlanOf } from '../../plan/index.js';
import { SharedTensors, permutationPrefix, setFrozen } from './regenerate.js';
import { PeftError } from '../../errors.js';

export class ShardPools extends SharedTensors {
  readonly poolA: Param;
  readonly poolB: Param;
  constructor(readonly size: number, readonly inDim: number, readonly outDim: number, readonly n: number) {
    super();
    this.poolA = this.trained('pool_A', [size, inDim / n]);
    this.poolB = this.trained('pool_B', [outDim / n, size]);
  }
}

export class ShardLowRank extends SiteModule {
  protected readonly nonlinear = null;
  readonly maskA: Param;
  readonly maskB: Param;
  constructor(readonly inDim: number, readonly outDim: number, readonly rank: number, readonly pools: ShardPools) {
    super();
    this.maskA = this.buffer('shards_A', [rank * pools.n], ['adapter']);
    this.maskB = this.buffer('shards_B', [rank * pools.n], ['adapter']);
  }

  factors(): { a: tf.Tensor2D; b: tf.Tensor2D } {
    const { n } = this.pools;
    const a = tf.reshape(tf.gather(this.pools.poolA.value, this.maskA.value), [this.rank, this.inDim]) as tf.Tensor2D;
    // gathered [out/n, r·n] → [out/n, r, n] → [n, out/n, r] → [out, r]: segment i of column k is shard mask_B[k·n + i]
    const g = tf.reshape(tf.gather(this.pools.poolB.value, this.maskB.value, 1), [this.outDim / n, this.rank, n]);
    const b = tf.reshape(tf.transpose(g, [2, 0, 1]), [this.outDim, this.rank]) as tf.Tensor2D;
    return { a, b };
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    const { a, b } = this.factors();
    const low = tf.matMul(tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D, a, false, true);
    return tf.reshape(tf.matMul(low, b, false, true), [...lead, this.outDim]);
  }
}

/**
 * The shard indices of the site at position `slot` (its layer's rank among the group's sites):
 * (rank − private) · n shards of the shared part [0, shared), then its own private ones.
 */
export function shardIndices(seed: number, name: string, o: { rank: number; n: number; privateRank: number; shared: number; slot: number }): Int32Array {
  const sharedCount = (o.rank - o.privateRank) * o.n;
  const drawn = permutationPrefix(seed, name, o.shared, sharedCount);
  const own = Int32Array.from({ length: o.privateRank * o.n }, (_, i) => o.shared + o.slot * o.privateRank * o.n + i);
  const out = new Int32Array(o.rank * o.n);
  out.set(drawn, 0);
  out.set(own, sharedCount);
  return out;
}

export function buildShards(c: BuildContext<ModulePlanOf<'lowrank'>>): BuiltModule {
  const o = c.plan.options;
  const n = o.shards_per_vector!;
  const groups = new Map<string, SiteInfo[]>();
  for (const s of c.sites) {
    const dims = [inputDim(c.plan, s), s.outDim];
    if (dims.some((d) => d % n !== 0)) {
      throw new PeftError('RECIPE', `MoS cuts each rank vector into ${n} shards, but ${s.path} is ${dims[0]} → ${dims[1]}`, {
        where: `method.modules.${c.plan.name}.shards_per_vector`, hint: 'choose shards_per_vector dividing every adapted dimension',
      });
    }
    const key = `${s.stack}.${s.position}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const poolOf = new Map<SiteInfo, { pools: ShardPools; slot: number; shared: number }>();
  for (const [key, sites] of groups) {
    const layers = sites.length;
    const size = o.pool_rank! * layers * n;
    const shared = (o.pool_rank! - o.private_rank!) * layers * n;
    if ((o.rank - o.private_rank!) * n > shared) {
      throw new PeftError('RECIPE', `each layer draws ${(o.rank - o.private_rank!) * n} shared shards, but the pool of ${key} shares only ${shared}`, {
        where: `method.modules.${c.plan.name}.rank`, hint: 'lower rank or private_rank, or raise pool_rank',
      });
    }
    const pools = c.store.add(`${c.plan.name}.${key}`, new ShardPools(size, inputDim(c.plan, sites[0]), sites[0].outDim, n));
    [...sites].sort((a, b) => a.layer - b.layer).forEach((s, slot) => poolOf.set(s, { pools, slot, shared }));
  }
  c.store.nameTree();
  for (const pools of new Set([...poolOf.values()].map((v) => v.pools))) {
    // the authors' kaiming_uniform_ with the fan of the whole input (not the shard's width)
    c.init(pools.poolA, { kind: 'kaiming', fanIn: pools.inDim });
    c.init(pools.poolB, { kind: 'zeros' });
  }
  const built = buildPerSite(c, (site, uDim) => new ShardLowRank(uDim, site.outDim, o.rank, poolOf.get(site)!.pools), (m, site) => {
    if (!c.values) return;
    const { slot, shared } = poolOf.get(site)!;
    const spec = { rank: o.rank, n, privateRank: o.private_rank!, shared, slot };
    setFrozen(m.maskA, shardIndices(o.projection_seed!, `${site.path}.${c.plan.name}.shards_A`, spec));
    setFrozen(m.maskB, shardIndices(o.projection_seed!, `${site.path}.${c.plan.name}.shards_B`, spec));
  });
  return { attachments: built.attachments };
}
