// `peft predict`: a target's plan and adapter over the rows of an input file, one JSON line per
// row in order (predict-file.ts writes them atomically). The CLI renders the events.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BackendInfo } from '../backend/index.js';
import { formatFromPath } from '../data/index.js';
import { openInference } from './inference.js';
import { predictFile, type PredictFileResult } from './predict-file.js';
import type { RunTarget } from './target.js';
import { PeftError } from '../../errors.js';

export interface PredictRunOptions {
  input: string;
  output: string;
  batchSize?: number;
  maxNewTokens?: number;
  /** Write each row's raw logits (every position for token-level tasks) instead of its prediction. */
  logits?: boolean;
  backend?: string;
}

export interface PredictRunEvents {
  onBackend?(b: BackendInfo): void;
  onWarning?(message: string): void;
  onStart?(rows: number): void;
  onProgress?(done: number): void;
}

export async function predictRun(target: RunTarget, opts: PredictRunOptions, ev: PredictRunEvents = {}): Promise<PredictFileResult & { input: string }> {
  const plan = target.plan;
  const path = resolve(opts.input);
  if (!existsSync(path) || !statSync(path).isFile()) throw new PeftError('FILE', 'input file not found', { where: opts.input, hint: 'name a JSONL/CSV file with the recipe\'s columns' });
  const input = { path, format: formatFromPath(path) ?? plan.data.train?.format ?? 'jsonl' };
  const s = await openInference(plan, target.adapterDir, { backend: opts.backend, tokenizerOptional: true });
  ev.onBackend?.(s.backend);
  for (const w of s.warnings) ev.onWarning?.(w);
  const r = await predictFile(s, input, opts.output, {
    batchSize: opts.batchSize ?? plan.eval.batchSize, maxNewTokens: opts.maxNewTokens, logits: opts.logits, onStart: ev.onStart, onProgress: ev.onProgress,
  });
  return { ...r, input: path };
}
