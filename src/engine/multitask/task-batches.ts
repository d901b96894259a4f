// One task of several, as batches: its own split's batcher, each batch marked with the task's id
// (methods that route read it) and, for classification tasks sharing one head, its labels moved
// to the head's columns and the columns the batch ranges over (the task's own, or every class
// seen so far in a class-incremental stream).
import type { Plan, TaskEntryPlan } from '../../plan/index.js';
import type { Batch, Batcher, DataCursor, TrainBatches } from '../data/batches.js';

/** The plan of one task alone: its task, data and metrics in place of the whole's (data building, evaluation). */
export function taskView(plan: Plan, entry: TaskEntryPlan): Plan {
  const { tasks: _tasks, stream: _stream, ...rest } = plan;
  const { sampling: _sampling, ...training } = plan.training;
  return { ...rest, task: entry.task, data: entry.data, eval: { ...plan.eval, metrics: entry.metrics }, training };
}

/** A batch of `entry`'s, marked for the shared head: task ids, labels as head columns, the columns it ranges over. */
export function forTask(b: Batch, entry: TaskEntryPlan, classes: readonly number[] | null = null): Batch {
  const out: Batch = { ...b, taskIds: new Int32Array(b.size).fill(entry.id) };
  if (entry.headClasses.length > 0) {
    if (b.labels) out.labels = Float32Array.from(b.labels, (l) => entry.headClasses[l]!);
    out.classes = classes ?? entry.headClasses;
  }
  return out;
}

/** A task's training batches, marked. */
export class TaskBatches implements TrainBatches {
  constructor(readonly entry: TaskEntryPlan, readonly batcher: Batcher, private readonly classes: readonly number[] | null = null) {}

  get size(): number {
    return this.batcher.size;
  }

  get batchesPerEpoch(): number {
    return this.batcher.batchesPerEpoch;
  }

  next(cursor: DataCursor): { batch: Batch; cursor: DataCursor } {
    const r = this.batcher.next(cursor);
    return { batch: forTask(r.batch, this.entry, this.classes), cursor: r.cursor };
  }

  /** The same task's batches ranging over other columns (a class-incremental stream's seen classes). */
  over(classes: readonly number[] | null): TaskBatches {
    return new TaskBatches(this.entry, this.batcher, classes);
  }

  *sequential(): Generator<Batch> {
    for (const b of this.batcher.sequential()) yield forTask(b, this.entry, this.classes);
  }
}
