// A task of a stream evaluated after some stages: its plan view, the classes it ranges over (its
// own when the task is known, every class seen so far when it is not), and the strategy's
// inference in the state it needs. The stream's own evaluations and `peft eval` of its run both
// come through here.
import type { TaskEntryPlan } from '../../plan/index.js';
import type { TaskModel } from '../backbones/types.js';
import { evaluate, type EvalResult } from '../infer/evaluate.js';
import type { Predictor } from '../infer/predict.js';
import type { Batch } from '../data/batches.js';
import { taskView, type TaskBatches } from '../multitask/task-batches.js';
import type { Strategy } from './strategy.js';
import { seenClasses, type StreamedPlan } from './stream-model.js';

/** The predictor of task `entry` after `stages` stages: its plan view, its classes, the strategy's inference. */
export function stagePredictor(s: Predictor, plan: StreamedPlan, entry: TaskEntryPlan, strategy: Strategy, stages: number, lm: TaskModel | null): Predictor {
  const view = taskView(plan, entry);
  if (entry.task.type === 'causal-lm') return { ...s, plan: view, model: lm ?? s.model, classLogits: undefined };
  const logits = strategy.classLogits?.bind(strategy);
  return { ...s, plan: view, ...(logits ? { classLogits: (b) => logits(b, stages) } : {}) };
}

/** The classes a task's evaluation ranges over after `stages` stages. */
export function evalClasses(plan: StreamedPlan, entry: TaskEntryPlan, stages: number): readonly number[] | null {
  if (entry.headClasses.length === 0) return null;
  return plan.stream.scenario === 'class-incremental' ? seenClasses(plan, stages) : entry.headClasses;
}

/** A task's evaluation after `stages` stages, in the state its inference needs. */
export function evaluateStage(s: Predictor, plan: StreamedPlan, strategy: Strategy, task: TaskBatches, stages: number, lm: TaskModel | null): EvalResult {
  const p = stagePredictor(s, plan, task.entry, strategy, stages, lm);
  const batches: Iterable<Batch> = task.over(evalClasses(plan, task.entry, stages)).sequential();
  const run = () => evaluate(p, batches);
  return strategy.around ? strategy.around(task.entry, run) : run();
}
