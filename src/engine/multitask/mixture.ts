// Joint training of several tasks: each optimizer step's batch comes from one task, picked by
// the sampling rule — proportional to the tasks' examples, by temperature (p_t ∝ n_t^(1/T), which
// flattens the mixture towards uniform as T grows), or round-robin. The pick of draw d is a pure
// function of (seed, d), and each task keeps its own data cursor, so a checkpoint's cursor
// {epoch, index, tasks} resumes the mixture exactly.
import type { SamplingPlan } from '../../plan/index.js';
import type { Batch, DataCursor, TrainBatches } from '../data/batches.js';
import { hashString, uniformStream } from '../random.js';

export class TaskMixture implements TrainBatches {
  /** Cumulative probabilities of the tasks (proportional and temperature rules). */
  readonly probabilities: number[];

  constructor(readonly tasks: readonly TrainBatches[], readonly sampling: SamplingPlan, readonly seed: number) {
    const T = sampling.rule === 'temperature' ? sampling.temperature : 1;
    const w = tasks.map((t) => t.size ** (1 / T));
    const z = w.reduce((a, b) => a + b, 0);
    this.probabilities = w.map((x) => x / z);
  }

  /** Examples of every task: an epoch of the mixture is as many draws as the tasks have batches. */
  get size(): number {
    return this.tasks.reduce((n, t) => n + t.size, 0);
  }

  get batchesPerEpoch(): number {
    return this.tasks.reduce((n, t) => n + t.batchesPerEpoch, 0);
  }

  /** The task of draw d. */
  taskAt(draw: number): number {
    if (this.sampling.rule === 'round-robin') return draw % this.tasks.length;
    const u = uniformStream(hashString(`${this.seed}:task-mixture:${draw}`))();
    let acc = 0;
    for (let t = 0; t < this.probabilities.length; t++) {
      acc += this.probabilities[t]!;
      if (u < acc) return t;
    }
    return this.tasks.length - 1;
  }

  next(cursor: DataCursor): { batch: Batch; cursor: DataCursor } {
    const per = this.batchesPerEpoch;
    const draw = cursor.epoch * per + cursor.index;
    const t = this.taskAt(draw);
    const cursors = cursor.tasks?.map((c) => ({ ...c })) ?? this.tasks.map(() => ({ epoch: 0, index: 0 }));
    const r = this.tasks[t]!.next(cursors[t]!);
    cursors[t] = r.cursor;
    const index = cursor.index + 1;
    const next = index >= per ? { epoch: cursor.epoch + 1, index: 0, tasks: cursors } : { epoch: cursor.epoch, index, tasks: cursors };
    return { batch: r.batch, cursor: next };
  }
}
