// Whether a test file carries labels (its first readable row maps with them): adaptation never
// needs them, scoring does.
import type { DataSplitPlan, Plan } from '../../plan/index.js';
import { columnsOf, sourceOptionsForTask } from '../data/build.js';
import { isProblem, openSourceBatches, RowMapper, sourceOptionsFor } from '../data/index.js';

export async function fileHasLabels(plan: Plan, split: DataSplitPlan): Promise<boolean> {
  const columns = columnsOf(plan, split);
  const mapper = new RowMapper(plan.task, columns, { withLabels: true });
  for await (const items of openSourceBatches(split, sourceOptionsFor(columns, sourceOptionsForTask(plan)))) {
    for (const item of items) {
      if (item.problem) continue;
      const m = mapper.map(item.row, item.where, item.index);
      return !(isProblem(m) && m.reason === 'missing' && /label/.test(m.message));
    }
  }
  return false;
}
