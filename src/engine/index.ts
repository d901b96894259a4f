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
export type { MergeRunResult } from './merge/run.js';
export { inspectBackbone, inspectPlan } from './inspect.js';
export type { BackboneReport, InspectReport, ModuleReport } from './inspect.js';
export { paperPercentText } from './paper-budget.js';
export { convertLlama2c } from './io/llama2c.js';
export { summarizeBadRows } from './data/policy.js';
export type { BackendInfo } from './backend/index.js';
export type { StepRecord } from './train/loop.js';
export { runSweep, evaluationTrial } from './sweep/local.js';
export type { SweepEvents, SweepOptions, SweepResult } from './sweep/local.js';
export type { ChildMessage, TrialOutcome } from './sweep/run-trial.js';
export { trialCounts, prepareSweepDir } from './sweep/prepare.js';
export { writeResults } from './sweep/results.js';
export type { SweepRow } from './sweep/results.js';
export { readSweepFile, peftVersion } from './sweep/sweep-file.js';
export { trialState } from './sweep/trial-state.js';
export { writeReport, writeReportFor, writeRunFigure, collectRuns, reportRows, fmtMetric } from './report/index.js';
export type { ReportResult, ReportRow, RunRecord } from './report/index.js';
export { syncQueueSweep, sweepEnded, sweepFailed, JOB_ATTEMPTS } from './sweep/queue.js';
export type { QueueSweep, TrialStatus, TrialJobData } from './sweep/queue.js';
export { startWorker } from './sweep/worker.js';
export type { WorkerOptions, WorkerEvents, RunningWorker } from './sweep/worker.js';
export { pingQueue } from './sweep/redis.js';
export { comparePaper, methodResults, testFindings } from './report/paper.js';
export type { PaperComparison, FindingResult, MethodResult } from './report/paper.js';
export { hasWeights } from './sweep/weights.js';
