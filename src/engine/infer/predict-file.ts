// `peft predict`'s engine: rows of an input file (the recipe's columns; labels not needed) →
// one JSON line per row, in order, written to a temporary file that is renamed over the output
// only when every row is done (a failed or interrupted run leaves no half-written output). A row
// that cannot be read is the data policy's: under `fail` the first one stops the run with its
// file:line; under `skip` it gets an `{"error", "where"}` line, so output line i is input row i.
// Rows are read a window at a time (WINDOW_BATCHES batches' worth) and run in batches of similar
// length (a batch pads only to its own longest row), their results written back in input order.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { DataSplitPlan } from '../../plan/index.js';
import { PeftError } from '../../errors.js';
import { collate, MEGABATCH, type TokenExample } from '../data/batches.js';
import { collateOptionsFor, encodeSpecFor } from '../data/build.js';
import { ExampleEncoder, isEncodeProblem } from '../data/encode.js';
import { countSourceRows, sourceOptionsFor } from '../data/examples.js';
import { rowError } from '../data/policy.js';
import { isProblem, RowMapper } from '../data/rows.js';
import { LabelSet } from '../data/labels.js';
import { openSourceBatches } from '../data/sources/index.js';
import type { Example, RowProblem } from '../data/types.js';
import type { InferenceSession } from './inference.js';
import { predictBatch, type Prediction } from './predict.js';
import { batchLogits, type RowLogits, type Span } from './logits.js';
import { collateTokenRows, isTokenRow, parseTokenRow, type TokenLimits, type TokenRow } from './token-rows.js';
import type { Batch } from '../data/batches.js';
import { routedTasks } from '../methods/index.js';

/** Each example's own positions in a collated text batch: its real tokens (the target's for seq2seq), after left padding or before right padding. */
function realSpans(b: Batch, side: 'left' | 'right'): Span[] {
  if (b.targetLabels && b.targetLen !== undefined) {
    const S = b.targetLen;
    return Array.from({ length: b.size }, (_, i) => ({ start: 0, length: b.targetLabels!.subarray(i * S, (i + 1) * S).filter((v) => v !== -100).length || S }));
  }
  const T = b.seqLen;
  return Array.from({ length: b.size }, (_, i) => {
    const length = b.attentionMask.subarray(i * T, (i + 1) * T).reduce((a, v) => a + v, 0);
    return { start: side === 'left' ? T - length : 0, length };
  });
}

export interface PredictFileOptions {
  batchSize: number;
  /** Write each row's raw logits instead of its prediction. */
  logits?: boolean;
  /** Tokens to generate (causal LM, seq2seq). */
  maxNewTokens?: number;
  onStart?(rows: number): void;
  onProgress?(done: number): void;
  /** A task of several: marks each collated batch (task ids, the head columns it ranges over). */
  decorate?(b: Batch): Batch;
  /** The task id of token-id rows that give none (--task NAME). */
  defaultTask?: number;
}

export interface PredictFileResult {
  rows: number;
  predicted: number;
  skipped: number;
  output: string;
}

type Slot = { ok: Example } | { ids: TokenRow; where: string } | { bad: RowProblem; where: string };

/** Batches' worth of rows sorted by length together (as the training sampler's length groups). */
export const WINDOW_BATCHES = MEGABATCH;

function record(p: Prediction, ex: Example, labels: LabelSet): Record<string, unknown> {
  switch (p.kind) {
    case 'class':
      return { label: labels.name(p.id), label_id: p.id, probs: Object.fromEntries(p.probs.map((v, i) => [labels.name(i), v])) };
    case 'value':
      return { value: p.value };
    case 'tags': {
      const tags = p.ids.map((id) => labels.name(id));
      const words = ex.tokens ?? [];
      return words.length > tags.length ? { tokens: words, tags, truncated: true } : { tokens: words, tags };
    }
    case 'text':
      return { text: p.text };
    default:
      return {};
  }
}

/** An fs error writing --output as one FILE line naming it. */
function outputError(e: unknown, shown: string): PeftError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'EISDIR' ? 'it is a directory' : code === 'ENOTDIR' || code === 'EEXIST' ? 'a path on the way is a file'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOSPC' ? 'no space left on the device' : String(code ?? (e as Error).message);
  return new PeftError('FILE', `cannot write the predictions: ${why}`, { where: shown, hint: 'name a JSON-lines file in a writable directory', cause: e });
}

export async function predictFile(s: InferenceSession, input: Pick<DataSplitPlan, 'path' | 'format'>, outputPath: string, opts: PredictFileOptions): Promise<PredictFileResult> {
  const plan = s.plan;
  const columns = plan.data.columns;
  const source = sourceOptionsFor(columns, plan.task.type === 'causal-lm' ? { textUnit: 'paragraph' } : {});
  const rows = await countSourceRows(input, source);
  opts.onStart?.(rows);
  const mapper = new RowMapper(plan.task, columns, { withLabels: false });
  const labels = LabelSet.fromTask(plan.task);
  // built on the first text row: a file of token-id rows needs no tokenizer
  let encoder: ExampleEncoder | null = null;
  const collateOpts = collateOptionsFor(plan, s.tokenizer, s.modelInfo);

  const target = resolve(outputPath);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    mkdirSync(dirname(target), { recursive: true });
    fd = openSync(tmp, 'wx', 0o644);
  } catch (e) {
    throw outputError(e, outputPath);
  }
  let done = 0;
  let predicted = 0;
  let skipped = 0;
  const write = (obj: Record<string, unknown>) => {
    const buf = Buffer.from(JSON.stringify(obj) + '\n', 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
  };
  const bad = (problem: RowProblem, where: string) => {
    if (plan.data.onError === 'fail') throw rowError(problem, where);
    skipped++;
    write({ error: problem.message, where });
  };
  const out = (pred: Prediction | undefined, logits: RowLogits | undefined, ex: Example | null) =>
    write(opts.logits ? { logits } : record(pred ?? { kind: 'none' }, ex ?? { where: '', index: 0 }, labels));
  /** Predictions (or logits) of the encoded rows, by position, computed in batches of similar length. */
  const computeText = (encoded: (TokenExample | RowProblem)[]) => {
    const ready = encoded.flatMap((e, at) => (isEncodeProblem(e) ? [] : [{ e, at }]));
    ready.sort((a, b) => b.e.ids.length - a.e.ids.length || a.at - b.at);
    const preds: (Prediction | undefined)[] = new Array(encoded.length);
    const logits: (RowLogits | undefined)[] = new Array(encoded.length);
    for (let i = 0; i < ready.length; i += opts.batchSize) {
      const chunk = ready.slice(i, i + opts.batchSize);
      const collated = collate(chunk.map((c) => c.e), collateOpts);
      const batch = opts.decorate ? opts.decorate(collated) : collated;
      if (opts.logits) batchLogits(s, batch, realSpans(batch, collateOpts.padSide ?? 'right')).forEach((l, k) => (logits[chunk[k]!.at] = l));
      else predictBatch(s, batch, { loss: false, generate: true, maxNewTokens: opts.maxNewTokens }).predictions.forEach((p, k) => (preds[chunk[k]!.at] = p));
    }
    return { preds, logits };
  };
  const flushText = (slots: Slot[]) => {
    if (!s.tokenizer && s.tokenizerError && slots.some((x) => 'ok' in x)) throw s.tokenizerError;
    encoder ??= new ExampleEncoder(s.tokenizer, encodeSpecFor(plan, s.modelInfo, { unlabelled: true, baseDir: dirname(resolve(input.path)) }));
    const good = slots.filter((x): x is { ok: Example } => 'ok' in x).map((x) => x.ok);
    const encoded = good.length > 0 ? encoder.encode(good) : [];
    if (plan.data.onError === 'fail') {
      // the first bad row stops the run before any of its window is computed
      const firstBad = slots.find((x) => 'bad' in x) as { bad: RowProblem; where: string } | undefined;
      if (firstBad) throw rowError(firstBad.bad, firstBad.where);
      const k = encoded.findIndex(isEncodeProblem);
      if (k >= 0) throw rowError(encoded[k] as RowProblem, good[k]!.where);
    }
    const { preds, logits } = computeText(encoded);
    let g = 0;
    for (const slot of slots) {
      if ('bad' in slot) bad(slot.bad, slot.where);
      else if ('ok' in slot) {
        const at = g++;
        const enc = encoded[at]!;
        if (isEncodeProblem(enc)) bad(enc, slot.ok.where);
        else {
          out(preds[at], logits[at], slot.ok);
          predicted++;
        }
      }
      done++;
    }
    opts.onProgress?.(done);
  };
  const flushIds = (slots: Slot[]) => {
    const rows = slots.filter((x): x is { ids: TokenRow; where: string } => 'ids' in x).map((x) => x.ids);
    const raw = rows.length > 0 ? collateTokenRows(rows, collateOpts.padId) : null;
    // rows give their own task ids: decorate for the head's columns, keep theirs
    const collated = raw && opts.decorate ? { ...raw, batch: { ...opts.decorate(raw.batch), ...(raw.batch.taskIds ? { taskIds: raw.batch.taskIds } : {}) } } : raw;
    const logits = collated && opts.logits ? batchLogits(s, collated.batch, collated.lengths.map((length) => ({ start: 0, length }))) : [];
    const preds = collated && !opts.logits ? predictBatch(s, collated.batch, { loss: false, generate: true, maxNewTokens: opts.maxNewTokens }).predictions : [];
    let k = 0;
    for (const slot of slots) {
      if ('bad' in slot) bad(slot.bad, slot.where);
      else {
        out(preds[k], logits[k], null);
        k++;
        predicted++;
      }
      done++;
    }
    opts.onProgress?.(done);
  };
  const limits: TokenLimits = { vocab: s.model.dims.vocab, maxPositions: s.model.dims.maxPositions || Number.MAX_SAFE_INTEGER, tasks: routedTasks(s.peft.method), defaultTask: opts.defaultTask };
  let mode: 'text' | 'ids' | null = null;
  const flush = (slots: Slot[]) => (mode === 'ids' ? flushIds(slots) : flushText(slots));
  try {
    let slots: Slot[] = [];
    for await (const items of openSourceBatches(input, source)) {
      for (const item of items) {
        // a file is rows of text (the recipe's columns) or rows of token ids, as its first row is
        mode ??= item.row && isTokenRow(item.row) ? 'ids' : item.row ? 'text' : null;
        if (item.problem) slots.push({ bad: item.problem, where: item.where });
        else if (mode === 'ids') {
          const r = isTokenRow(item.row) ? parseTokenRow(item.row, limits)
            : { reason: 'type' as const, message: 'a text row in a file of token-id rows', hint: 'give every row input_ids, or none' };
          slots.push('inputIds' in r ? { ids: r, where: item.where } : { bad: r, where: item.where });
        } else {
          const m = mapper.map(item.row, item.where, item.index);
          slots.push(isProblem(m) ? { bad: m, where: item.where } : { ok: m });
        }
        // text rows gather a window of several batches, run longest first; id rows go a batch at a time
        if (slots.length >= opts.batchSize * (mode === 'ids' ? 1 : WINDOW_BATCHES)) {
          flush(slots);
          slots = [];
        }
      }
    }
    if (slots.length > 0) flush(slots);
    if (done === 0) throw new PeftError('DATA', 'the input has no rows', { where: input.path, hint: 'check that it is the right file and format' });
    fsyncSync(fd);
    closeSync(fd);
    try {
      renameSync(tmp, target);
    } catch (e) {
      throw outputError(e, outputPath);
    }
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(tmp);
    } catch {
      // renamed or gone
    }
    throw e;
  }
  return { rows: done, predicted, skipped, output: target };
}
