// lowrank with factorization: triangular — TriAdaptLoRA (Liang et al. 2025): ΔW = B·C·A where the
// core C [R, R] is block-triangular. Block i (size r_i, cumulative rank s_i) owns a row block
// C_row[i] [r_i, s_i] (the block lower triangle) and a column block C_col[i] [s_i, r_i] (the block
// upper triangle); the diagonal blocks get both. Δh = u·Aᵀ·Cᵀ·Bᵀ (scaled by s; their code: 2).
// Ranks grow block by block (rank_schedule: grow, triadapt-allocator.ts) into space reserved up to
// max_rank: A [max, in], B [out, max], C_row and C_col [max, max], of which the first R rows and
// columns are used. Init as theirs for the first block (A ~ N(0, 0.02), B = 0, C_row = C_col = I);
// a new block gets A ~ N(0, 0.02), B = 0 and identity on its own diagonal — the paper's intent:
// growth leaves ΔW unchanged (their code puts the new ones in the first columns, so ΔW jumps).
// `rank_state` [1] (stored) holds R, so a saved adapter loads with the ranks it grew to.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { BuildContext, BuiltModule } from './types.js';
import type { ModulePlanOf } from '../../plan/index.js';
import { regenerate, setFrozen } from './regenerate.js';
import { TriAdaptAllocator } from './triadapt-allocator.js';

/** Block sizes of a core of rank R that started at `first` and grew by `step`. */
export function blockSizes(R: number, first: number, step: number): number[] {
  const out = [Math.min(R, first)];
  for (let s = first; s < R; s += step) out.push(Math.min(step, R - s));
  return out;
}

/** The lower (row-block) and upper (column-block) masks [R, R] of blocks `sizes`. */
export function triangularMasks(sizes: readonly number[]): { lower: Float32Array; upper: Float32Array; R: number } {
  const R = sizes.reduce((a, b) => a + b, 0);
  const end: number[] = [];
  sizes.forEach((r, i) => end.push((end[i - 1] ?? 0) + r));
  const blockOf = (a: number) => end.findIndex((e) => a < e);
  const lower = new Float32Array(R * R);
  const upper = new Float32Array(R * R);
  for (let a = 0; a < R; a++) {
    for (let b = 0; b < R; b++) {
      if (b < end[blockOf(a)]) lower[a * R + b] = 1;
      if (a < end[blockOf(b)]) upper[a * R + b] = 1;
    }
  }
  return { lower, upper, R };
}

export class TriangularLowRank extends SiteModule {
  protected readonly nonlinear = null;
  readonly A: Param;
  readonly B: Param;
  readonly Crow: Param;
  readonly Ccol: Param;
  readonly state: Param;
  private masks: { lower: tf.Tensor2D; upper: tf.Tensor2D; R: number } | null = null;
  /** ‖C‖_F / blocks at the last allocation (the score is its change). */
  preNorm = 0;
  constructor(readonly inDim: number, readonly outDim: number, readonly first: number, readonly step: number, readonly maxRank: number) {
    super();
    this.A = this.param('lora_A', [maxRank, inDim], ['adapter']);
    this.B = this.param('lora_B', [outDim, maxRank], ['adapter']);
    this.Crow = this.param('lora_C_row', [maxRank, maxRank], ['adapter']);
    this.Ccol = this.param('lora_C_col', [maxRank, maxRank], ['adapter']);
    this.state = this.buffer('rank_state', [1], ['adapter', 'stored']);
  }

  private read: { t: tf.Tensor; R: number } | null = null;

  /** The current rank R (read from rank_state, which a loaded adapter sets). */
  get rank(): number {
    if (!this.state.loaded) return this.first;
    const t = this.state.value;
    if (this.read?.t !== t) this.read = { t, R: t.dataSync()[0] };
    return this.read.R;
  }

  get blocks(): number[] {
    return blockSizes(this.rank, this.first, this.step);
  }

  setRank(R: number): void {
    setFrozen(this.state, Float32Array.of(R));
    this.masks?.lower.dispose();
    this.masks?.upper.dispose();
    this.masks = null;
  }

  private currentMasks(): { lower: tf.Tensor2D; upper: tf.Tensor2D; R: number } {
    const R = this.rank;
    if (!this.masks || this.masks.R !== R) {
      const m = triangularMasks(this.blocks);
      this.masks = { lower: tf.keep(tf.tensor2d(m.lower, [R, R])), upper: tf.keep(tf.tensor2d(m.upper, [R, R])), R };
    }
    return this.masks;
  }

  /** The assembled core C [R, R]. */
  core(): tf.Tensor2D {
    const { lower, upper, R } = this.currentMasks();
    const part = (p: Param) => tf.slice(p.value, [0, 0], [R, R]);
    return tf.add(tf.mul(part(this.Crow), lower), tf.mul(part(this.Ccol), upper)) as tf.Tensor2D;
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const R = this.rank;
    const lead = u.shape.slice(0, -1);
    const a = tf.slice(this.A.value, [0, 0], [R, this.inDim]) as tf.Tensor2D;
    const b = tf.slice(this.B.value, [0, 0], [this.outDim, R]) as tf.Tensor2D;
    const low = tf.matMul(tf.matMul(tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D, a, false, true), this.core(), false, true);
    return tf.reshape(tf.matMul(low, b, false, true), [...lead, this.outDim]);
  }

  /** The normalised Frobenius norm of C: ‖C‖_F / number of blocks. */
  normalisedNorm(): number {
    const n = tf.tidy(() => tf.sqrt(tf.sum(tf.square(this.core()))).dataSync()[0]);
    return n / this.blocks.length;
  }

  /**
   * Adds a block of `size` ranks: A's new rows N(0, 0.02) from (seed, name, R), B's new columns 0,
   * the new diagonal block of C_row and C_col the identity (everything else in them 0).
   */
  grow(size: number, seed: number): void {
    const R = this.rank;
    const next = Math.min(this.maxRank, R + size);
    const rows = next - R;
    if (rows <= 0) return;
    const name = this.A.fullName;
    const fresh = regenerate(seed, `${name}.block${R}`, rows * this.inDim, { normal: 0.02 });
    const setRows = (p: Param, from: number, values: Float32Array, cols: number) => {
      const v = Float32Array.from(p.value.dataSync());
      v.set(values, from * cols);
      p.set(tf.tensor(v, [...p.shape]));
    };
    setRows(this.A, R, fresh, this.inDim);
    const bv = Float32Array.from(this.B.value.dataSync());
    for (let o = 0; o < this.outDim; o++) for (let j = R; j < next; j++) bv[o * this.maxRank + j] = 0;
    this.B.set(tf.tensor(bv, [...this.B.shape]));
    for (const c of [this.Crow, this.Ccol]) {
      const cv = Float32Array.from(c.value.dataSync());
      for (let a = 0; a < this.maxRank; a++) {
        for (let b = 0; b < this.maxRank; b++) {
          if ((a >= R && a < next) || (b >= R && b < next)) cv[a * this.maxRank + b] = a === b ? 1 : 0;
        }
      }
      c.set(tf.tensor(cv, [...c.shape]));
    }
    this.setRank(next);
  }

  /** Trainable numbers at rank R: R·(in + out) + 2·Σ r_i·s_i. */
  static params(inDim: number, outDim: number, sizes: readonly number[]): number {
    let s = 0;
    let cum = 0;
    for (const r of sizes) {
      cum += r;
      s += 2 * r * cum;
    }
    return cum * (inDim + outDim) + s;
  }
}

/** TriAdaptLoRA's modules (factorization: triangular), growing when rank_schedule is grow. */
export function buildTriangular(c: BuildContext<ModulePlanOf<'lowrank'>>): BuiltModule {
  const o = c.plan.options;
  const grows = o.rank_schedule === 'grow';
  const maxRank = grows ? o.max_rank! : o.rank;
  const step = grows ? o.grow_by! : o.rank;
  const built = buildPerSite(c, (site, uDim) => new TriangularLowRank(uDim, site.outDim, o.rank, step, maxRank), (m) => {
    c.init(m.A, { kind: 'normal', std: 0.02 });
    c.init(m.B, { kind: 'zeros' });
    const eye = new Float32Array(maxRank * maxRank);
    for (let i = 0; i < maxRank; i++) eye[i * maxRank + i] = 1;
    c.init(m.Crow, { kind: 'values', values: eye });
    c.init(m.Ccol, { kind: 'values', values: eye });
    if (c.values) m.setRank(o.rank);
  });
  const mods = built.modules;
  if (!grows) return { attachments: built.attachments };
  const allocator = new TriAdaptAllocator(mods, {
    first: o.rank, target: o.target_rank!, step, tinit: o.tinit!, deltaT: o.delta_t!, curve: o.grow_modules!, seed: c.seed,
  });
  return {
    attachments: built.attachments,
    afterStep: (info) => {
      allocator.update(info.step, info.totalSteps);
    },
    trainingState: () => {
      const st = allocator.state();
      return { meta: { ...st.meta, ranks: mods.map((m) => m.rank) }, arrays: st.arrays };
    },
    restoreTrainingState: (meta) => {
      const m = meta as { preNorm?: number[]; ranks?: number[] } | null;
      m?.ranks?.forEach((R, i) => mods[i]?.setRank(R));
      allocator.restore(m);
    },
    counts: () => {
      // at the budget, spread evenly: target_rank per module in blocks of grow_by after the first
      const sizes = blockSizes(o.target_rank!, o.rank, step);
      const trainable = mods.reduce((n, m) => n + TriangularLowRank.params(m.inDim, m.outDim, sizes), 0);
      const stored = mods.reduce((n, m) => n + maxRank * (m.inDim + m.outDim + 2 * maxRank) + 1, 0);
      return { trainable, stored };
    },
  };
}
