// `--task NAME` of `peft eval` and `peft predict` on a run of several tasks: the task named, or a
// usage error that lists the tasks.
import type { Plan, TaskEntryPlan } from '../../plan/index.js';
import { suggest } from '../../plan/index.js';
import { PeftError } from '../../errors.js';

export function taskNamed(plan: Plan, name: string | undefined): TaskEntryPlan | null {
  if (name === undefined) return null;
  const tasks = plan.tasks ?? [];
  if (tasks.length === 0) throw new PeftError('USAGE', `--task ${name}: this run has one task`, { hint: 'leave --task out' });
  const entry = tasks.find((t) => t.name === name);
  if (!entry) {
    const near = suggest(name, tasks.map((t) => t.name));
    throw new PeftError('USAGE', `--task ${name}: no such task${near ? ` (did you mean "${near}"?)` : ''}`, { hint: `tasks: ${tasks.map((t) => t.name).join(', ')}` });
  }
  return entry;
}
