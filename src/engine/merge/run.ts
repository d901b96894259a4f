// `peft merge`: a run's plan and adapter onto its backbone, folded, checked and written.
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { RunDir } from '../train/run-dir.js';
import { initBackend } from '../backend/index.js';
import { loadBackbone, resolveModelDir, taskOptionsOf } from '../backbones/index.js';
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

/** The real path of `p`, or of its nearest existing ancestor joined with the rest (p may not exist yet). */
function realish(p: string): string {
  const abs = resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(realish(parent), basename(abs));
  }
}

/**
 * Refuses an output directory that a merge must not write into: the backbone the run reads (its
 * pretrained weights would be overwritten while the run still points at them), the run's own
 * files, a file, or any directory that already holds something.
 */
export function checkMergeTarget(outDir: string, run: RunDir, backboneDir: string): void {
  const out = realish(outDir);
  const refuse = (message: string, hint: string) => new PeftError('USAGE', message, { where: `--out ${outDir}`, hint });
  const fresh = 'name a new or empty directory (default: <run>/merged)';
  if (out === realish(backboneDir)) throw refuse('is the backbone directory the run reads: merging would overwrite its pretrained weights', fresh);
  const within = (dir: string) => out === realish(dir) || out.startsWith(realish(dir) + sep);
  if (out === realish(run.path) || within(run.adapterDir) || within(run.checkpointsDir)) {
    throw refuse('is part of the run directory (its plan, adapter or checkpoints)', fresh);
  }
  let entries: string[];
  try {
    if (!statSync(out).isDirectory()) throw refuse('is a file, not a directory', fresh);
    entries = readdirSync(out);
  } catch (e) {
    if (e instanceof PeftError) throw e;
    return; // does not exist yet: it will be created
  }
  if (entries.length > 0) throw refuse(`is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, e.g. ${entries[0]})`, `${fresh}, or delete it first`);
}

export async function mergeRun(runDir: string, outDir: string, opts: { backend?: string } = {}): Promise<MergeRunResult> {
  tf.env().set('PROD', true);
  const run = RunDir.open(runDir);
  if (!run.hasAdapter()) throw new PeftError('FILE', 'the run has no adapter yet', { where: run.adapterDir, hint: 'train it first (or resume it)' });
  const plan = run.readPlan();
  checkMergeTarget(outDir, run, resolveModelDir(plan.backbone.path));
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
