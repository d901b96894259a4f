// The engine's one entry: what the CLI (and any program embedding peft) may call. Everything
// after the plan — compile, train, evaluate, predict, merge, inspect, convert — starts here; the
// CLI imports this file lazily, so commands that need no tensors (validate, methods, schema)
// never load TensorFlow.js.
export { runTraining } from './train/run.js';
export type { RunEvents, RunOptions, RunSummary } from './train/run.js';
export { RunDir } from './train/run-dir.js';
export { resolveRunTarget, withOnError } from './infer/target.js';
export type { RunTarget, TargetOptions } from './infer/target.js';
export { evaluateRun } from './infer/evaluate-run.js';
export type { EvaluateRunOptions, EvaluateRunEvents, EvaluateRunResult } from './infer/evaluate-run.js';
export { predictRun } from './infer/predict-run.js';
export type { PredictRunOptions, PredictRunEvents } from './infer/predict-run.js';
export { mergeRun } from './merge/run.js';
export { adaptTest, checkMethod as checkTtaMethod, TTA_METHODS } from './adapt/index.js';
export type { AdaptTestOptions, AdaptTestEvents, AdaptTestResult, TtaMode } from './adapt/index.js';
export type { MergeRunResult } from './merge/run.js';
export { inspectBackbone, inspectPlan } from './inspect.js';
export type { BackboneReport, InspectReport, ModuleReport } from './inspect.js';
export { paperPercentText } from './paper-budget.js';
export { convertLlama2c } from './io/llama2c.js';
export { summarizeBadRows } from './data/policy.js';
export type { BackendInfo } from './backend/index.js';
export type { StepRecord } from './train/loop.js';
