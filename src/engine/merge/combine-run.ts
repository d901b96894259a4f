// `peft merge A B [C…] --method M`: read each adapter (a directory, a run directory, plain or
// compressed), merge them (combine.ts), and write a new adapter directory — or, `intoBase`, fold
// the merged update into its backbone and write a model directory. Into a base, weight-space
// merges keep their full rank (no truncation: the folded ΔW is the merge itself).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { TaskType } from '../../plan/index.js';
import { writeSafetensors } from '../io/safetensors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { writeModelDir } from '../io/model-dir.js';
import { initBackend } from '../backend/index.js';
import { loadBackbone } from '../backbones/index.js';
import { loadAdapter } from '../adapters/index.js';
import { ForwardContext } from '../nn/context.js';
import { RESOLVED_RECIPE, RunDir } from '../train/run-dir.js';
import { readAdapterUpdates } from './adapter-updates.js';
import { combineAdapters, DELTA_METHODS, type CombineOptions, type CombinedAdapter } from './combine.js';
import { mergeIntoBackbone } from './fold.js';

/** The backbone a merge folds into. */
export interface MergeBase {
  path: string;
  task?: TaskType;
  numLabels?: number;
  pooling?: 'last' | 'first' | 'mean';
  labels?: string[] | null;
}

export interface CombineRunOptions extends CombineOptions {
  out: string;
  intoBase?: MergeBase | null;
  backend?: string;
}

export interface CombineRunResult {
  out: string;
  type: string;
  method: string;
  adapters: { path: string; type: string; storage: string; modules: number }[];
  modules: number;
  rank: { min: number; max: number } | null;
  head: string | null;
  notes: string[];
  files: string[];
  /** Folded into a base: the sites merged and the largest logit difference against the unfolded model. */
  merged?: string[];
  maxLogitDiff?: number;
}

/** A run directory's backbone and task, for --into-base. */
export function baseOfRun(runDir: string): MergeBase {
  const plan = RunDir.open(runDir).readPlan();
  return { path: plan.backbone.path, task: plan.task.type, numLabels: plan.task.numLabels ?? undefined, pooling: plan.task.pooling ?? undefined, labels: plan.task.labels ?? null };
}

/** Writes a merged adapter directory: adapter_config.json + adapter_model.safetensors (with the recipe of the merge in its metadata). */
export function writeCombined(dir: string, c: CombinedAdapter, provenance: Record<string, unknown>): string[] {
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, 'adapter_model.safetensors'), c.tensors, { format: 'pt', peft_merge: JSON.stringify(provenance) });
  writeJsonAtomic(join(dir, 'adapter_config.json'), c.config);
  return ['adapter_config.json', 'adapter_model.safetensors'];
}

/** The task a model directory is loaded with for a merged adapter: its base's, else from the config and head. */
function taskOf(base: MergeBase, c: CombinedAdapter): { task: TaskType; numLabels?: number } {
  if (base.task) return { task: base.task, numLabels: base.numLabels };
  if (c.config.task_type === 'SEQ_CLS' && c.head) {
    const w = c.tensors.find((t) => /^base_model\.model\.(score|classifier)\.weight$/.test(t.name));
    if (w) return { task: 'seq-cls', numLabels: w.shape[0] };
  }
  return { task: 'causal-lm' };
}

export async function combineRun(paths: string[], o: CombineRunOptions): Promise<CombineRunResult> {
  const inputs = paths.map(readAdapterUpdates);
  const intoBase = o.intoBase ?? null;
  const exact = intoBase && o.rank === undefined && (DELTA_METHODS as readonly string[]).includes(o.method);
  const combined = combineAdapters(inputs, { ...o, rank: exact ? 'full' : o.rank });
  const provenance = {
    method: o.method, weights: o.weights, density: o.density ?? null, rank: o.rank ?? null, seed: o.seed ?? 0,
    majority_sign: o.majoritySign ?? 'total', exact_scale: Boolean(o.exactScale), adapters: inputs.map((a) => a.dir),
  };
  const ranks = [...combined.ranks.values()];
  const result: CombineRunResult = {
    out: o.out, type: combined.type, method: o.method,
    adapters: inputs.map((a) => ({ path: a.label, type: a.type, storage: a.storage, modules: a.modules.size })),
    modules: combined.type === 'IA3' ? combined.tensors.filter((t) => t.name.endsWith('.ia3_l')).length : combined.ranks.size,
    rank: ranks.length > 0 ? { min: Math.min(...ranks), max: Math.max(...ranks) } : null,
    head: combined.head, notes: combined.notes, files: [],
  };
  if (!intoBase) {
    result.files = writeCombined(o.out, combined, provenance);
    return result;
  }
  // fold: the merged adapter loads onto its backbone like any adapter, then folds as one
  tf.env().set('PROD', true);
  await initBackend(o.backend);
  const { task, numLabels } = taskOf(intoBase, combined);
  const { dir, model } = loadBackbone(intoBase.path, { task, numLabels, pooling: intoBase.pooling });
  const tmp = mkdtempSync(join(tmpdir(), 'peft-merge-'));
  try {
    writeCombined(tmp, combined, provenance);
    const { peft } = loadAdapter(tmp, model);
    const vocab = model.dims.vocab || 100;
    const ids = tf.tensor2d(Array.from({ length: 2 * 12 }, (_, i) => (i * 37 + 11) % vocab), [2, 12], 'int32');
    const inputs = task === 'seq2seq' ? { inputIds: ids, decoderInputIds: ids } : { inputIds: ids };
    const before = tf.tidy(() => model.forward(inputs, peft.context({ training: false })).logits.dataSync());
    const report = mergeIntoBackbone(peft);
    const after = tf.tidy(() => model.forward(inputs, ForwardContext.plain(false)).logits.dataSync());
    let diff = 0;
    for (let i = 0; i < before.length; i++) diff = Math.max(diff, Math.abs(before[i] - after[i]));
    const labels = intoBase.labels;
    const config = labels ? { id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])), label2id: Object.fromEntries(labels.map((l, i) => [l, i])) } : {};
    result.files = writeModelDir(model, dir, o.out, { config });
    result.merged = report.merged;
    result.maxLogitDiff = diff;
    result.type = 'model';
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return result;
}

/** For --into-base without --base: the first run directory among the inputs, if any. */
export function baseFromInputs(paths: string[]): MergeBase | null {
  const run = paths.find((p) => existsSync(join(resolve(p), RESOLVED_RECIPE)));
  return run ? baseOfRun(resolve(run)) : null;
}
