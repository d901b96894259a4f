// A recipe file → its Plan, planned once; or every issue printed and a SCHEMA error thrown.
import chalk from 'chalk';
import { validateRecipeFile, type Plan } from '../recipes/index.js';
import { PeftError } from '../errors.js';
import { issueLine } from './issue-line.js';

export function planFromFile(file: string, sets: string[]): Plan {
  const v = validateRecipeFile(file, { sets });
  if (v.issues.length === 0 && v.plan) return v.plan;
  for (const i of v.issues) process.stderr.write(chalk.red('error: ') + issueLine(i) + '\n');
  throw new PeftError('SCHEMA', `${v.file} is not a valid recipe (${v.issues.length} error${v.issues.length === 1 ? '' : 's'})`, {
    hint: 'fix the errors above; peft validate checks recipes without running them',
  });
}
