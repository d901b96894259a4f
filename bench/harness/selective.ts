// The selective presets on the BERT-style workload, next to LoRA and full fine-tuning: step time
// and memory. A step is what src/engine/train/loop.ts does (tf.variableGrads over the trainable
// set with the method's regularisers, the selection's gradient adjustment, AdamW, the after-step
// hooks). Memory: the peak of tfjs's tensor bytes during one step (tf.profile), the bytes alive
// between steps (model, trainable set, optimizer state, a selection's kept indices), and the
// optimizer state alone — what a selection keeps small.
import * as tf from '@tensorflow/tfjs-core';
import { injectMethod, selectTrainable } from '../../src/engine/methods/index.js';
import { measureSensitivity } from '../../src/engine/selection/index.js';
import { AdamW } from '../../src/engine/train/optim/index.js';
import { crossEntropy } from '../../src/engine/train/losses.js';
import { compileMethod, type TaskPlan } from '../../src/plan/index.js';
import type { Batch } from '../../src/engine/data/batches.js';
import { BENCH_CONFIG, benchBatch, benchTensors, buildBenchModel, initBenchWeights } from './workload.js';
import { timeSteps, type TimingPlan } from './timing.js';
import { measureQuietly, type QuietOptions } from './quiet.js';
import { load1 } from './report.js';

/** The methods compared, as recipes would write them for this workload. */
export const SELECTIVE_MODES: Record<string, Record<string, unknown>> = {
  lora: { preset: 'lora', rank: BENCH_CONFIG.rank, alpha: BENCH_CONFIG.alpha },
  full: { preset: 'full' },
  sara: { preset: 'sara' },
  hft: { preset: 'hft' },
  'mask-tuning': { preset: 'mask-tuning' },
  spt: { preset: 'spt', select: { batches: 1 } },
  mosa: { preset: 'mosa' },
};

export interface SelectiveFigures {
  step_ms: number;
  step_ms_best: number;
  /** Peak tensor memory during one step, MiB. */
  peak_mb: number;
  /** Tensor memory alive between steps, MiB. */
  resident_mb: number;
  /** Optimizer state, MiB. */
  optimizer_mb: number;
  trainable_params: number;
  load1: number;
  others_cores?: number;
}

const TASK: TaskPlan = { type: 'seq-cls', numLabels: 2, labels: null, pooling: null, labelSmoothing: 0 };
const MB = 2 ** 20;

/** Every mode on the active backend. */
export async function benchSelective(plan: TimingPlan, quiet: QuietOptions | null, log: (s: string) => void): Promise<Record<string, SelectiveFigures>> {
  const cfg = BENCH_CONFIG;
  const raw = benchBatch(cfg);
  const { inputs, labels } = benchTensors(cfg, raw);
  // the same batch as a data batch, for the selection's hooks (SPT's measurement, R-AMT's teacher)
  const batch: Batch = {
    size: cfg.batch, seqLen: cfg.seq, inputIds: raw.ids, attentionMask: new Float32Array(cfg.batch * cfg.seq).fill(1),
    labels: Float32Array.from(raw.labels), tokens: cfg.batch * cfg.seq,
  };
  const out: Record<string, SelectiveFigures> = {};
  for (const [name, words] of Object.entries(SELECTIVE_MODES)) {
    const issues: string[] = [];
    const method = compileMethod(words, { family: null, depth: null, task: 'seq-cls' }, (p, m) => issues.push(`${p.join('.')}: ${m}`));
    if (issues.length) throw new Error(`${name}: ${issues.join('; ')}`);
    const model = buildBenchModel(cfg);
    initBenchWeights(model);
    const peft = injectMethod(model, method, 0);
    if (peft.selection?.needsData) peft.selection.prepareFromSensitivity(measureSensitivity(peft, TASK, [batch], 1, 0));
    const trainable = selectTrainable(peft);
    const vars = new Map([...trainable.params].map(([n, p]) => [n, p.variable]));
    const nameOf = new Map([...vars].map(([n, v]) => [v.name, n]));
    const opt = new AdamW(vars, { lr: cfg.lr, weightDecay: cfg.weightDecay, eps: cfg.adamEps });
    let step = 0;
    const run = () => {
      const { value, grads } = tf.variableGrads(() => {
        const loss = crossEntropy(model.forward(inputs, peft.context({ training: true, seed: step })).logits as tf.Tensor2D, labels);
        const extra = peft.extraLoss();
        return extra ? tf.add(loss, extra) : loss;
      }, [...vars.values()]);
      value.dataSync();
      value.dispose();
      const named = peft.adjustGrads(new Map(Object.entries(grads).map(([k, g]) => [nameOf.get(k)!, g])), {
        step, totalSteps: 1000, micro: 0, batch, task: TASK, context: () => peft.context({ training: true, seed: step }),
      });
      opt.step(named);
      peft.afterStep({ step, totalSteps: 1000, grads: named });
      named.forEach((g) => g.dispose());
      step++;
    };
    try {
      const q = await measureQuietly(() => timeSteps(run, plan), quiet);
      const profile = await tf.profile(run);
      const state = opt.state();
      const optimizerBytes = Object.values(state.params).reduce((n, p) => n + Object.values(p.buffers).reduce((m, b) => m + 4 * b.data.length, 0), 0);
      const f: SelectiveFigures = {
        step_ms: +(q.value.stepMedianS * 1000).toFixed(1), step_ms_best: +(q.value.stepBestS * 1000).toFixed(1),
        peak_mb: +(profile.peakBytes / MB).toFixed(1), resident_mb: +(tf.memory().numBytes / MB).toFixed(1), optimizer_mb: +(optimizerBytes / MB).toFixed(2),
        trainable_params: [...trainable.params.values()].reduce((n, p) => n + p.size, 0), load1: load1(), others_cores: q.othersCores,
      };
      out[name] = f;
      log(`  ${name}: step ${f.step_ms} ms, peak ${f.peak_mb} MiB, resident ${f.resident_mb} MiB, optimizer ${f.optimizer_mb} MiB, ${f.trainable_params} trainable (others ${f.others_cores} cores)`);
    } finally {
      opt.dispose();
      peft.selection?.dispose();
      peft.store.dispose();
      model.root.dispose();
    }
  }
  tf.dispose([inputs.inputIds!, labels]);
  return out;
}

/** The table printed at the end of a bench run. */
export function formatSelective(figures: Record<string, SelectiveFigures>, backend: string): string {
  const lines = [
    `Selective methods on the BERT-style workload (${backend}, batch ${BENCH_CONFIG.batch} × ${BENCH_CONFIG.seq}):`,
    '| method | step ms | vs LoRA | peak MiB | resident MiB | optimizer MiB | trainable |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  const lora = figures.lora?.step_ms;
  for (const [name, f] of Object.entries(figures)) {
    lines.push(`| ${name} | ${f.step_ms} | ${lora ? `${(f.step_ms / lora).toFixed(2)}×` : '–'} | ${f.peak_mb} | ${f.resident_mb} | ${f.optimizer_mb} | ${f.trainable_params.toLocaleString('en-US')} |`);
  }
  return lines.join('\n');
}
