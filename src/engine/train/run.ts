// One training run, start to end: compile the plan, read the data, evaluate before, train,
// evaluate after, sample, and write the run directory. The CLI only renders the events.
import * as tf from '@tensorflow/tfjs-core';
import type { Plan } from '../../plan/index.js';
import { openSession, type Session } from '../session.js';
import { buildData, type SplitStats } from '../data/build.js';
import { StreamingBatcher } from '../data/streaming-batcher.js';
import { checkData } from '../data/preflight.js';
import type { ScanResult } from '../data/types.js';
import { totalStepsOf, trainLoop, type TrainCallbacks, type TrainResult } from './loop.js';
import { calibrate } from './calibrate.js';
import { PeftError } from '../../errors.js';
import { evaluate, type EvalResult } from '../infer/evaluate.js';
import { generateText, generateOptionsFromPlan } from '../generate/index.js';
import { RunDir } from './run-dir.js';
import { releaseCachedBuffers, type BackendInfo } from '../backend/index.js';
import { prepareSelection, type SelectionSummary } from '../selection/index.js';
import { listCheckpoints, readTrainerState } from './checkpoint.js';
import { writeRunFigure } from '../report/index.js';
import { applyStepLaw, type StepLawResult } from './step-law.js';

export interface RunEvents extends TrainCallbacks {
  onBackend?(b: BackendInfo): void;
  onSession?(s: Session, runDir: string): void;
  /** The pre-flight scan of the data passed (before the model is built). */
  onScan?(scans: Partial<Record<string, ScanResult>>): void;
  onData?(stats: Record<string, SplitStats>): void;
  /** The selection is ready (chosen, measured on data, or restored from the checkpoint). */
  onSelection?(summary: SelectionSummary): void;
  onEvalBefore?(r: EvalResult): void;
  onEvalAfter?(r: EvalResult): void;
  onSample?(prompt: string, text: string): void;
  onWarning?(message: string): void;
  /** A stream: a stage's phase starts. */
  onStage?(info: { stage: number; stages: number; task: string; phase: string }): void;
  /** A stream: a task's evaluation after a stage. */
  onStreamEval?(stage: number, task: string, metrics: Record<string, number>): void;
  /** `lr: auto` / `batch_size: auto` computed (before training starts). */
  onStepLaw?(r: Omit<StepLawResult, 'plan'>): void;
}

export interface RunOptions {
  backend?: string;
  /** Resume this run directory; the plan given must be the one it recorded (RunDir.readPlan). */
  resumeDir?: string;
  /** Start the run in exactly this directory (a sweep's trial) instead of <output>/<name>/<stamp>. */
  runDir?: string;
  /** Leave loss.svg / loss.png in the run directory (default true). */
  figure?: boolean;
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
  /** The Step Law's inputs and outputs when the recipe asked for auto values. */
  step_law?: Omit<StepLawResult, 'plan'>;
}

/** Most optimizer steps a run may take (days of training on any machine this runs on). */
export const MAX_STEPS = 10_000_000;

export async function runTraining(planIn: Plan, opts: RunOptions, ev: RunEvents = {}): Promise<RunSummary> {
  // several tasks: jointly (multitask/run.ts), or one after another (continual/run-stream.ts)
  if (planIn.stream) return (await import('../continual/run-stream.js')).runStream(planIn, opts, ev);
  if (planIn.tasks) return (await import('../multitask/run.js')).runMultiTask(planIn, opts, ev);
  const wall = Date.now();
  const existing = opts.resumeDir ? RunDir.open(opts.resumeDir) : null;
  let plan = planIn;
  const stopIfInterrupted = () => {
    if (!ev.shouldStop?.()) return;
    throw new PeftError('INTERRUPTED', 'interrupted before training started; nothing to save', {
      where: existing?.path ?? plan.name,
      hint: existing ? `the run is unchanged: peft train --resume ${existing.path}` : 'start it again when you are ready',
    });
  };
  // checks before compute: bad data stops here, before a run directory or a model exists
  const scans = await checkData(plan);
  ev.onScan?.(scans);
  stopIfInterrupted();
  if (existing) {
    const swept = existing.sweepTemporaries();
    if (swept.length > 0) ev.onWarning?.(`removed ${swept.length} temporary file${swept.length === 1 ? '' : 's'} left by an interrupted write (${swept[0]}${swept.length > 1 ? ', …' : ''})`);
  }
  const run = existing ?? (opts.runDir ? RunDir.at(opts.runDir) : RunDir.create(plan.output.dir, plan.name));
  let trained = false;
  let stopStream = async (): Promise<void> => {};
  try {
    if (!existing) run.writePlan(plan);
    const s = await openSession(plan, { backend: opts.backend });
    ev.onBackend?.(s.backend);
    if (s.load.initialized.length) ev.onWarning?.(`initialised from the seed (not in the checkpoint): ${s.load.initialized.join(', ')}`);
    ev.onSession?.(s, run.path);
    // auto batch size: read the data with a provisional one, then batch it as the law says
    const provisional = plan.stepLaw ? { ...plan, training: { ...plan.training, batchSize: 1 } } : plan;
    // a large training split is trained while it is read, unless something reads all of it before step 1
    const stream = !plan.stepLaw && !s.peft.calibration && !s.peft.selection?.needsData;
    const data = await buildData(provisional, s.tokenizer, { model: { config: s.model.config, dir: s.modelDir }, scans, stream });
    stopStream = async () => {
      if (data.train instanceof StreamingBatcher) await data.train.stop();
    };
    ev.onData?.(data.stats);
    let stepLaw: Omit<StepLawResult, 'plan'> | undefined;
    if (plan.stepLaw) {
      const { plan: resolved, ...law } = applyStepLaw(plan, s.model, data.stats.train!);
      stepLaw = law;
      plan = resolved;
      s.plan = resolved;
      data.train = data.train.withBatchSize(resolved.training.batchSize);
      run.writePlan(resolved); // a resume reads the computed values, never recomputes them
      run.appendMetrics({ type: 'step_law', ...law });
      ev.onStepLaw?.(law);
    }
    const calibrated = calibrate(s, data.train);
    if (calibrated > 0) ev.onWarning?.(`initialised from ${calibrated} training examples (${s.plan.method.modules.filter((m) => m.options.init === 'corda').map((m) => m.name).join(', ')}: CorDA)`);
    const total = totalStepsOf(s, data.train);
    if (total > MAX_STEPS) {
      throw new PeftError('RECIPE', `the run would take ${total.toLocaleString('en-US')} optimizer steps (at most ${MAX_STEPS.toLocaleString('en-US')})`, {
        where: plan.recipePath ?? run.path,
        hint: 'lower training.epochs or training.max_steps, or raise training.batch_size',
      });
    }
    // the selection's layout: the checkpoint's when resuming, else chosen now (sensitivity measures data)
    const selection = prepareSelection(s, () => data.train.sequential(), existing && s.peft.selection ? savedLayout(run) : null);
    if (selection) ev.onSelection?.(selection);
    stopIfInterrupted();
    const before = data.validation ? evaluate(s, data.validation.byLength()) : null;
    if (before) {
      ev.onEvalBefore?.(before);
      run.appendMetrics({ type: 'eval', step: 0, phase: 'before', ...before.metrics, examples: before.examples });
    }
    stopIfInterrupted();
    let resumedFrom: string | null = null;
    const result = await trainLoop(s, data, run, {
      ...ev,
      onStart: (info) => {
        trained = true;
        resumedFrom = info.resumedFrom;
        ev.onStart?.(info);
      },
    }, Boolean(opts.resumeDir));
    await stopStream();
    return await finish(plan, s, data, run, { result, before, resumedFrom, wall, stepLaw, figure: opts.figure !== false }, ev);
  } catch (e) {
    await stopStream();
    // a new run that failed before it trained holds nothing: leave no directory that --resume would pick
    if (!existing && !trained && !run.hasCheckpoint() && !run.hasAdapter()) run.remove();
    throw e;
  }
}

/**
 * The selection layout a resumed run continues with: the newest checkpoint whose trainer state
 * reads (a damaged newer one is skipped, as the training loop's resume skips it).
 */
function savedLayout(run: RunDir): { dir: string; layout: ReturnType<typeof readTrainerState>['selection'] } | null {
  for (const cp of listCheckpoints(run.checkpointsDir).reverse()) {
    try {
      return { dir: cp.path, layout: readTrainerState(cp.path).selection };
    } catch {
      // damaged: the previous one
    }
  }
  return null;
}

interface Trained {
  result: TrainResult;
  before: EvalResult | null;
  resumedFrom: string | null;
  wall: number;
  stepLaw?: Omit<StepLawResult, 'plan'>;
  /** Draw loss.svg / loss.png into the run directory. */
  figure: boolean;
}

/** After training: evaluate, sample, and write the summary. */
async function finish(plan: Plan, s: Session, data: Awaited<ReturnType<typeof buildData>>, run: RunDir, t: Trained, ev: RunEvents): Promise<RunSummary> {
  const { result, before, resumedFrom, wall, stepLaw } = t;
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
    ...summaryOf(plan, s, run, { result, before, after, resumedFrom, wall }),
    sample,
    data: data.stats,
    ...(stepLaw ? { step_law: stepLaw } : {}),
  };
  run.writeSummary(summary as unknown as Record<string, unknown>);
  tf.disposeVariables();
  releaseCachedBuffers(); // the figure's renderer loads now: not on top of a training step's idle buffers
  if (t.figure) {
    try {
      await writeRunFigure(run.path);
    } catch (e) {
      ev.onWarning?.(`no loss figure drawn (${(e as Error).message})`);
    }
  }
  return summary;
}

/** What summary.json says of the run itself, whatever kind of run it is (one task, several, a stream). */
export function runFields(plan: Plan, s: Session, run: RunDir): Pick<RunSummary, 'run_dir' | 'name' | 'backend' | 'threads' | 'total_params' | 'trainable_params' | 'trainable_percent'> {
  return {
    run_dir: run.path,
    name: plan.name,
    backend: s.backend.name,
    threads: s.backend.threads,
    total_params: s.totalParams,
    trainable_params: s.trainableParams,
    trainable_percent: (100 * s.trainableParams) / s.totalParams,
  };
}

/** The fields of summary.json every trained run shares (a single task's, several tasks'). */
export function summaryOf(
  plan: Plan, s: Session, run: RunDir,
  t: { result: TrainResult; before: EvalResult | null; after: EvalResult | null; resumedFrom: string | null; wall: number },
): Omit<RunSummary, 'sample' | 'data' | 'step_law'> {
  return {
    ...runFields(plan, s, run),
    steps: t.result.steps,
    wall_time_s: (Date.now() - t.wall) / 1000,
    tokens_seen: t.result.tokensSeen,
    before: t.before?.metrics ?? null,
    after: t.after?.metrics ?? null,
    best: t.result.best,
    final_train_loss: t.result.finalLoss,
    stopped_early: t.result.stoppedEarly,
    adapter_dir: run.adapterDir,
    last_checkpoint: t.result.lastCheckpoint,
    resumed_from: t.resumedFrom,
  };
}
