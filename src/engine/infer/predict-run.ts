// `peft predict`: a target's plan and adapter over the rows of an input file, one JSON line per
// row in order (predict-file.ts writes them atomically). The CLI renders the events.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { BackendInfo } from '../backend/index.js';
import { formatFromPath } from '../data/index.js';
import { checkFile } from '../data/sources/file.js';
import { openInference } from './inference.js';
import { predictFile, type PredictFileResult } from './predict-file.js';
import { adapterChoiceOf, type MixOptions, type RunTarget } from './target.js';
import { PeftError } from '../../errors.js';

export interface PredictRunOptions extends MixOptions {
  input: string;
  output: string;
  batchSize?: number;
  maxNewTokens?: number;
  /** Write each row's raw logits (every position for token-level tasks) instead of its prediction. */
  logits?: boolean;
  backend?: string;
  /** A run of several tasks: the task the rows are of. */
  task?: string;
}

export interface PredictRunEvents {
  onBackend?(b: BackendInfo): void;
  onWarning?(message: string): void;
  onStart?(rows: number): void;
  onProgress?(done: number): void;
}

/** Refuses an --output that cannot be written, before the model is loaded: a directory, or a path under a file. */
function checkOutputPath(path: string, shown: string): void {
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new PeftError('FILE', 'is a directory; --output names the JSON-lines file to write', { where: shown, hint: `e.g. --output ${join(shown, 'predictions.jsonl')}` });
  }
  let parent = dirname(path);
  while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
  if (!statSync(parent).isDirectory()) {
    throw new PeftError('FILE', `cannot write here: ${parent} is a file, not a directory`, { where: shown, hint: 'name an output file in a directory' });
  }
}

export async function predictRun(target: RunTarget, opts: PredictRunOptions, ev: PredictRunEvents = {}): Promise<PredictFileResult & { input: string }> {
  const plan = target.plan;
  const path = resolve(opts.input);
  if (!existsSync(path)) throw new PeftError('FILE', 'input file not found', { where: opts.input, hint: 'name a JSONL/CSV file with the recipe\'s columns' });
  checkFile(path, 'data file');
  checkOutputPath(resolve(opts.output), opts.output);
  const input = { path, format: formatFromPath(path) ?? plan.data.train?.format ?? 'jsonl' };
  if (!plan.tasks && opts.task !== undefined) throw new PeftError('USAGE', `--task ${opts.task}: this run has one task`, { hint: 'leave --task out' });
  const opened = await openInference(plan, adapterChoiceOf(target, opts), { backend: opts.backend, tokenizerOptional: true });
  ev.onBackend?.(opened.backend);
  for (const w of opened.warnings) ev.onWarning?.(w);
  const { session: s, options } = plan.tasks
    ? (await import('../multitask/predict-run.js')).taskPrediction(opened, target, opts.task, Boolean(opts.logits))
    : { session: opened, options: {} };
  const r = await predictFile(s, input, opts.output, {
    batchSize: opts.batchSize ?? plan.eval.batchSize, maxNewTokens: opts.maxNewTokens, logits: opts.logits, onStart: ev.onStart, onProgress: ev.onProgress, ...options,
  });
  return { ...r, input: path };
}
