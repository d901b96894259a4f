// The training loop, readable top to bottom: batches in seeded order, forward with the PEFT
// modules attached, loss, gradients of the trainable set only, accumulation, clipping, the
// optimizer step at the scheduled learning rate; logging, evaluation, the best adapter,
// checkpoints, early stopping, and the guards that stop a diverging run with its last good state.
import * as tf from '@tensorflow/tfjs-core';
import type { Session } from '../session.js';
import type { Batcher, DataCursor, Batch, TrainBatches } from '../data/batches.js';
import { createOptimizer, lrFactor, lrAt, clipGradNorm, GradAccumulator, type Optimizer } from './optim/index.js';
import { taskLoss } from './task-loss.js';
import { evaluate, metricValue, type EvalResult } from '../infer/evaluate.js';
import { isImprovement, METRICS } from '../metrics/index.js';
import { saveCheckpoint, loadLatestCheckpoint, type TrainerState } from './checkpoint.js';
import { saveAdapter } from '../adapters/index.js';
import type { RunDir } from './run-dir.js';
import { PeftError } from '../../errors.js';
import { hashString } from '../random.js';

export interface StepRecord {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  /** Exponentially smoothed loss (what the progress bar shows). */
  smoothLoss: number;
  lr: number;
  gradNorm: number;
  tokensPerSec: number;
  etaSec: number;
  elapsedSec: number;
}

export interface TrainCallbacks {
  onStart?(info: { totalSteps: number; startStep: number; examples: number; resumedFrom: string | null }): void;
  onStep?(rec: StepRecord): void;
  onEval?(step: number, result: EvalResult, best: boolean): void;
  onCheckpoint?(path: string, step: number): void;
  /** A step skipped by the loss-spike watchdog (action: skip). */
  onSpike?(step: number, loss: number, recentMean: number): void;
  /** Polled after every step: true stops the run cleanly (after a checkpoint). */
  shouldStop?(): boolean;
  /** Something the user must know (a damaged checkpoint skipped on resume). */
  onWarning?(message: string): void;
}

export interface TrainResult {
  steps: number;
  finalLoss: number;
  best: TrainerState['best'];
  elapsedSec: number;
  tokensSeen: number;
  stoppedEarly: boolean;
  lastCheckpoint: string | null;
}

export interface TrainData {
  train: TrainBatches;
  validation: Batcher | null;
  /** Evaluation in place of the validation split's (several tasks: each task's, and their mean). */
  evaluate?: () => EvalResult;
}

export function totalStepsOf(s: Session, train: TrainBatches): number {
  const t = s.plan.training;
  if (t.maxSteps !== null) return t.maxSteps;
  return Math.max(1, Math.ceil(((t.epochs ?? 1) * train.batchesPerEpoch) / t.gradAccum));
}

/** Dropout seed of micro-batch m of step n: from the recipe seed alone, so a resumed run draws the same masks. */
function stepSeed(seed: number, step: number, micro: number): number {
  return hashString(`${seed}:${step}:${micro}`);
}

/** Whether `value` beats `best` for the tracked metric: the recipe's mode if it set one, else the metric's own direction. */
function metricIsBetter(name: string, value: number, best: number | null, mode: 'min' | 'max' | null): boolean {
  if (mode === null || !Number.isFinite(value)) return isImprovement(METRICS[name] ? name : 'loss', value, best);
  if (best === null || Number.isNaN(best)) return true;
  return mode === 'min' ? value < best : value > best;
}

export async function trainLoop(s: Session, data: TrainData, run: RunDir, cb: TrainCallbacks = {}, resume = false): Promise<TrainResult> {
  const plan = s.plan;
  const t = plan.training;
  const totalSteps = totalStepsOf(s, data.train);
  const vars = new Map<string, tf.Variable>([...s.trainable.params].map(([n, p]) => [n, p.variable]));
  const nameOfVar = new Map([...vars].map(([n, v]) => [v.name, n]));
  const varList = [...vars.values()];
  const opt: Optimizer = createOptimizer(plan.optimizer, vars);
  const trackMetric = t.earlyStopping?.metric ?? plan.eval.metrics.find((m) => METRICS[m]) ?? 'loss';
  const trackMode = t.earlyStopping?.mode ?? null;

  let step = 0;
  let cursor: DataCursor = { epoch: 0, index: 0 };
  let best: TrainerState['best'] = null;
  let badEvals = 0;
  let tokensSeen = 0;
  let elapsedBefore = 0;
  let resumedFrom: string | null = null;
  let lastCheckpoint: string | null = null;
  if (resume) {
    const found = loadLatestCheckpoint(s, opt, run.checkpointsDir, { totalSteps, examples: data.train.size }, (m) => cb.onWarning?.(m));
    if (found) {
      ({ step, cursor, best, badEvals, tokensSeen } = found.state);
      elapsedBefore = found.state.elapsedMs;
      resumedFrom = found.path;
      lastCheckpoint = found.path;
    }
  }
  cb.onStart?.({ totalSteps, startStep: step, examples: data.train.size, resumedFrom });

  const started = Date.now();
  const elapsedMs = () => elapsedBefore + (Date.now() - started);
  let smooth: number | null = null;
  let windowLoss = 0;
  let windowSteps = 0;
  let windowTokens = 0;
  let windowStart = Date.now();
  let tps = 0;
  let lastLoss = NaN;
  let stoppedEarly = false;
  const recent: number[] = [];
  /** The first step's loss (of this process): a converged loss jumping 10× from 0.005 is no divergence. */
  let firstLoss: number | null = null;
  let skippedInRow = 0;
  const stateNow = (): Omit<TrainerState, 'optimizer'> => ({
    step, totalSteps, cursor, best, badEvals, tokensSeen, elapsedMs: elapsedMs(),
  });
  const checkpoint = () => {
    lastCheckpoint = saveCheckpoint(s, opt, stateNow(), run.checkpointsDir, t.keepCheckpoints);
    cb.onCheckpoint?.(lastCheckpoint, step);
  };
  const runEval = (): boolean => {
    if (!data.validation && !data.evaluate) return false;
    const r = data.evaluate ? data.evaluate() : evaluate(s, data.validation!.byLength());
    const value = metricValue(r, trackMetric) ?? r.loss;
    const improved = metricIsBetter(trackMetric, value, best?.value ?? null, trackMode);
    if (improved) {
      best = { metric: trackMetric, value, step };
      badEvals = 0;
      saveAdapter(s.peft, run.adapterDir, { baseModel: s.modelDir, backboneNames: s.trainable.backboneNames });
    } else badEvals++;
    run.appendMetrics({ type: 'eval', step, epoch: cursor.epoch, ...r.metrics, examples: r.examples, best: improved });
    cb.onEval?.(step, r, improved);
    return Boolean(t.earlyStopping && badEvals >= t.earlyStopping.patience);
  };

  while (step < totalSteps) {
    const acc = new GradAccumulator();
    let stepLoss = 0;
    let stepTokens = 0;
    const epochBefore = cursor.epoch;
    for (let micro = 0; micro < t.gradAccum; micro++) {
      const arriving = data.train.ready?.(cursor); // a split still being read (data/streaming-batcher.ts)
      if (arriving) await arriving;
      const next: { batch: Batch; cursor: DataCursor } = data.train.next(cursor);
      cursor = next.cursor;
      const seed = stepSeed(plan.seed, step, micro);
      const taskIds = next.batch.taskIds ? Array.from(next.batch.taskIds) : null;
      const ctx = s.peft.context({ training: true, seed, taskIds });
      const { value, grads } = tf.variableGrads(() => {
        const loss = taskLoss(s.model, plan.task, next.batch, ctx);
        const extra = s.peft.extraLoss();
        return extra ? tf.add(loss, extra) : loss;
      }, varList);
      const loss = value.dataSync()[0];
      value.dispose();
      if (!Number.isFinite(loss)) {
        Object.values(grads).forEach((g) => g.dispose());
        acc.dispose();
        throw divergence(step, loss, lastCheckpoint);
      }
      const named = new Map(Object.entries(grads).map(([k, g]) => [nameOfVar.get(k)!, g]));
      acc.add(s.peft.adjustGrads(named, {
        step, totalSteps, micro, batch: next.batch, task: plan.task, context: () => s.peft.context({ training: true, seed, taskIds }),
      }));
      stepLoss += loss / t.gradAccum;
      stepTokens += next.batch.tokens;
    }
    // loss-spike watchdog: compare with the mean of the last `window` steps
    const spike = t.lossSpike;
    if (recent.length >= spike.window) {
      const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
      // a spike is a jump over the recent mean that also climbs back above a tenth of the starting loss
      if (stepLoss > spike.factor * mean && stepLoss > 0.1 * (firstLoss ?? 0)) {
        if (spike.action === 'stop' || skippedInRow >= spike.window) {
          acc.dispose();
          throw new PeftError('DIVERGED', `loss spiked to ${stepLoss.toPrecision(4)} at step ${step + 1} (${(stepLoss / mean).toFixed(1)}× the mean of the last ${recent.length} steps)`, {
            where: lastCheckpoint ? `last good checkpoint: ${lastCheckpoint}` : 'no checkpoint yet',
            hint: 'lower optimizer.lr or set training.max_grad_norm; training.loss_spike tunes the watchdog (action: skip goes on)',
          });
        }
        acc.dispose();
        skippedInRow++;
        cb.onSpike?.(step + 1, stepLoss, mean);
        run.appendMetrics({ type: 'spike', step: step + 1, loss: stepLoss, recent_mean: mean, action: 'skipped' });
        continue;
      }
    }
    skippedInRow = 0;
    firstLoss ??= stepLoss;
    recent.push(stepLoss);
    if (recent.length > spike.window) recent.shift();
    const grads = acc.take('mean');
    const { grads: clipped, norm } = clipGradNorm(grads, t.maxGradNorm);
    if (!Number.isFinite(norm)) {
      clipped.forEach((g) => g.dispose());
      throw divergence(step, norm, lastCheckpoint, 'gradient norm');
    }
    const lr = lrAt(step, totalSteps, plan.schedule, plan.optimizer.lr);
    opt.step(clipped, lrFactor(step, totalSteps, plan.schedule, plan.optimizer.lr));
    s.peft.afterStep({ step, totalSteps, grads: clipped });
    clipped.forEach((g) => g.dispose());
    acc.dispose();
    step++;
    tokensSeen += stepTokens;
    lastLoss = stepLoss;
    smooth = smooth === null ? stepLoss : 0.9 * smooth + 0.1 * stepLoss;
    windowLoss += stepLoss;
    windowSteps++;
    windowTokens += stepTokens;
    const secs = (Date.now() - windowStart) / 1000;
    tps = secs > 0 ? windowTokens / secs : tps;
    const rec: StepRecord = {
      step, totalSteps, epoch: cursor.epoch, loss: stepLoss, smoothLoss: smooth, lr, gradNorm: norm,
      tokensPerSec: tps, etaSec: tps > 0 ? ((totalSteps - step) * stepTokens) / tps : 0, elapsedSec: elapsedMs() / 1000,
    };
    cb.onStep?.(rec);
    if (step % t.logEvery === 0 || step === totalSteps) {
      run.appendMetrics({
        type: 'train', step, epoch: cursor.epoch, loss: windowLoss / windowSteps, lr, grad_norm: norm,
        tokens_per_s: tps, elapsed_s: rec.elapsedSec, live_tensors: tf.memory().numTensors, rss_mb: Math.round(process.memoryUsage.rss() / 2 ** 20),
        tensor_mb: Math.round(tf.memory().numBytes / 2 ** 10) / 1024,
      });
      windowLoss = 0;
      windowSteps = 0;
      windowTokens = 0;
      windowStart = Date.now();
    }
    const epochEnded = cursor.epoch !== epochBefore;
    let stop = false;
    if ((typeof t.evalEvery === 'number' && step % t.evalEvery === 0) || (t.evalEvery === 'epoch' && epochEnded)) stop = runEval();
    if (t.checkpointEvery && step % t.checkpointEvery === 0 && step < totalSteps) checkpoint();
    if (stop) {
      stoppedEarly = true;
      break;
    }
    // Yield to the event loop once a step (a macrotask), so a SIGINT handler runs mid-training.
    await yieldToEventLoop();
    if (cb.shouldStop?.()) {
      checkpoint();
      throw new PeftError('INTERRUPTED', `interrupted at step ${step}/${totalSteps}; checkpoint saved`, {
        where: lastCheckpoint ?? run.path,
        hint: `resume with: peft train --resume ${run.path}`,
      });
    }
  }
  checkpoint();
  if ((!data.validation && !data.evaluate) || best === null) {
    saveAdapter(s.peft, run.adapterDir, { baseModel: s.modelDir, backboneNames: s.trainable.backboneNames });
  }
  opt.dispose();
  return { steps: step, finalLoss: lastLoss, best, elapsedSec: elapsedMs() / 1000, tokensSeen, stoppedEarly, lastCheckpoint };
}

/** Resolves after pending I/O and signal callbacks have run (setImmediate: the check phase, after poll). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function divergence(step: number, value: number, lastCheckpoint: string | null, what = 'loss'): PeftError {
  return new PeftError('DIVERGED', `${what} became ${value} at step ${step + 1}`, {
    where: lastCheckpoint ? `last good checkpoint: ${lastCheckpoint}` : 'no checkpoint yet',
    hint: 'lower optimizer.lr, set training.max_grad_norm (clipping), or check the data',
  });
}
