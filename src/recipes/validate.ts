// Checking recipes: the JSON Schema (ajv, compiled once on first use), then, for a recipe the
// schema accepts, the planner's semantic checks. Every problem of a file becomes a RecipeIssue,
// including load and extends errors, so one run reports everything wrong with every file.
import AjvModule from 'ajv';
import type { ValidateFunction } from 'ajv';
import { PeftError } from '../errors.js';
import { issuesFromAjv } from './issues.js';
import { parseSets } from './overrides.js';
import { planRecipe } from './plan.js';
import { resolveRecipeWith } from './resolve.js';
import type { SourcedRecipe } from './resolve.js';
import { recipeSchema } from './schema.js';
import { displayPath } from './source.js';
import type { RecipeIssue, ResolvedRecipe } from './types.js';
import type { Plan } from '../plan/index.js';

// ajv is CommonJS: under NodeNext its class is the module's `default` property.
const Ajv = AjvModule.default;

let compiled: ValidateFunction | null = null;

function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' }); // an annotation for messages
    compiled = ajv.compile(recipeSchema());
  }
  return compiled;
}

/** Codes of errors that belong to one recipe file (reported as its issues, not thrown). */
const FILE_CODES = new Set(['YAML', 'EXTENDS', 'FILE', 'FORMAT', 'RECIPE', 'SCHEMA']);

function hasLocateKey(r: ResolvedRecipe): r is SourcedRecipe {
  return typeof (r as Partial<SourcedRecipe>).locateKey === 'function';
}

/** `file:12:5` → sortable parts (files in chain order; `--set …` last). */
function sortKey(where: string, chain: string[]): [number, number, number] {
  const m = /^(.*):(\d+):(\d+)$/.exec(where);
  if (!m) return [Number.MAX_SAFE_INTEGER, 0, 0];
  const rank = chain.indexOf(m[1]!);
  return [rank < 0 ? chain.length : rank, Number(m[2]), Number(m[3])];
}

/** Schema problems of a resolved recipe, in document order (empty when it conforms). */
export function checkRecipe(r: ResolvedRecipe): RecipeIssue[] {
  const validate = validator();
  if (validate(r.doc)) return [];
  const issues = issuesFromAjv(validate.errors ?? [], {
    recipe: r,
    schema: recipeSchema(),
    locateKey: hasLocateKey(r) ? r.locateKey : r.locate,
  });
  const chain = r.chain.map(displayPath);
  const keyed = issues.map((issue, i) => ({ issue, key: [...sortKey(issue.where, chain), i] }));
  keyed.sort((a, b) => {
    for (let k = 0; k < a.key.length; k++) if (a.key[k] !== b.key[k]) return a.key[k]! - b.key[k]!;
    return 0;
  });
  return keyed.map((k) => k.issue);
}

/** A PeftError of a file as an issue. */
export function issueFromError(e: PeftError, file: string): RecipeIssue {
  return { where: e.where ?? displayPath(file), path: '', message: e.message, hint: e.hintText };
}

export interface FileValidation {
  /** The file as given, relative to the working directory when inside it. */
  file: string;
  issues: RecipeIssue[];
  /** The resolved recipe, or null when it could not be loaded or resolved. */
  resolved: ResolvedRecipe | null;
  /** The plan, when the recipe has no issue (planned once, here). */
  plan: Plan | null;
}

/**
 * Load → resolve → schema → (if the schema passed) planner checks, for one file. Problems of
 * the file are returned as issues; a malformed --set throws PeftError('USAGE').
 */
export function validateRecipeFile(file: string, opts: { sets?: readonly string[] } = {}): FileValidation {
  const sets = parseSets(opts.sets ?? []);
  const shown = displayPath(file);
  let resolved: SourcedRecipe;
  try {
    resolved = resolveRecipeWith(file, sets);
  } catch (e) {
    if (e instanceof PeftError && FILE_CODES.has(e.code)) return { file: shown, issues: [issueFromError(e, file)], resolved: null, plan: null };
    throw e;
  }
  const issues = checkRecipe(resolved);
  let plan: Plan | null = null;
  if (issues.length === 0) {
    try {
      const planned = planRecipe(resolved);
      issues.push(...planned.issues);
      plan = planned.plan;
    } catch (e) {
      if (e instanceof PeftError && FILE_CODES.has(e.code)) issues.push(issueFromError(e, file));
      else throw e;
    }
  }
  return { file: shown, issues, resolved, plan };
}
