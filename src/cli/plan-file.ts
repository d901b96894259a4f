// A recipe file → its Plan, planned once; or its issues as errors: one issue is thrown as the one
// error line (place, message, hint), several are printed and summed up by the error thrown.
import chalk from 'chalk';
import { validateRecipeFile, type Plan } from '../recipes/index.js';
import { PeftError } from '../errors.js';
import { issueLine } from './issue-line.js';

export function planFromFile(file: string, sets: string[]): Plan {
  const v = validateRecipeFile(file, { sets });
  if (v.issues.length === 0 && v.plan) return v.plan;
  if (v.issues.length === 1) {
    const i = v.issues[0]!;
    throw new PeftError('SCHEMA', [i.path, i.message].filter((p) => p !== '').join('  '), {
      where: i.where, hint: i.hint ?? 'peft validate checks recipes without running them',
    });
  }
  for (const i of v.issues) process.stderr.write(chalk.red('error: ') + issueLine(i) + '\n');
  throw new PeftError('SCHEMA', `${v.file} is not a valid recipe (${v.issues.length} errors)`, {
    hint: 'fix the errors above; peft validate checks recipes without running them',
  });
}
