// Types of the recipe stage (documents, their sources, the problems found in them). The Plan the
// stage produces is the plan contract's (src/plan/types.ts).

/** A parsed-and-merged recipe document, before planning (shape of schemas/recipe.schema.json). */
export type RecipeDoc = Record<string, unknown>;

export type { DocPath } from '../plan/index.js';
import type { DocPath } from '../plan/index.js';

/** A recipe after load + `extends` + `--set`, with the source position of every value. */
export interface ResolvedRecipe {
  /** The merged document. */
  doc: RecipeDoc;
  /** Absolute path of the recipe named on the command line. */
  file: string;
  /** Every file read, the named recipe first, then what it extends (depth-first). */
  chain: string[];
  /**
   * Where the value at `path` came from: `file:line:col` of its node in the file that won the
   * merge (or the nearest ancestor that has a node), or `--set a.b=c` for an override.
   */
  locate(path: DocPath): string;
  /** Absolute directory against which a relative path found at `path` resolves (its file's dir). */
  baseDir(path: DocPath): string;
}

/** One problem found in a recipe, by the schema or by the planner. */
export interface RecipeIssue {
  /** `file:line:col` (or `--set …`). */
  where: string;
  /** Dotted JSON path: `method.rank`, `data.train.path`, or '' for the document. */
  path: string;
  /** What was expected, and what was found: `must be integer ≥ 1 (got "eight")`. */
  message: string;
  /** What to do about it (every issue has one). */
  hint: string;
}
