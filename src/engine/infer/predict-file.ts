// `peft predict`'s engine: rows of an input file (the recipe's columns; labels not needed) →
// one JSON line per row, in order, written to a temporary file that is renamed over the output
// only when every row is done (a failed or interrupted run leaves no half-written output). A row
// that cannot be read is the data policy's: under `fail` the first one stops the run with its
// file:line; under `skip` it gets an `{"error", "where"}` line, so output line i is input row i.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { DataSplitPlan } from '../../plan/index.js';
import { PeftError } from '../../errors.js';
import { collate } from '../data/batches.js';
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
  const encoder = new ExampleEncoder(s.tokenizer, encodeSpecFor(plan, s.modelInfo, { unlabelled: true }));
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
  const flush = (slots: Slot[]) => {
    const good = slots.filter((x): x is { ok: Example } => 'ok' in x).map((x) => x.ok);
    const encoded = good.length > 0 ? encoder.encode(good) : [];
    const ready = encoded.filter((e) => !isEncodeProblem(e));
    const preds = ready.length > 0
      ? predictBatch(s, collate(ready as Exclude<(typeof ready)[number], RowProblem>[], collateOpts), { loss: false, generate: true, maxNewTokens: opts.maxNewTokens }).predictions
      : [];
    let g = 0;
    let k = 0;
    for (const slot of slots) {
      if ('bad' in slot) bad(slot.bad, slot.where);
      else {
        const enc = encoded[g++]!;
        if (isEncodeProblem(enc)) bad(enc, slot.ok.where);
        else {
          write(record(preds[k++] ?? { kind: 'none' }, slot.ok, labels));
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
        if (slots.length >= opts.batchSize) {
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
