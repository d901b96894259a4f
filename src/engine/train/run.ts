// One training run, start to end: compile the plan, read the data, evaluate before, train,
// evaluate after, sample, and write the run directory. The CLI only renders the events.
import * as tf from '@tensorflow/tfjs-core';
import type { Plan } from '../../recipes/types.js';
import { openSession, type Session } from '../session.js';
import { buildData } from '../data/build.js';
import { trainLoop, type TrainCallbacks, type TrainResult } from './loop.js';
import { evaluate, type EvalResult } from './evaluate.js';
import { generateText } from './generate.js';
import { RunDir } from './run-dir.js';
import type { BackendInfo } from '../backend/index.js';

export interface RunEvents extends TrainCallbacks {
  onBackend?(b: BackendInfo): void;
  onSession?(s: Session, runDir: string): void;
  onData?(stats: Record<string, { examples: number; tokens: number }>): void;
  onEvalBefore?(r: EvalResult): void;
  onEvalAfter?(r: EvalResult): void;
  onSample?(prompt: string, text: string): void;
  onWarning?(message: string): void;
}

export interface RunOptions {
  backend?: string;
  /** Resume this run directory (its plan is the one that runs). */
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
  adapter_dir: string;
  last_checkpoint: string | null;
  resumed_from: string | null;
}

export async function runTraining(planIn: Plan, opts: RunOptions, ev: RunEvents = {}): Promise<RunSummary> {
  const wall = Date.now();
  const run = opts.resumeDir ? RunDir.open(opts.resumeDir) : RunDir.create(planIn.output.dir, planIn.name);
  const plan = opts.resumeDir ? run.readPlan() : planIn;
  if (!opts.resumeDir) run.writePlan(plan);
  const s = await openSession(plan, { backend: opts.backend });
  ev.onBackend?.(s.backend);
  if (s.load.initialized.length) ev.onWarning?.(`initialised from the seed (not in the checkpoint): ${s.load.initialized.join(', ')}`);
  ev.onSession?.(s, run.path);
  const data = await buildData(plan, s.tokenizer);
  ev.onData?.(data.stats);
  const before = data.validation ? evaluate(s, data.validation.sequential()) : null;
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
  const after = data.validation ? evaluate(s, data.validation.sequential()) : null;
  if (after) {
    ev.onEvalAfter?.(after);
    run.appendMetrics({ type: 'eval', step: result.steps, phase: 'after', ...after.metrics, examples: after.examples });
  }
  let sample: RunSummary['sample'] = null;
  if (plan.generate && s.tokenizer && plan.task.type === 'causal-lm') {
    const g = generateText(s, plan.generate, plan.seed);
    sample = { prompt: plan.generate.prompt, text: g.text };
    ev.onSample?.(plan.generate.prompt, g.text);
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
    adapter_dir: run.adapterDir,
    last_checkpoint: result.lastCheckpoint,
    resumed_from: resumedFrom,
  };
  run.writeSummary(summary as unknown as Record<string, unknown>);
  tf.disposeVariables();
  return summary;
}
