// poly: Poly / MHR — a skill inventory of LoRA pairs mixed per row by its task's routing weights,
// computed as Python peft 0.13's PolyLayer does. Parameters (peft's names and layouts):
//   poly_lora_A [S, K, in/S, r], poly_lora_B [S, K, r, out/S], poly_router.module_logits [T, S·K]
// (S splits, K skills, T tasks). For a row of task t: w = sigmoid(logits[t]) reshaped [S, K] (a
// relaxed-Bernoulli sample with temperature 1 in training), normalised over skills (+1e-12);
// A(t) = Σ_k w_qk·A_qk per split q, laid out as [in, r] (split q covers inputs q·in/S …);
// B(t) likewise [r, out]; Δh = u·A(t)·B(t), scaled by 1/r by the composition.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { FunctionModule } from './types.js';
import { PeftError } from '../../errors.js';

/** peft's EPS in the normalisation of the routing weights. */
const ROUTER_EPS = 1e-12;

export class PolyLoRA extends SiteModule {
  protected readonly nonlinear = 'its update depends on the task of each row (routing), so no single weight holds it';
  readonly A: Param;
  readonly B: Param;
  readonly logits: Param;

  constructor(
    readonly inDim: number,
    readonly outDim: number,
    readonly rank: number,
    readonly tasks: number,
    readonly skills: number,
    readonly splits: number,
    readonly where: string,
  ) {
    super();
    if (inDim % splits !== 0 || outDim % splits !== 0) {
      throw new PeftError('RECIPE', `n_splits ${splits} does not divide the features here (${inDim} in, ${outDim} out)`, {
        where, hint: 'MHR cuts the input and output features into n_splits equal blocks: pick a divisor of both',
      });
    }
    this.A = this.param('poly_lora_A', [splits, skills, inDim / splits, rank], ['adapter']);
    this.B = this.param('poly_lora_B', [splits, skills, rank, outDim / splits], ['adapter']);
    this.logits = this.param('poly_router.module_logits', [tasks, splits * skills], ['adapter']);
  }

  /** The task of each of B rows: the context's, or task 0 when the method knows one task. */
  private taskIds(batch: number, ctx: ForwardContext | null): number[] {
    const ids = ctx?.taskIds ?? null;
    if (ids === null) {
      if (this.tasks === 1) return new Array(batch).fill(0);
      throw new PeftError('DATA', `poly routes by task and this batch has no task ids (the method knows ${this.tasks} tasks)`, {
        where: this.where, hint: 'give each row a task_id (rows of token ids), or name the task: --task NAME',
      });
    }
    if (ids.length !== batch) throw new PeftError('RUN', `${ids.length} task ids for a batch of ${batch} rows`, { where: this.where });
    for (const t of ids) {
      if (!Number.isInteger(t) || t < 0 || t >= this.tasks) {
        throw new PeftError('DATA', `task id ${t} is not a task of this method (0 … ${this.tasks - 1})`, { where: this.where });
      }
    }
    return [...ids];
  }

  /** Routing weights [B, S, K] of the rows' tasks (peft's PolyRouter.forward). */
  routing(taskIds: number[], ctx: ForwardContext | null): tf.Tensor3D {
    const B = taskIds.length;
    const logits = tf.reshape(tf.gather(this.logits.value, tf.tensor1d(taskIds, 'int32')), [B, this.splits, this.skills]);
    let y: tf.Tensor;
    if (ctx?.training) {
      // RelaxedBernoulli(temperature 1, logits).rsample(): sigmoid(logits + log u − log(1 − u))
      const u = tf.randomUniform(logits.shape, 1e-6, 1 - 1e-6, 'float32', ctx.nextSeed());
      y = tf.sigmoid(tf.add(logits, tf.sub(tf.log(u), tf.log(tf.sub(1, u)))));
    } else y = tf.sigmoid(logits);
    return tf.div(y, tf.add(tf.sum(y, -1, true), ROUTER_EPS)) as tf.Tensor3D;
  }

  /** Per-row mixed A [B, in, r] and B [B, r, out]. */
  mixed(w: tf.Tensor3D): { a: tf.Tensor3D; b: tf.Tensor3D } {
    const [Bn, S, K] = w.shape;
    const r = this.rank;
    const ws = tf.transpose(w, [1, 0, 2]) as tf.Tensor3D; // [S, B, K]
    const a = tf.matMul(ws, tf.reshape(this.A.value, [S, K, -1]) as tf.Tensor3D); // [S, B, in/S·r]
    const aRows = tf.reshape(tf.transpose(a, [1, 0, 2]), [Bn, this.inDim, r]) as tf.Tensor3D;
    const b = tf.matMul(ws, tf.reshape(this.B.value, [S, K, -1]) as tf.Tensor3D); // [S, B, r·out/S]
    const b4 = tf.reshape(tf.transpose(b, [1, 0, 2]), [Bn, S, r, this.outDim / S]);
    const bRows = tf.reshape(tf.transpose(b4, [0, 2, 1, 3]), [Bn, r, this.outDim]) as tf.Tensor3D;
    return { a: aRows, b: bRows };
  }

  delta(u: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const Bn = u.shape[0];
    const { a, b } = this.mixed(this.routing(this.taskIds(Bn, ctx), ctx));
    const u3 = (u.rank === 3 ? u : tf.reshape(u, [Bn, 1, -1])) as tf.Tensor3D;
    const out = tf.matMul(tf.matMul(u3, a), b);
    return u.rank === 3 ? out : tf.reshape(out, [...u.shape.slice(0, -1), this.outDim]);
  }
}

export const polyModule: FunctionModule<'poly'> = {
  kind: 'poly',
  build(c) {
    const o = c.plan.options;
    return buildPerSite(c, (site, uDim) => new PolyLoRA(uDim, site.outDim, o.rank, o.n_tasks, o.n_skills, o.n_splits, `${site.path}.${c.plan.name}`),
      (m, _site, uDim) => {
        // peft: kaiming_uniform(a=√5) on each [r, in/S] block (bound 1/√(in/S)), B zero, logits U(±1e-3)
        c.init(m.A, { kind: 'kaiming', fanIn: uDim / o.n_splits });
        c.init(m.B, o.init === 'random' ? { kind: 'kaiming', fanIn: o.rank } : { kind: 'zeros' });
        c.init(m.logits, { kind: 'uniform', bound: 1e-3 });
      });
  },
};
