// One training run, start to end: compile the plan, read the data, evaluate before, train,
// evaluate after, sample, and write the run directory. The CLI only renders the events.
import * as tf from '@tensorflow/tfjs-core';
import type { Plan } from '../../plan/index.js';
import { openSession, type Session } from '../session.js';
import { buildData, type SplitStats } from '../data/build.js';
import { checkData } from '../data/preflight.js';
import type { ScanResult } from '../data/types.js';
import { trainLoop, type TrainCallbacks, type TrainResult } from './loop.js';
import { evaluate, type EvalResult } from '../infer/evaluate.js';
import { generateText, generateOptionsFromPlan } from '../generate/index.js';
import { RunDir } from './run-dir.js';
import type { BackendInfo } from '../backend/index.js';

export interface RunEvents extends TrainCallbacks {
  onBackend?(b: BackendInfo): void;
  onSession?(s: Session, runDir: string): void;
  /** The pre-flight scan of the data passed (before the model is built). */
  onScan?(scans: Partial<Record<string, ScanResult>>): void;
  onData?(stats: Record<string, SplitStats>): void;
  onEvalBefore?(r: EvalResult): void;
  onEvalAfter?(r: EvalResult): void;
  onSample?(prompt: string, text: string): void;
  onWarning?(message: string): void;
}

export interface RunOptions {
  backend?: string;
  /** Resume this run directory; the plan given must be the one it recorded (RunDir.readPlan). */
  resumeDir?: string;
}

export interface RunSummary {
  run_dir: string;
  name: string;
  backend: string;
  threads: number;
  total_params: number;
  trainable_params: number;
  trainable_percent: number;
  steps: number;
  wall_time_s: number;
  tokens_seen: number;
  before: Record<string, number> | null;
  after: Record<string, number> | null;
  best: TrainResult['best'];
  final_train_loss: number;
  stopped_early: boolean;
  sample: { prompt: string; text: string } | null;
  /** Examples, tokens and skipped bad rows per split. */
  data: Record<string, SplitStats>;
  adapter_dir: string;
  last_checkpoint: string | null;
  resumed_from: string | null;
}

export async function runTraining(planIn: Plan, opts: RunOptions, ev: RunEvents = {}): Promise<RunSummary> {
  const wall = Date.now();
  const existing = opts.resumeDir ? RunDir.open(opts.resumeDir) : null;
  const plan = planIn;
  // checks before compute: bad data stops here, before a run directory or a model exists
  const scans = await checkData(plan);
  ev.onScan?.(scans);
  const run = existing ?? RunDir.create(plan.output.dir, plan.name);
  if (!existing) run.writePlan(plan);
  const s = await openSession(plan, { backend: opts.backend });
  ev.onBackend?.(s.backend);
  if (s.load.initialized.length) ev.onWarning?.(`initialised from the seed (not in the checkpoint): ${s.load.initialized.join(', ')}`);
  ev.onSession?.(s, run.path);
  const data = await buildData(plan, s.tokenizer, { model: { config: s.model.config, dir: s.modelDir }, scans });
  ev.onData?.(data.stats);
  const before = data.validation ? evaluate(s, data.validation.byLength()) : null;
  if (before) {
    ev.onEvalBefore?.(before);
    run.appendMetrics({ type: 'eval', step: 0, phase: 'before', ...before.metrics, examples: before.examples });
  }
  let resumedFrom: string | null = null;
  const result = await trainLoop(s, data, run, {
    ...ev,
    onStart: (info) => {
      resumedFrom = info.resumedFrom;
      ev.onStart?.(info);
    },
  }, Boolean(opts.resumeDir));
  const after = data.validation ? evaluate(s, data.validation.byLength()) : null;
  if (after) {
    ev.onEvalAfter?.(after);
    run.appendMetrics({ type: 'eval', step: result.steps, phase: 'after', ...after.metrics, examples: after.examples });
  }
  let sample: RunSummary['sample'] = null;
  if (plan.generate && s.tokenizer && (plan.task.type === 'causal-lm' || plan.task.type === 'seq2seq')) {
    const [text] = generateText(s, [plan.generate.prompt], generateOptionsFromPlan(plan.generate, plan.seed));
    sample = { prompt: plan.generate.prompt, text };
    ev.onSample?.(plan.generate.prompt, text);
  }
  const summary: RunSummary = {
    run_dir: run.path,
    name: plan.name,
    backend: s.backend.name,
    threads: s.backend.threads,
    total_params: s.totalParams,
    trainable_params: s.trainableParams,
    trainable_percent: (100 * s.trainableParams) / s.totalParams,
    steps: result.steps,
    wall_time_s: (Date.now() - wall) / 1000,
    tokens_seen: result.tokensSeen,
    before: before?.metrics ?? null,
    after: after?.metrics ?? null,
    best: result.best,
    final_train_loss: result.finalLoss,
    stopped_early: result.stoppedEarly,
    sample,
    data: data.stats,
    adapter_dir: run.adapterDir,
    last_checkpoint: result.lastCheckpoint,
    resumed_from: resumedFrom,
  };
  run.writeSummary(summary as unknown as Record<string, unknown>);
  tf.disposeVariables();
  return summary;
}
