// Methods that route by task (poly, mtlora) know a number of tasks; rows and batches must carry
// task ids below it. Null when no module of the method routes.
import type { MethodPlan } from '../../plan/index.js';

export function routedTasks(method: MethodPlan): number | null {
  let n: number | null = null;
  for (const m of method.modules) {
    if (m.function === 'poly' || m.function === 'mtlora') n = Math.max(n ?? 0, m.options.n_tasks);
  }
  return n;
}
