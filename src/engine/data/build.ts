// The plan's data → batchers per split. Each split is streamed through an ExampleReader (rows →
// examples, the bad-row policy applied), encoded for the task a group of rows at a time, and kept
// in a TokenStore: a compact, pre-tokenised copy (4 bytes a token) that spills to an anonymous
// temporary file past its memory budget. Tokenising once rather than every epoch costs one pass
// and keeps exact, seeded global shuffles and a resumable cursor {epoch, index}; the source file is
// never held as one string. Causal-LM texts are packed into blocks as they stream (lm-blocks.ts).
import type { DataSplitPlan, Plan } from '../../plan/index.js';
import type { TextTokenizer } from '../tokenizers/index.js';
import { PeftError } from '../../errors.js';
import { Batcher, type CollateOptions } from './batches.js';
import { BlockPacker } from './lm-blocks.js';
import { dirname } from 'node:path';
import { decoderShiftOf, ExampleEncoder, isEncodeProblem, NO_TOKENIZER, type EncodeSpec } from './encode.js';
import { imageSpec } from './images.js';
import { audioSpec } from './audio/features.js';
import { ExampleReader } from './examples.js';
import { columnsByPosition } from './rows.js';
import { resolveSplits } from './split.js';
import { TokenStore, DEFAULT_STORE_BYTES } from './token-store.js';
import { EncodePool, inOrder, POOL_MIN_ROWS, workerCount } from './encode-pool.js';
import { StreamingBatcher, streamMinExamples } from './streaming-batcher.js';
import type { TokenExample } from './batches.js';
import type { Example, RowProblem } from './types.js';
import type { BadRowReport, ScanResult, SourceOptions } from './types.js';

export type SplitName = 'train' | 'validation' | 'test';

export interface SplitStats {
  examples: number;
  tokens: number;
  /** Bad rows skipped (data.on_error: skip). */
  skipped: number;
  bad?: BadRowReport;
  /** The pre-tokenised copy outgrew memory and lives in a temporary file. */
  onDisk?: boolean;
  /** Worker threads that tokenised it (absent: this thread). */
  workers?: number;
  /** Trained while it was read (streaming-batcher.ts). */
  streamed?: boolean;
  /** Training ended before a streamed split was read to its end: the examples read (`tokens` counts theirs). */
  read?: number;
}

export interface BuiltData {
  train: Batcher;
  validation: Batcher | null;
  test?: Batcher | null;
  /** What was read, for the run's summary. */
  stats: Record<string, SplitStats>;
}

/** What the pipeline needs to know of the model (from its config.json). */
export interface ModelInfo {
  config: Record<string, unknown>;
  /** The model directory (an image model's preprocessor_config.json). */
  dir?: string;
}

export interface BuildOptions {
  model?: ModelInfo;
  /** Scans from the pre-flight check: their row counts spare the readers a counting pass. */
  scans?: Partial<Record<SplitName, ScanResult>>;
  /** Memory budget of each split's pre-tokenised copy (default 512 MiB; env PEFT_DATA_MEMORY_MB). */
  memoryBytes?: number;
  /**
   * Worker threads that tokenise and encode (encode-pool.ts): 'auto' (default) uses one per core for
   * splits of POOL_MIN_ROWS rows or more; a number forces that many (0: this thread only).
   */
  workers?: number | 'auto';
  /**
   * Train while a large training split is still being read (streaming-batcher.ts): its first batches arrive
   * once a shuffle buffer has filled, not once the whole split is encoded. Only for a run that needs
   * nothing of the split before step 1 but its size (from `scans`).
   */
  stream?: boolean;
}

export interface SplitOptions extends BuildOptions {
  name: string;
  batchSize: number;
  shuffle: boolean;
  /** A further cap on examples (eval.limit). */
  limit?: number | null;
  /** Keep each example's place (prediction). */
  keepWhere?: boolean;
  /** Rows need no labels (prediction). */
  unlabelled?: boolean;
}

/**
 * A split's column mapping: its own over `data.columns`. Columns named by position (`0..63`,
 * `64`) describe headerless CSV/TSV rows: a file of another format (IDX images, JSONL) given for
 * the same task (`peft eval --data`, `peft adapt-test --data`) is read by its own field names.
 */
export function columnsOf(plan: Plan, split: DataSplitPlan): Record<string, string> {
  const columns = split.columns ? { ...plan.data.columns, ...split.columns } : plan.data.columns;
  if (split.format !== 'csv' && split.format !== 'tsv' && columnsByPosition(columns)) return {};
  return columns;
}

/** How plain-text files become rows for the task: paragraphs for language modelling. */
export function sourceOptionsForTask(plan: Plan): SourceOptions {
  return plan.task.type === 'causal-lm' || plan.task.type === 'seq2seq' ? { textUnit: 'paragraph' } : {};
}

function memoryBudget(opts: BuildOptions): number {
  const env = Number(process.env.PEFT_DATA_MEMORY_MB);
  if (opts.memoryBytes !== undefined) return opts.memoryBytes;
  return Number.isFinite(env) && env > 0 ? env * 1024 * 1024 : DEFAULT_STORE_BYTES;
}

/** The encoder settings for the plan's task and model. */
export function encodeSpecFor(plan: Plan, model: ModelInfo | undefined, extra: Partial<EncodeSpec> = {}): EncodeSpec {
  const config = model?.config ?? {};
  const spec: EncodeSpec = { task: plan.task.type, maxLength: plan.data.maxLength, typeIds: typeof config.type_vocab_size === 'number', ...extra };
  if (plan.task.type === 'seq2seq') spec.decoder = decoderShiftOf(config);
  if (plan.task.type === 'image-cls' || plan.task.type === 'clip-cls') {
    if (!model) throw new Error('image data needs the model config (image size, channels)');
    spec.image = imageSpec(imageConfig(config), model.dir);
  }
  if (plan.task.type === 'audio-cls') {
    if (!model) throw new Error('audio data needs the model config (mel bins, frames)');
    spec.audio = audioSpec(config, model.dir);
  }
  return spec;
}

/** The config that describes a model's image input (a two-tower model's vision tower). */
export function imageConfig(config: Record<string, unknown>): Record<string, unknown> {
  const v = config.vision_config;
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : config;
}

/** Pad id and padding side for batches. */
export function collateOptionsFor(plan: Plan, tok: TextTokenizer | null, model: ModelInfo | undefined): CollateOptions {
  const cfgPad = model?.config.pad_token_id;
  const padId = tok?.padId ?? (typeof cfgPad === 'number' ? cfgPad : null) ?? tok?.eosId ?? 0;
  const out: CollateOptions = { padId, padSide: tok?.paddingSide ?? 'right' };
  if (plan.task.type === 'image-cls' || plan.task.type === 'clip-cls') {
    const s = imageSpec(imageConfig(model?.config ?? {}), model?.dir);
    out.pixelShape = [s.channels, s.size, s.size];
  }
  if (plan.task.type === 'audio-cls') {
    const a = audioSpec(model?.config ?? {}, model?.dir);
    out.audioShape = [a.maxLength, a.melBins];
  }
  return out;
}

/** Reads, encodes and stores one split. */
export async function buildSplit(plan: Plan, split: DataSplitPlan, tok: TextTokenizer | null, opts: SplitOptions): Promise<{ batcher: Batcher; stats: SplitStats }> {
  if (!NO_TOKENIZER.includes(plan.task.type) && !tok) {
    throw new PeftError('RECIPE', `task ${plan.task.type} needs a tokenizer`, { where: 'backbone.path', hint: 'the backbone directory ships no tokenizer' });
  }
  const task = plan.task.type;
  const packing = task === 'causal-lm' && plan.data.packing;
  const textFile = split.format === 'text';
  const encoder = new ExampleEncoder(tok, encodeSpecFor(plan, opts.model, {
    keepWhere: opts.keepWhere, unlabelled: opts.unlabelled, baseDir: split.path ? dirname(split.path) : undefined,
  }));
  // packing counts blocks, not rows, against the limit
  const blockLimit = packing ? limitOf(split.limit, opts.limit) : null;
  const reader = new ExampleReader(packing ? { ...split, limit: null } : split, {
    name: opts.name,
    task: plan.task,
    columns: columnsOf(plan, split),
    onError: plan.data.onError,
    seed: plan.seed,
    withLabels: !opts.unlabelled,
    limit: packing ? null : opts.limit,
    totalRows: opts.scans?.[opts.name as SplitName]?.sourceRows,
    source: sourceOptionsForTask(plan),
  });
  const store = new TokenStore(memoryBudget(opts), opts.keepWhere);
  const packer = packing ? new BlockPacker(plan.data.maxLength, blockLimit) : null;
  const textOf = (ex: Example) => (textFile ? `${ex.text ?? ''}\n` : (ex.text ?? ''));
  /** Adds a group's encodings to the store; false once a packed split is full. */
  const take = (group: Example[], encoded: (TokenExample | RowProblem)[] | null, texts: Int32Array[] | null): boolean => {
    if (packer) {
      for (const ids of texts!) {
        for (const block of packer.push(ids)) store.add({ ids: block });
        if (packer.full) return false;
      }
      return true;
    }
    encoded!.forEach((e, i) => {
      if (isEncodeProblem(e)) reader.bad.record(e, group[i]?.where ?? reader.plan.path);
      else store.add(e);
    });
    return true;
  };
  const grouped = opts.shuffle && plan.data.groupByLength && !packer;
  const collate = collateOptionsFor(plan, tok, opts.model);
  const pool = await encodePoolFor(plan, split, tok, opts, encoder.spec);
  /** Reads the whole split into the store; `more` is asked after every group (false stops). */
  const fill = async (more: () => boolean): Promise<void> => {
    try {
      if (pool) {
        // groups encoded on every core, taken in file order
        await inOrder(reader.batches(), 2 * pool.size + 2,
          async (group) => (packer ? { texts: await pool.texts(group.map(textOf)) } : { encoded: await pool.encode(group) }),
          (r, group) => take(group, r.encoded ?? null, r.texts ?? null) && more());
      } else {
        for await (const group of reader.batches()) {
          const took = packer
            ? take(group, null, group.map((ex) => encoder.text(textOf(ex), false)))
            : take(group, encoder.encode(group), null);
          if (!took || !more()) break;
        }
      }
    } finally {
      await pool?.close();
    }
    if (packer) for (const block of packer.finish()) store.add({ ids: block });
  };
  const statsOf = (): SplitStats => {
    const stats: SplitStats = { examples: store.size, tokens: packer ? packer.tokens : store.tokens, skipped: reader.bad.total };
    if (reader.bad.total > 0) stats.bad = reader.bad.report();
    if (store.spilled) stats.onDisk = true;
    if (pool) stats.workers = pool.size;
    return stats;
  };
  const expected = opts.scans?.[opts.name as SplitName]?.examples;
  if (opts.stream && opts.shuffle && !packer && expected !== undefined && streamMinExamples() > 0 && expected >= streamMinExamples()) {
    // trained while it is read (streaming-batcher.ts): the stats fill in when the stream ends
    const stream = new StreamingBatcher(store, expected, opts.batchSize, plan.seed, collate, grouped);
    const stats: SplitStats = { examples: expected, tokens: 0, skipped: 0, streamed: true };
    fill(() => {
      stream.advance();
      return !stream.stopRequested;
    }).then(() => {
      Object.assign(stats, statsOf(), { streamed: true });
      if (stream.stopRequested) Object.assign(stats, { examples: expected, read: store.size });
      stream.finish();
    }, (e) => stream.fail(e));
    await stream.ready({ epoch: 0, index: 0 });
    return { batcher: stream, stats };
  }
  await fill(() => true);
  const stats = statsOf();
  if (store.size === 0) {
    throw new PeftError('DATA', `split ${opts.name} has no examples`, {
      where: split.path,
      hint: packing ? 'the text is shorter than two tokens' : reader.bad.total > 0 ? `all its rows were bad (${reader.bad.summary()})` : 'check the file and its limit',
    });
  }
  return { batcher: new Batcher(store, opts.batchSize, plan.seed, collate, opts.shuffle, grouped), stats };
}

/**
 * Worker threads for a split large enough to gain from them (POOL_MIN_ROWS rows to encode, known
 * from the pre-flight scan), when the tokenizer is the model directory's own (each worker loads it
 * from there); null to encode on this thread.
 */
async function encodePoolFor(plan: Plan, split: DataSplitPlan, tok: TextTokenizer | null, opts: SplitOptions, spec: EncodeSpec): Promise<EncodePool | null> {
  const dir = opts.model?.dir;
  if (!tok || !dir || plan.task.type === 'image-cls') return null;
  const workers = opts.workers ?? 'auto';
  if (workers !== 'auto') return workers > 0 ? EncodePool.start({ modelDir: dir, spec }, workers) : null;
  const rows = opts.scans?.[opts.name as SplitName]?.sourceRows;
  const packing = plan.task.type === 'causal-lm' && plan.data.packing;
  const limit = packing ? null : limitOf(split.limit, opts.limit);
  if (rows === undefined || Math.min(rows, limit ?? rows) < POOL_MIN_ROWS) return null;
  return EncodePool.start({ modelDir: dir, spec }, workerCount());
}

function limitOf(a: number | null, b: number | null | undefined): number | null {
  const xs = [a, b].filter((x): x is number => typeof x === 'number');
  return xs.length === 0 ? null : Math.min(...xs);
}

/** Train and validation (and test, when asked) batchers for the plan. */
export async function buildData(plan: Plan, tok: TextTokenizer | null, opts: BuildOptions & { test?: boolean } = {}): Promise<BuiltData> {
  const splits = resolveSplits(plan.data);
  if (!splits.train) throw new PeftError('RECIPE', 'missing data.train', { where: 'data', hint: 'name the training file: data: {train: path/to/train.jsonl}' });
  const stats: BuiltData['stats'] = {};
  const tr = await buildSplit(plan, splits.train, tok, { ...opts, name: 'train', batchSize: plan.training.batchSize, shuffle: true });
  stats.train = tr.stats;
  const evalSplit = async (name: 'validation' | 'test'): Promise<Batcher | null> => {
    const sp = splits[name];
    if (!sp) return null;
    const r = await buildSplit(plan, sp, tok, { ...opts, name, batchSize: plan.eval.batchSize, shuffle: false, limit: plan.eval.limit });
    stats[name] = r.stats;
    return r.batcher;
  };
  const validation = await evalSplit('validation');
  const test = opts.test ? await evalSplit('test') : null;
  return { train: tr.batcher, validation, test, stats };
}
