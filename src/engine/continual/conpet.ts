// ConPET, Dynamic (Song et al. 2023), as the authors' code does it (loss_similarity.py):
//  - a PET module per task (fresh for each), trained with the head on its task's labels;
//  - a selector — its own PET module and one head column per task — trained from the second
//    task on, on the current task and a replay memory of earlier tasks taken in turn, to tell the
//    tasks apart (log-softmax over the tasks seen so far);
//  - prediction: each example's top-k tasks by selector score (descending, ties in task order;
//    in training with teacher forcing the true task replaces the lowest-ranked one when missing),
//    each selected task's module writes its logits into its labels' columns, every other column
//    gets null_logit (−100), then a softmax over every label seen so far.
// When the task is known (task-incremental), its own module predicts: no selection.
import * as tf from '@tensorflow/tfjs-core';
import type { ConpetPlan, TaskEntryPlan } from '../../plan/index.js';
import type { Batch, DataCursor, TrainBatches } from '../data/batches.js';
import type { TaskBatches } from '../multitask/task-batches.js';
import { TaskMixture } from '../multitask/mixture.js';
import { restore, snapshot, withParams, disposeSet, type ParamSet } from './param-sets.js';
import type { Strategy, StreamModel } from './strategy.js';
import { MASKED } from './classes.js';

/**
 * Each row's top-k tasks by score, best first (a stable sort: ties keep task order); with
 * `truth` (teacher forcing) a row whose true task is missing gets it in place of its last pick.
 */
export function selectTasks(scores: readonly (readonly number[])[], k: number, truth: readonly number[] | null = null): number[][] {
  return scores.map((row, i) => {
    const order = row.map((v, t) => ({ v, t })).sort((a, b) => b.v - a.v || a.t - b.t).map((x) => x.t);
    if (k >= row.length) return order;
    const picked = order.slice(0, k);
    const want = truth?.[i];
    if (want !== undefined && !picked.includes(want)) picked[k - 1] = want;
    return picked;
  });
}

/**
 * [B, C] logits: `nullLogit` everywhere, and for each row each selected task's expert logits in
 * that task's columns (`expert(t)` [B, n_t], `columns(t)` its n_t head columns).
 */
export function assembleLogits(C: number, selected: readonly (readonly number[])[], expert: (t: number) => readonly (readonly number[])[], columns: (t: number) => readonly number[], nullLogit: number): number[][] {
  return selected.map((tasks, i) => {
    const row = new Array<number>(C).fill(nullLogit);
    for (const t of tasks) columns(t).forEach((c, j) => { row[c] = expert(t)[i]![j]!; });
    return row;
  });
}

/** Batches of a task relabelled for the selector: the label is the task's selector column. */
class SelectorBatches implements TrainBatches {
  constructor(private readonly task: TaskBatches, private readonly column: number, private readonly classes: readonly number[]) {}
  get size(): number {
    return this.task.size;
  }
  get batchesPerEpoch(): number {
    return this.task.batchesPerEpoch;
  }
  next(cursor: DataCursor): { batch: Batch; cursor: DataCursor } {
    const r = this.task.next(cursor);
    const b = r.batch;
    return { batch: { ...b, labels: new Float32Array(b.size).fill(this.column), classes: this.classes }, cursor: r.cursor };
  }
}

export function conpetStrategy(m: StreamModel, o: ConpetPlan): Strategy {
  const order = m.plan.stream.order.map((n) => m.plan.tasks.find((t) => t.name === n)!);
  // every task's module starts from the method's seeded initialisation
  const init = snapshot(m.pet);
  const experts = new Map<number, ParamSet>();
  let selector: ParamSet | null = null;
  const scoreColumns = (k: number) => order.slice(0, k).map((t) => o.selectorClasses[t.id]!);
  const expertLogits = (task: TaskEntryPlan, b: Batch) => withParams(m.pet, experts.get(task.id)!, () => m.forward(b));
  return {
    name: 'conpet',
    phases(k, entry, data) {
      const phases = [{
        name: 'expert', trains: () => true,
        enter: () => restore(m.pet, init),
        leave: () => {
          experts.get(entry.id)?.forEach((t) => t.dispose());
          experts.set(entry.id, snapshot(m.pet));
        },
      }];
      // the selector tells tasks apart: nothing to do when the task is known (task-incremental)
      if (k === 0 || m.plan.stream.scenario === 'task-incremental') return phases;
      const cols = scoreColumns(k + 1);
      const tasks = [data.current, ...data.memories].map((tb) => new SelectorBatches(tb, o.selectorClasses[tb.entry.id]!, cols));
      return [...phases, {
        name: 'selector', trains: () => true,
        // tasks in turn: the memory of an earlier task is small, and a selector drawn in proportion learns to answer "the newest"
        data: new TaskMixture(tasks, { rule: 'round-robin', temperature: 1 }, m.plan.seed + 7919 * k),
        enter: () => restore(m.pet, selector ?? init),
        leave: () => {
          if (selector) disposeSet(selector);
          selector = snapshot(m.pet);
          // the live module is the current task's (what the run's adapter holds)
          restore(m.pet, experts.get(entry.id)!);
        },
      }];
    },
    classLogits(b, stages) {
      return tf.tidy(() => {
        const seen = order.slice(0, stages);
        const C = m.plan.task.numLabels!;
        const own = seen.find((t) => b.classes && t.headClasses.length === b.classes.length && t.headClasses.every((c, i) => b.classes![i] === c));
        if (own || seen.length === 1 || !selector) {
          const task = own ?? seen[seen.length - 1]!;
          return expertLogits(task, b);
        }
        const cols = scoreColumns(stages);
        const scores = withParams(m.pet, selector, () => m.forward(b));
        const rows = tf.gather(scores, tf.tensor1d(cols, 'int32'), 1).arraySync() as number[][];
        const picks = selectTasks(rows, o.topk);
        const logits = seen.map((t) => tf.gather(expertLogits(t, b), tf.tensor1d(t.headClasses, 'int32'), 1).arraySync() as number[][]);
        const out = assembleLogits(C, picks, (i) => logits[i]!, (i) => seen[i]!.headClasses, o.nullLogit);
        // columns outside the tasks seen stay out of the softmax whatever the null logit
        const masked = out.map((row) => row.map((v, c) => (seen.some((t) => t.headClasses.includes(c)) ? v : MASKED)));
        return tf.tensor2d(masked) as tf.Tensor2D;
      });
    },
    state() {
      const sets: Record<string, ParamSet> = {};
      for (const [id, set] of experts) sets[`expert.${id}`] = set;
      if (selector) sets.selector = selector;
      return { meta: {}, sets };
    },
    restore(st) {
      for (const [name, set] of Object.entries(st.sets)) {
        if (name === 'selector') selector = set;
        else if (name.startsWith('expert.')) experts.set(Number(name.slice(7)), set);
      }
    },
  };
}
