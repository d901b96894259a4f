// The timed part of a bench run: each workload's modes on one backend (the BERT-style workload of
// torch_lora.py and stories260K), with the time caps of slow backends.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend/index.js';
import { crossEntropy } from '../../src/engine/train/losses.js';
import type { TaskModel } from '../../src/engine/backbones/index.js';
import { BENCH_CONFIG, BENCH_GFLOP, benchBatch, benchTensors, buildBenchModel, initBenchWeights } from './workload.js';
import { BENCH_MODES, makeStepper, type BenchMode, type Stepper, type StepperOptions } from './trainer.js';
import { FULL_TIMING, timeSteps, type TimingPlan } from './timing.js';
import { figuresOf, type BackendFigures } from './report.js';
import { STORIES_BATCH, STORIES_SEQ, type StoriesWorkload } from './stories.js';
import { measureQuietly, type QuietOptions } from './quiet.js';

export interface SuiteOptions {
  quick: boolean;
  /** Run full fine-tuning on the pure-JS cpu backend too (minutes per step). */
  cpuFull: boolean;
  log: (line: string) => void;
  /** Wait for other processes to go quiet before each figure (null: measure at once). */
  quiet: QuietOptions | null;
  /** Called after each mode of the BERT-style workload (the PyTorch peer runs the same mode then, close in time). */
  afterMode?: (backend: string, mode: BenchMode) => Promise<void>;
}

/** How a backend is timed: pure-JS cpu is ~175× slower than native, so it gets a step or two. */
export function timingFor(backend: string, o: SuiteOptions): TimingPlan {
  if (backend === 'cpu') return { warmup: 1, reps: 1, steps: 2, budgetSec: o.quick ? 1 : 30 };
  if (o.quick) return { warmup: 1, reps: 1, steps: 3, budgetSec: 10 };
  if (backend === 'wasm') return { warmup: 2, reps: 3, steps: 10, budgetSec: 30 };
  return FULL_TIMING;
}

function skipReason(backend: string, mode: BenchMode, o: SuiteOptions): string | null {
  if (backend !== 'cpu') return null;
  if (mode === 'full' && !o.cpuFull) return 'cpu: capped, pure JS takes minutes per step (--cpu-full runs it)';
  if (mode === 'full' && o.quick) return 'cpu: capped in --quick';
  return null;
}

async function timeMode(
  backend: string, mode: BenchMode, o: SuiteOptions, make: () => Stepper, batch: number, seq: number, gflop?: number,
): Promise<BackendFigures['modes'][BenchMode]> {
  const s = make();
  try {
    const q = await measureQuietly(() => timeSteps(() => s.run(), timingFor(backend, o)), o.quiet);
    const f = figuresOf(q.value, batch, seq, { gflop, trainable: s.trainableParams, total: s.totalParams, others: q.othersCores });
    o.log(`  ${backend} ${mode}: ${f.seq_per_s} seq/s, step ${f.step_ms} ms (reps ${f.rep_medians_ms.join(', ')} ms; others ${f.others_cores} cores, load ${f.load1})`);
    return f;
  } finally {
    s.dispose();
  }
}

async function runModes(
  backend: string, o: SuiteOptions, batch: number, seq: number,
  make: (mode: BenchMode) => Stepper, gflop?: Record<BenchMode, number>,
): Promise<BackendFigures> {
  const info = await initBackend(backend);
  const out: BackendFigures = { backend: info.name, threads: info.threads, modes: {}, skipped: {} };
  for (const mode of BENCH_MODES) {
    const why = skipReason(backend, mode, o);
    if (why) {
      out.skipped[mode] = why;
      continue;
    }
    out.modes[mode] = await timeMode(backend, mode, o, () => make(mode), batch, seq, gflop?.[mode]);
    if (gflop) await o.afterMode?.(out.backend, mode);
  }
  return out;
}

/** The BERT-style workload's three modes on `backend`. */
export async function benchBert(backend: string, o: SuiteOptions): Promise<BackendFigures> {
  await initBackend(backend);
  const cfg = BENCH_CONFIG;
  const { inputs, labels } = benchTensors(cfg, benchBatch(cfg));
  const common: Omit<StepperOptions, 'mode'> = {
    task: 'seq-cls', method: cfg, optim: cfg, inputs, lossOf: (out) => crossEntropy(out.logits as tf.Tensor2D, labels),
  };
  const make = (mode: BenchMode) => {
    const model: TaskModel = buildBenchModel(cfg);
    initBenchWeights(model);
    return makeStepper(model, { ...common, mode });
  };
  try {
    return await runModes(backend, o, cfg.batch, cfg.seq, make, BENCH_GFLOP);
  } finally {
    tf.dispose([inputs.inputIds!, labels]);
  }
}

/** stories260K's three modes on `backend` (the workload's tensors are moved to it by tfjs). */
export async function benchStories(backend: string, w: StoriesWorkload, o: SuiteOptions): Promise<BackendFigures> {
  const make = (mode: BenchMode) => makeStepper(w.model(), {
    mode, task: 'causal-lm', method: BENCH_CONFIG, optim: BENCH_CONFIG, inputs: w.inputs, lossOf: w.lossOf,
  });
  return runModes(backend, o, STORIES_BATCH, STORIES_SEQ, make);
}

/** A warmed-up LoRA stepper of the BERT-style workload on the active backend (for profiling); dispose both. */
export function loraStepper(): { stepper: Stepper; dispose: () => void } {
  const cfg = BENCH_CONFIG;
  const { inputs, labels } = benchTensors(cfg, benchBatch(cfg));
  const model = buildBenchModel(cfg);
  initBenchWeights(model);
  const stepper = makeStepper(model, {
    mode: 'lora', task: 'seq-cls', method: cfg, optim: cfg, inputs, lossOf: (out) => crossEntropy(out.logits as tf.Tensor2D, labels),
  });
  return { stepper, dispose: () => { stepper.dispose(); tf.dispose([inputs.inputIds!, labels]); } };
}
