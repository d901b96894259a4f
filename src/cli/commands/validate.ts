import { asList, type Command } from '../command.js';
import type { Output } from '../output.js';
import { displayPath, expandRecipePatterns, parseSets, validateRecipeFile } from '../../recipes/index.js';
import type { RecipeIssue } from '../../recipes/index.js';
import { issueLine } from '../issue-line.js';

type Format = 'text' | 'json' | 'github';

interface ValidateArgs {
  files: string[];
  set?: string | string[];
  format?: Format;
}

interface FileReport {
  file: string;
  valid: boolean;
  issues: RecipeIssue[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `file:12:5  method.rank  must be … (hint: …)` */
function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** A GitHub Actions workflow command that annotates the place of the issue. */
export function githubAnnotation(i: RecipeIssue, file: string): string {
  const m = /^(.*):(\d+):(\d+)$/.exec(i.where);
  const props = m ? `file=${escapeProperty(m[1]!)},line=${m[2]},col=${m[3]}` : `file=${escapeProperty(file)}`;
  const origin = m || i.where === '' ? '' : ` (from ${i.where})`;
  const text = [i.path, i.message].filter((p) => p !== '').join(' ') + origin + (i.hint ? ` (hint: ${i.hint})` : '');
  return `::error ${props}::${escapeData(text)}`;
}

function summary(reports: FileReport[], unmatched: string[]): string {
  const invalid = reports.filter((r) => !r.valid).length;
  const errors = reports.reduce((n, r) => n + r.issues.length, 0);
  const parts = [`${plural(reports.length, 'file')} checked`, `${invalid} invalid`, plural(errors, 'error')];
  if (unmatched.length > 0) parts.push(`${plural(unmatched.length, 'pattern')} matched nothing`);
  return parts.join(', ');
}

function print(format: Format, reports: FileReport[], unmatched: string[], out: Output): void {
  const ok = unmatched.length === 0 && reports.every((r) => r.valid);
  if (format === 'json') {
    const doc = { ok, files: reports, ...(unmatched.length > 0 ? { unmatched } : {}) };
    if (out.json) out.result(doc);
    else process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    process.stderr.write(summary(reports, unmatched) + '\n');
    return;
  }
  const lines: string[] = [];
  for (const p of unmatched) {
    lines.push(format === 'github' ? `::error::${escapeData(`no files match ${p}`)}` : `${p}  no files match`);
  }
  for (const r of reports) {
    for (const i of r.issues) lines.push(format === 'github' ? githubAnnotation(i, r.file) : issueLine(i));
  }
  if (lines.length > 0) process.stdout.write(lines.join('\n') + '\n');
  out.info(summary(reports, unmatched));
}

export const validateCommand: Command<ValidateArgs> = {
  command: 'validate <files..>',
  describe: 'check recipes (files, directories or globs) against the schema and the planner',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, describe: 'recipe files, directories, or quoted globs (configs/**/*.yaml)' })
      .option('set', { type: 'string', describe: 'override a value in every recipe: --set key.path=value (repeatable)' })
      .option('format', { choices: ['text', 'json', 'github'] as const, default: 'text' as const, describe: 'output: text lines, one JSON document, or GitHub Actions annotations' })
      .example('$0 validate configs/quickstart.yaml', 'check one recipe')
      .example("$0 validate 'configs/**/*.yaml' --format github", 'check every recipe in CI'),
  async run(args, out) {
    const format: Format = args.json ? 'json' : (args.format ?? 'text');
    const setTexts = asList(args.set);
    parseSets(setTexts); // a malformed --set is a usage error before any file is read
    const patterns = args.files ?? [];
    if (patterns.length === 0) return 2; // yargs has already reported the missing argument
    const { files, unmatched } = expandRecipePatterns(patterns);
    const reports: FileReport[] = files.map((f) => {
      const v = validateRecipeFile(f, { sets: setTexts });
      return { file: displayPath(f), valid: v.issues.length === 0, issues: v.issues };
    });
    print(format, reports, unmatched, out);
    return unmatched.length === 0 && reports.every((r) => r.valid) ? 0 : 2;
  },
};
