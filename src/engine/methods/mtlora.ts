// mtlora: MTLoRA's linear as the authors' MTLoRALinear computes it (models/lora.py:159-284), P
// the projection's output:
//   shared output  y   = P + s_s·u·A_sᵀ·B_sᵀ                      (addition: P + LN(Σ_t y_t))
//   task output    y_t = P + s_t·u_t·A_tᵀ·B_tᵀ   (+ s_s·u·A_sᵀ·B_sᵀ in matrixv2)
// with u_t the task's own stream (u when none). Layers below the top `task_layers` have the shared
// module only. In a transformer whose rows belong to tasks, each row follows its task's stream
// through the task layers, so a row of task t takes y_t there and y elsewhere.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { FunctionModule } from './types.js';
import { PeftError } from '../../errors.js';

/** One site's settings: the plan gives every task the same rank and scale; the authors' code may not. */
export interface MtLoRASpec {
  rank: number;
  taskRanks: number[];
  sharedScale: number;
  taskScales: number[];
  mode: 'matrix' | 'matrixv2' | 'addition';
  dropout: number;
}

function lowRank(u: tf.Tensor, A: Param, B: Param): tf.Tensor {
  const lead = u.shape.slice(0, -1);
  const u2 = tf.reshape(u, [-1, u.shape[u.rank - 1]]) as tf.Tensor2D;
  const out = tf.matMul(tf.matMul(u2, A.value as tf.Tensor2D, false, true), B.value as tf.Tensor2D, false, true);
  return tf.reshape(out, [...lead, B.shape[0]]);
}

export class MtLoRA extends SiteModule {
  protected readonly nonlinear = 'its update depends on the task of each row';
  readonly sharedA: Param | null = null;
  readonly sharedB: Param | null = null;
  readonly taskA: Param[] = [];
  readonly taskB: Param[] = [];
  readonly normW: Param | null = null;
  readonly normB: Param | null = null;

  constructor(readonly inDim: number, readonly outDim: number, readonly o: MtLoRASpec, readonly taskLayer: boolean, readonly where: string) {
    super();
    if (o.mode !== 'addition') {
      this.sharedA = this.param('lora_shared_A', [o.rank, inDim], ['adapter']);
      this.sharedB = this.param('lora_shared_B', [outDim, o.rank], ['adapter']);
    }
    if (taskLayer) {
      o.taskRanks.forEach((r, t) => {
        this.taskA.push(this.param(`lora_tasks_A.${t}`, [r, inDim], ['adapter']));
        this.taskB.push(this.param(`lora_tasks_B.${t}`, [outDim, r], ['adapter']));
      });
      if (o.mode === 'addition') {
        this.normW = this.param('lora_norm.weight', [outDim], ['adapter']);
        this.normB = this.param('lora_norm.bias', [outDim], ['adapter']);
      }
    }
  }

  /** s_s·u·A_sᵀ·B_sᵀ (zero in addition mode, which has no shared module). */
  private shared(u: tf.Tensor): tf.Tensor | null {
    return this.sharedA && this.sharedB ? tf.mul(lowRank(u, this.sharedA, this.sharedB), this.o.sharedScale) : null;
  }

  private taskDelta(t: number, u: tf.Tensor): tf.Tensor {
    return tf.mul(lowRank(u, this.taskA[t], this.taskB[t]), this.o.taskScales[t]);
  }

  /** The shared output and every task's output, as MTLoRALinear.forward returns them (`uTasks[t]`: task t's stream, else u). */
  outputs(u: tf.Tensor, P: tf.Tensor, uTasks?: (tf.Tensor | undefined)[]): { y: tf.Tensor; yTasks: tf.Tensor[] } {
    const s = this.shared(u);
    if (!this.taskLayer) return { y: s ? tf.add(P, s) : P, yTasks: [] };
    const yTasks = this.taskA.map((_, t) => {
      let y = tf.add(P, this.taskDelta(t, uTasks?.[t] ?? u));
      if (this.o.mode === 'matrixv2' && s) y = tf.add(y, s);
      return y;
    });
    if (this.o.mode !== 'addition') return { y: tf.add(P, s!), yTasks };
    const sum = tf.addN(yTasks);
    const mean = tf.mean(sum, -1, true);
    const c = tf.sub(sum, mean);
    const ln = tf.add(tf.mul(tf.div(c, tf.sqrt(tf.add(tf.mean(tf.square(c), -1, true), 1e-5))), this.normW!.value), this.normB!.value);
    return { y: tf.add(P, ln), yTasks };
  }

  delta(u: tf.Tensor): tf.Tensor {
    return this.shared(u) ?? tf.zerosLike(u);
  }

  override transform(x: tf.Tensor, h: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const u = ctx.dropout(x, this.o.dropout);
    if (!this.taskLayer) {
      const s = this.shared(u);
      return s ? tf.add(h, s) : h;
    }
    const B = x.shape[0];
    const n = this.taskA.length;
    const ids = ctx.taskIds ?? (n === 1 ? new Array(B).fill(0) : null);
    if (!ids) {
      throw new PeftError('DATA', `mtlora has task-specific modules here and this batch has no task ids (${n} tasks)`, {
        where: this.where, hint: 'give each row a task_id (rows of token ids), or name the task: --task NAME',
      });
    }
    // each row takes its own task's output: Σ_t onehot_t ⊙ y_t
    const oneHot = tf.oneHot(tf.tensor1d([...ids], 'int32'), n); // [B, T]
    const { yTasks } = this.outputs(u, h);
    const shape = [B, ...new Array(h.rank - 1).fill(1)];
    return tf.addN(yTasks.map((y, t) => tf.mul(y, tf.reshape(tf.slice(oneHot, [0, t], [B, 1]), shape))));
  }
}

export const mtloraModule: FunctionModule<'mtlora'> = {
  kind: 'mtlora',
  build(c) {
    const o = c.plan.options;
    const depth = new Map<string, number>();
    for (const s of c.model.sites) if (s.layer >= 0) depth.set(s.stack, Math.max(depth.get(s.stack) ?? 0, s.layer + 1));
    const isTaskLayer = (stack: string, layer: number) => layer >= (depth.get(stack) ?? 0) - o.task_layers;
    const spec: MtLoRASpec = {
      rank: o.rank, taskRanks: new Array(o.n_tasks).fill(o.task_rank), sharedScale: o.shared_scale,
      taskScales: new Array(o.n_tasks).fill(o.task_scale), mode: o.shared_mode, dropout: o.dropout,
    };
    return buildPerSite(c, (site, uDim) => new MtLoRA(uDim, site.outDim, spec, isTaskLayer(site.stack, site.layer), `${site.path}.${c.plan.name}`),
      (m, _site, uDim) => {
        // MTLoRALinear.reset_parameters: A kaiming_uniform(a=√5), B zero; the LayerNorm of addition 1, 0
        if (m.sharedA && m.sharedB) {
          c.init(m.sharedA, { kind: 'kaiming', fanIn: uDim });
          c.init(m.sharedB, o.init === 'random' ? { kind: 'kaiming', fanIn: o.rank } : { kind: 'zeros' });
        }
        m.taskA.forEach((A) => c.init(A, { kind: 'kaiming', fanIn: uDim }));
        m.taskB.forEach((B) => c.init(B, o.init === 'random' ? { kind: 'kaiming', fanIn: o.task_rank } : { kind: 'zeros' }));
        if (m.normW && m.normB) {
          c.init(m.normW, { kind: 'ones' });
          c.init(m.normB, { kind: 'zeros' });
        }
      });
  },
};
