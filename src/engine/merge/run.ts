// `peft merge`: a run's plan and adapter onto its backbone, folded, checked and written.
import * as tf from '@tensorflow/tfjs-core';
import { RunDir } from '../train/run-dir.js';
import { initBackend } from '../backend/index.js';
import { loadBackbone, taskOptionsOf } from '../backbones/index.js';
import { loadAdapter } from '../adapters/index.js';
import { mergeIntoBackbone } from './fold.js';
import { writeModelDir } from '../io/model-dir.js';
import { writeLayersModelDir } from '../io/tfjs-write.js';
import { ForwardContext } from '../nn/context.js';
import { PeftError } from '../../errors.js';
import { probeInputs } from './probe.js';

export interface MergeRunResult {
  merged: string[];
  files: string[];
  family: string;
  /** Largest |logit| difference between the merged and the unmerged model on a probe batch. */
  maxLogitDiff: number;
}

export async function mergeRun(runDir: string, outDir: string, opts: { backend?: string } = {}): Promise<MergeRunResult> {
  tf.env().set('PROD', true);
  const run = RunDir.open(runDir);
  if (!run.hasAdapter()) throw new PeftError('FILE', 'the run has no adapter yet', { where: run.adapterDir, hint: 'train it first (or resume it)' });
  const plan = run.readPlan();
  await initBackend(opts.backend);
  const { dir, model } = loadBackbone(plan.backbone.path, taskOptionsOf(plan));
  const { peft } = loadAdapter(run.adapterDir, model, plan.seed);
  // a probe batch: the same inputs for both models
  const inputs = probeInputs(model, plan.task.type);
  const before = tf.tidy(() => model.forward(inputs, peft.context({ training: false })).logits.dataSync());
  const report = mergeIntoBackbone(peft);
  const after = tf.tidy(() => model.forward(inputs, ForwardContext.plain(false)).logits.dataSync());
  let maxLogitDiff = 0;
  for (let i = 0; i < before.length; i++) maxLogitDiff = Math.max(maxLogitDiff, Math.abs(before[i] - after[i]));
  const labels = plan.task.labels;
  const config = labels ? { id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])), label2id: Object.fromEntries(labels.map((l, i) => [l, i])) } : {};
  const files = model.family === 'tfjs-layers' ? writeLayersModelDir(model, dir, outDir) : writeModelDir(model, dir, outDir, { config });
  return { merged: report.merged, files, family: model.family, maxLogitDiff };
}
