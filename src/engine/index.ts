// The engine's one entry: what the CLI (and any program embedding peft) may call. Everything
// after the plan — compile, train, evaluate, predict, merge, inspect, convert — starts here; the
// CLI imports this file lazily, so commands that need no tensors (validate, methods, schema)
// never load TensorFlow.js.
export { runTraining } from './train/run.js';
export type { RunEvents, RunOptions, RunSummary } from './train/run.js';
export type { StageInfo, StreamEvents, StreamSummary } from './continual/run-stream.js';
export type { MultiTaskSummary } from './multitask/run.js';
export { RunDir } from './train/run-dir.js';
export { resolveRunTarget, withOnError } from './infer/target.js';
export type { RunTarget, TargetOptions, MixOptions } from './infer/target.js';
export { evaluateRun } from './infer/evaluate-run.js';
export type { EvaluateRunOptions, EvaluateRunEvents, EvaluateRunResult } from './infer/evaluate-run.js';
export { predictRun } from './infer/predict-run.js';
export type { PredictRunOptions, PredictRunEvents } from './infer/predict-run.js';
export { mergeRun } from './merge/run.js';
export type { MergeRunResult } from './merge/run.js';
export { combineRun, baseOfRun, baseFromInputs } from './merge/combine-run.js';
export type { CombineRunOptions, CombineRunResult, MergeBase } from './merge/combine-run.js';
export { COMBINE_METHODS } from './merge/combine.js';
export { compressAdapter, adapterDirOfInput } from './adapters/compress/compress-adapter.js';
export type { CompressResult } from './adapters/compress/compress-adapter.js';
export type { CompressScheme } from './adapters/compress/packed-file.js';
export type { CombineMethod } from './merge/combine.js';
export { inspectBackbone, inspectPlan } from './inspect.js';
export { inspectAdapter, adapterDirOf } from './inspect-adapter.js';
export type { AdapterReport, SelectedWeightReport } from './inspect-adapter.js';
export type { BackboneReport, InspectReport, ModuleReport } from './inspect.js';
export { paperPercentText } from './paper-budget.js';
export { convertLlama2c } from './io/llama2c.js';
export { summarizeBadRows } from './data/policy.js';
export type { BackendInfo } from './backend/index.js';
export type { StepRecord } from './train/loop.js';
