// The public face of src/recipes: everything before the plan (load, resolve, validate) and
// the planner's entry point. Nothing here touches tensors or imports src/engine. The plan
// contract (src/plan) is re-exported, so the CLI needs this entry and the engine's only.
export * from './types.js';
export * from '../plan/index.js';
export { planRecipe } from './plan.js';
export type { PlanResult } from './plan.js';
export { loadRecipeFile, parseRecipeText, readRecipeText } from './load.js';
export { resolveRecipe, resolveRecipeWith, mergeTrees } from './resolve.js';
export type { ResolveOptions, SourcedRecipe } from './resolve.js';
export { parseSet, parseSets } from './overrides.js';
export type { SetOverride } from './overrides.js';
export { checkRecipe, validateRecipeFile, issueFromError } from './validate.js';
export type { FileValidation } from './validate.js';
export { recipeSchema, recipeSchemaPath, recipeSchemaText, schemaAt } from './schema.js';
export type { SchemaNode } from './schema.js';
export { expandRecipePatterns, globFiles } from './files.js';
export type { ExpandedPatterns } from './files.js';
export { displayPath, dottedPath } from './source.js';
export { planSweep, checkSweepKey, setArg } from './sweep.js';
export type { SweepRequest } from './sweep.js';
export { parseGridArg, splitTopLevel, expandSpace, readSpaceFile } from './sweep-space.js';
export type { Distribution, SearchSpace } from './sweep-space.js';
export { planReproduction, loadPaper, listPapers, scaleRecipes, papersDir } from './reproduce.js';
export type { Scale } from './reproduce.js';
