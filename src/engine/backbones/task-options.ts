// What a plan asks of the task model it builds: the task, its labels, pooling, and a
// convolutional backbone's input resolution.
import type { Plan } from '../../plan/index.js';
import type { TaskOptions } from './types.js';

export function taskOptionsOf(plan: Plan): TaskOptions {
  const o: TaskOptions = { task: plan.task.type, numLabels: plan.task.numLabels ?? undefined, pooling: plan.task.pooling };
  if (plan.backbone.imageSize !== undefined) o.imageSize = plan.backbone.imageSize;
  if (plan.backbone.init === 'random') o.init = 'random';
  return o;
}
