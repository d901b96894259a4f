// Optimizers, learning-rate schedules, gradient clipping and accumulation for the training loop.
export type { Optimizer, OptimizerName, OptimizerState, ParamGroupSpec, ParamState, TensorData } from './optimizer.js';
export { BaseOptimizer, type UpdateContext, type UpdateResult } from './base.js';
export { nameMatcher, resolveGroups, unusedGroups, type ResolvedGroup } from './groups.js';
export { Adam, adamMove, type AdamOptions } from './adam.js';
export { AdamW, type AdamWOptions } from './adamw.js';
export { Sgd, type SgdOptions } from './sgd.js';
export { Lion, type LionOptions } from './lion.js';
export { createOptimizer } from './create.js';
export { splitOptimizerState, joinOptimizerState, type OptimizerStateMeta } from './state.js';
export { lrAt, lrFactor, warmupStepsOf } from './schedule.js';
export { clipGradNorm, globalGradNorm, divergedError, type ClipResult } from './clip.js';
export { GradAccumulator } from './accumulate.js';
