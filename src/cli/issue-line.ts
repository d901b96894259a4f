import type { RecipeIssue } from '../recipes/index.js';

/** `file:line:col  path  message (hint: …)` on one line. */
export function issueLine(i: RecipeIssue): string {
  const parts = [i.where, i.path, i.message + (i.hint ? ` (hint: ${i.hint})` : '')].filter((p) => p !== '');
  return parts.join('  ').replace(/\s*\n\s*/g, ' ');
}
