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

export interface PredictFileOptions {
  batchSize: number;
  /** Tokens to generate (causal LM, seq2seq). */
  maxNewTokens?: number;
  onStart?(rows: number): void;
  onProgress?(done: number): void;
}

export interface PredictFileResult {
  rows: number;
  predicted: number;
  skipped: number;
  output: string;
}

type Slot = { ok: Example } | { bad: RowProblem; where: string };

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

export async function predictFile(s: InferenceSession, input: Pick<DataSplitPlan, 'path' | 'format'>, outputPath: string, opts: PredictFileOptions): Promise<PredictFileResult> {
  const plan = s.plan;
  const columns = plan.data.columns;
  const source = sourceOptionsFor(columns, plan.task.type === 'causal-lm' ? { textUnit: 'paragraph' } : {});
  const rows = await countSourceRows(input, source);
  opts.onStart?.(rows);
  const mapper = new RowMapper(plan.task, columns, { withLabels: false });
  const labels = LabelSet.fromTask(plan.task);
  const encoder = new ExampleEncoder(s.tokenizer, encodeSpecFor(plan, s.modelInfo, { unlabelled: true }));
  const collateOpts = collateOptionsFor(plan, s.tokenizer, s.modelInfo);

  const target = resolve(outputPath);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o644);
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
  /** Predictions of the encoded rows, by position, run in batches of similar length. */
  const predictAll = (encoded: (TokenExample | RowProblem)[]): (Prediction | undefined)[] => {
    const ready = encoded.flatMap((e, at) => (isEncodeProblem(e) ? [] : [{ e, at }]));
    ready.sort((a, b) => b.e.ids.length - a.e.ids.length || a.at - b.at);
    const preds: (Prediction | undefined)[] = new Array(encoded.length);
    for (let i = 0; i < ready.length; i += opts.batchSize) {
      const chunk = ready.slice(i, i + opts.batchSize);
      const r = predictBatch(s, collate(chunk.map((c) => c.e), collateOpts), { loss: false, generate: true, maxNewTokens: opts.maxNewTokens });
      chunk.forEach((c, k) => (preds[c.at] = r.predictions[k]));
    }
    return preds;
  };
  const flush = (slots: Slot[]) => {
    const good = slots.filter((x): x is { ok: Example } => 'ok' in x).map((x) => x.ok);
    const encoded = good.length > 0 ? encoder.encode(good) : [];
    if (plan.data.onError === 'fail') {
      // the first bad row stops the run before any of its window is computed
      const firstBad = slots.find((x) => 'bad' in x) as { bad: RowProblem; where: string } | undefined;
      if (firstBad) throw rowError(firstBad.bad, firstBad.where);
      const k = encoded.findIndex(isEncodeProblem);
      if (k >= 0) throw rowError(encoded[k] as RowProblem, good[k]!.where);
    }
    const preds = predictAll(encoded);
    let g = 0;
    for (const slot of slots) {
      if ('bad' in slot) bad(slot.bad, slot.where);
      else {
        const at = g++;
        const enc = encoded[at]!;
        if (isEncodeProblem(enc)) bad(enc, slot.ok.where);
        else {
          write(record(preds[at] ?? { kind: 'none' }, slot.ok, labels));
          predicted++;
        }
      }
      done++;
    }
    opts.onProgress?.(done);
  };
  try {
    let slots: Slot[] = [];
    for await (const items of openSourceBatches(input, source)) {
      for (const item of items) {
        const m = item.problem ?? mapper.map(item.row, item.where, item.index);
        slots.push(isProblem(m) ? { bad: m, where: item.where } : { ok: m });
        if (slots.length >= opts.batchSize * WINDOW_BATCHES) {
          flush(slots);
          slots = [];
        }
      }
    }
    if (slots.length > 0) flush(slots);
    if (done === 0) throw new PeftError('DATA', 'the input has no rows', { where: input.path, hint: 'check that it is the right file and format' });
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, target);
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
