// A split cut by class (a class-incremental stream's task, `DataSplitPlan.classes`): its rows are
// read in the whole set's label space, rows of other classes are left out (not bad rows), and the
// kept ones are relabelled by their place in `keep`.
import type { DataSplitPlan, TaskPlan } from '../../plan/index.js';
import type { Example } from './types.js';

/** The task rows are read as: the whole set's labels when the split is cut by class. */
export function readingTask<T extends Pick<TaskPlan, 'type' | 'labels' | 'numLabels'>>(task: T, plan: Pick<DataSplitPlan, 'classes'>): T {
  return plan.classes ? { ...task, labels: plan.classes.labels, numLabels: plan.classes.count } : task;
}

/** The example relabelled for the cut, or null when its class is left out. */
export function cutByClass(ex: Example, plan: Pick<DataSplitPlan, 'classes'>): Example | null {
  if (!plan.classes || ex.label === undefined) return ex;
  const k = plan.classes.keep.indexOf(ex.label);
  return k < 0 ? null : { ...ex, label: k };
}
