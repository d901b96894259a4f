// The plan contract: what recipes produce and the engine consumes, and the facts both sides
// share — the Plan types, the position vocabulary, the family catalog, the function table, the
// presets and the method compiler. Imports neither src/recipes nor src/engine.
export * from './types.js';
export * from './functions/index.js';
export {
  ATTN_ROLES, FFN_ROLES, OTHER_POSITIONS, USER_POSITIONS, parsePosition, positionMatches, positionKind, functionMisfit, resolveLayers,
} from './positions.js';
export type { ParsedPosition } from './positions.js';
export { CATALOG, catalogEntry, familyInfo, positionAbsence } from './families.js';
export type { FamilyInfo } from './families.js';
export { PRESETS, PRESET_NAMES, findPreset } from './presets.js';
export type { Preset, ModuleSpec, SelectSpec } from './presets.js';
export { compileMethod, compileModule, completeModule, moduleFromWords, parseLayers, DIMENSION_KEYS, MODULE_KEYS } from './compile-method.js';
export { compileSelect, parseBudget, budgetText, SELECT_KEYS, SELECT_DIMENSIONS } from './compile-select.js';
export { CRITERIA, CRITERION_NAMES, SELECT_OPTIONS, PROJECTIONS, criterionSpec } from './selection/index.js';
export type { CriterionSpec, Reselect, GradientDropout } from './selection/index.js';
export type { MethodContext, Report } from './compile-method.js';
export { findModelDir, readBackboneConfig } from './model-dir.js';
export { planShapeProblem } from './plan-check.js';
export { readModelSizes, siteDims } from './model-config.js';
export type { ModelSizes, ConfigProblem } from './model-config.js';
export { sizeProblems, MAX_WIDTH_FACTOR } from './size-checks.js';
export { isLayersModelDir, layersModelConfig, kerasModelConfig, LAYERS_MODEL_TYPE, WEIGHT_LAYER_CLASSES } from './layers-model.js';
export type { ModelDirLookup } from './model-dir.js';
export { withMethodParts, optionSchemas, moduleKeys } from './schema-parts.js';
export { suggest, editDistance } from './suggest.js';
export { describePlan, moduleText, functionText, layersText, selectText } from './describe.js';
export { overrideText, shortKeys } from './sweep.js';
export type { SweepPlan, SweepSelect, TrialOverride, TrialPlan } from './sweep.js';
export type { PaperManifest, PaperFinding, PaperTableRow, SmallScale } from './paper.js';
