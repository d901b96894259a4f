// `peft predict` on a run of several tasks: the rows are one task's (--task NAME: its columns,
// its labels, its task id for methods that route), predicted over its own labels — or, for a
// class-incremental stream, over every class it had seen when no task is named. A stream's run
// predicts through its strategy (ensemble, selection, retrieval).
import type { Plan } from '../../plan/index.js';
import { PeftError } from '../../errors.js';
import type { Batch } from '../data/batches.js';
import type { InferenceSession } from '../infer/inference.js';
import type { PredictFileOptions } from '../infer/predict-file.js';
import type { RunTarget } from '../infer/target.js';
import { openStream } from '../continual/open-run.js';
import { evalClasses, stagePredictor } from '../continual/stage-eval.js';
import { seenClasses, type StreamedPlan } from '../continual/stream-model.js';
import { forTask, taskView } from './task-batches.js';
import { taskNamed } from './target.js';

export interface TaskPrediction {
  session: InferenceSession;
  options: Pick<PredictFileOptions, 'decorate' | 'defaultTask'>;
}

export function taskPrediction(s: InferenceSession, target: RunTarget, task: string | undefined, logits: boolean): TaskPrediction {
  const plan = target.plan;
  const named = taskNamed(plan, task);
  const stream = plan.stream ? (plan as StreamedPlan) : null;
  const opened = stream ? openStream(s, stream, target.runDir) : null;
  if (named) {
    const p = stream ? stagePredictor(s, stream, named, opened!.strategy, opened!.stages, opened!.lm) : { ...s, plan: taskView(plan, named) };
    const classes = stream ? evalClasses(stream, named, opened!.stages) : named.headClasses;
    const view: Plan = p.plan;
    // a class-incremental task ranges over every class seen: its predictions are named by the head's labels
    const labels = classes && classes !== named.headClasses ? { ...view, task: { ...view.task, numLabels: classes.length, labels: classes.map((c) => plan.task.labels?.[c] ?? String(c)) } } : view;
    return {
      session: { ...s, ...p, plan: labels },
      options: { decorate: (b: Batch) => forTask(b, named, classes), defaultTask: named.id },
    };
  }
  if (stream?.stream.scenario === 'class-incremental') {
    const classes = seenClasses(stream, opened!.stages);
    const logits = opened!.strategy.classLogits?.bind(opened!.strategy);
    const view: Plan = { ...plan, task: { ...plan.task, numLabels: classes.length, labels: classes.map((c) => plan.task.labels?.[c] ?? String(c)) } };
    return {
      session: { ...s, plan: view, ...(logits ? { classLogits: (b: Batch) => logits(b, opened!.stages) } : {}) },
      options: { decorate: (b: Batch) => ({ ...b, classes }) },
    };
  }
  if (!logits) {
    throw new PeftError('USAGE', 'this run has several tasks: name the one the rows are of, --task NAME', { hint: `tasks: ${plan.tasks!.map((t) => t.name).join(', ')}` });
  }
  return { session: s, options: {} };
}
