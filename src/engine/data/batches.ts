// Examples → batches, in a seeded order. The order of epoch e is a permutation drawn from
// (seed, e) alone, so a data cursor {epoch, index} is all a checkpoint needs to resume exactly.
// Padding is per batch (to the longest row), on the tokenizer's side.
import { Rng } from './rng.js';
import { PeftError } from '../../errors.js';
import { ArrayExampleSet, type ExampleSet } from './token-store.js';
import { IGNORE_INDEX } from './encode.js';

/** One training/eval example, already tokenised. */
export interface TokenExample {
  /** Input ids (special tokens included); empty for image examples. */
  ids: Int32Array;
  /** Per-token labels aligned with `ids` (causal LM: the ids themselves; token-cls: -100 off first sub-tokens). */
  tokenLabels?: Int32Array;
  /** Sequence label (class id, or a float target for regression). */
  label?: number;
  typeIds?: Int32Array;
  /** seq2seq: target ids (the labels; EOS included). */
  target?: Int32Array;
  /** seq2seq: decoder inputs, the target shifted right by the model's own rule. */
  decoderIds?: Int32Array;
  /** image-cls: pixels [C·H·W], normalised as the model's image processor does; audio-cls: input_values [T·mel]. */
  pixels?: Float32Array;
  /** Where the example came from (`file:line`), when kept. */
  where?: string;
}

export interface Batch {
  size: number;
  seqLen: number;
  inputIds: Int32Array;
  attentionMask: Float32Array;
  typeIds?: Int32Array;
  /** [B·T] token labels with -100 at padding (causal LM / token-cls). */
  tokenLabels?: Int32Array;
  /** [B] class ids or regression targets. */
  labels?: Float32Array;
  /** seq2seq: target length S, labels [B·S] (-100 at padding) and decoder inputs [B·S]. */
  targetLen?: number;
  targetLabels?: Int32Array;
  decoderInputIds?: Int32Array;
  /** image-cls: [B, C, H, W] pixels. */
  pixelValues?: Float32Array;
  pixelShape?: [number, number, number];
  /** audio-cls: [B, T, mel] filterbank frames. */
  inputValues?: Float32Array;
  audioShape?: [number, number];
  /** Real (non-pad) tokens in the batch (target tokens for seq2seq, examples for images). */
  tokens: number;
  /** Places of the examples, when the set kept them. */
  wheres?: string[];
  /** The task of each example (multi-task data, routed methods): [B]. */
  taskIds?: Int32Array;
  /**
   * The head columns the batch's loss and predictions range over, the same for every row (a task of
   * several sharing one head: its own labels, or every label seen so far); `labels` are columns of
   * the head, and predictions and references index this list. Absent: every column.
   */
  classes?: readonly number[];
  /** Positions of the batch's examples in their split (batches made out of file order: byLength). */
  rows?: number[];
}

/** What the training loop draws batches from: one split's batcher, or a mixture of several tasks'. */
export interface TrainBatches {
  /** Examples in an epoch. */
  readonly size: number;
  readonly batchesPerEpoch: number;
  next(cursor: DataCursor): { batch: Batch; cursor: DataCursor };
  /** A split still being read: resolves when the batch at the cursor has arrived (null: it has). */
  ready?(cursor: DataCursor): Promise<void> | null;
}

export interface CollateOptions {
  padId: number;
  padSide?: 'left' | 'right';
  /** Image examples: [C, H, W]. */
  pixelShape?: [number, number, number];
  /** Audio examples: [T, mel]. */
  audioShape?: [number, number];
}

export interface DataCursor {
  epoch: number;
  /** Index of the next example in this epoch's order (a mixture of tasks: of the next draw). */
  index: number;
  /** A mixture of tasks: each task's own cursor. */
  tasks?: DataCursor[];
}

function padded(rows: (Int32Array | undefined)[], T: number, fill: number, side: 'left' | 'right'): Int32Array {
  const out = new Int32Array(rows.length * T).fill(fill);
  rows.forEach((r, b) => {
    if (r) out.set(r, b * T + (side === 'left' ? T - r.length : 0));
  });
  return out;
}

export function collate(examples: readonly TokenExample[], opts: CollateOptions | number, sideArg: 'left' | 'right' = 'right'): Batch {
  const o: CollateOptions = typeof opts === 'number' ? { padId: opts, padSide: sideArg } : opts;
  const side = o.padSide ?? 'right';
  const B = examples.length;
  const T = Math.max(0, ...examples.map((e) => e.ids.length));
  const inputIds = padded(examples.map((e) => e.ids), T, o.padId, side);
  const attentionMask = new Float32Array(B * T);
  let tokens = 0;
  examples.forEach((e, b) => {
    const off = b * T + (side === 'left' ? T - e.ids.length : 0);
    attentionMask.fill(1, off, off + e.ids.length);
    tokens += e.ids.length;
  });
  const batch: Batch = { size: B, seqLen: T, inputIds, attentionMask, tokens };
  if (examples.some((e) => e.tokenLabels)) batch.tokenLabels = padded(examples.map((e) => e.tokenLabels), T, IGNORE_INDEX, side);
  if (examples.some((e) => e.typeIds)) batch.typeIds = padded(examples.map((e) => e.typeIds), T, 0, side);
  if (examples.some((e) => e.label !== undefined)) batch.labels = Float32Array.from(examples, (e) => e.label ?? 0);
  if (examples.some((e) => e.target)) {
    // decoder side: always right-padded (labels -100, decoder inputs the pad id), as transformers' collator
    const S = Math.max(...examples.map((e) => e.target?.length ?? 0));
    batch.targetLen = S;
    batch.targetLabels = padded(examples.map((e) => e.target), S, IGNORE_INDEX, 'right');
    batch.decoderInputIds = padded(examples.map((e) => e.decoderIds), S, o.padId, 'right');
    batch.tokens = examples.reduce((n, e) => n + (e.target?.length ?? 0), 0);
  }
  if (examples.some((e) => e.pixels) && o.audioShape) {
    const n = o.audioShape[0] * o.audioShape[1];
    batch.inputValues = new Float32Array(B * n);
    examples.forEach((e, b) => batch.inputValues!.set(e.pixels!, b * n));
    batch.audioShape = o.audioShape;
    batch.tokens = B;
  } else if (examples.some((e) => e.pixels)) {
    const shape = o.pixelShape;
    if (!shape) throw new Error('collate: image examples need pixelShape');
    const n = shape[0] * shape[1] * shape[2];
    batch.pixelValues = new Float32Array(B * n);
    examples.forEach((e, b) => batch.pixelValues!.set(e.pixels!, b * n));
    batch.pixelShape = shape;
    batch.tokens = B;
  }
  if (examples.some((e) => e.where !== undefined)) batch.wheres = examples.map((e) => e.where ?? '');
  return batch;
}

/** Batches per length-sorted group (transformers' LengthGroupedSampler uses 50). */
export const MEGABATCH = 50;

/** The order with each run of `size` indices sorted by length, longest first (stable). */
export function groupedByLength(order: Uint32Array, size: number, length: (i: number) => number): Uint32Array {
  const out = new Uint32Array(order.length);
  for (let s = 0; s < order.length; s += size) {
    const group = Array.from(order.subarray(s, s + size));
    const lens = new Map(group.map((i) => [i, length(i)]));
    group.sort((a, b) => (lens.get(b) as number) - (lens.get(a) as number));
    out.set(group, s);
  }
  return out;
}

export class Batcher implements TrainBatches {
  private readonly collateOptions: CollateOptions;
  readonly examples: ExampleSet;

  constructor(
    examples: ExampleSet | readonly TokenExample[],
    readonly batchSize: number,
    readonly seed: number,
    padId: number | CollateOptions,
    readonly shuffle = true,
    /** Batches of similar-length examples: each run of 50 batches of the seeded order is sorted by length. */
    readonly groupByLength = false,
    /** A set still being filled (streaming-batcher.ts) may start empty. */
    filling = false,
  ) {
    this.examples = Array.isArray(examples) ? new ArrayExampleSet(examples) : (examples as ExampleSet);
    if (this.examples.size === 0 && !filling) throw new PeftError('DATA', 'the training split has no examples', { hint: 'check the data file and limit' });
    this.collateOptions = typeof padId === 'number' ? { padId } : padId;
  }

  /** The same examples batched by another size (a batch size computed once the data is read). */
  withBatchSize(batchSize: number): Batcher {
    return new Batcher(this.examples, batchSize, this.seed, this.collateOptions, this.shuffle, this.groupByLength);
  }

  /** Examples in the set. */
  get size(): number {
    return this.examples.size;
  }

  /** Batches per epoch (the last, smaller batch included). */
  get batchesPerEpoch(): number {
    return Math.ceil(this.examples.size / this.batchSize);
  }

  private orders = new Map<number, Uint32Array>();

  order(epoch: number): Uint32Array {
    let o = this.orders.get(epoch);
    if (!o) {
      const n = this.examples.size;
      o = this.shuffle ? Rng.fromSeed(this.seed, 1 + epoch).permutation(n) : Uint32Array.from({ length: n }, (_, i) => i);
      if (this.groupByLength) o = groupedByLength(o, this.batchSize * MEGABATCH, (i) => this.examples.length(i));
      this.orders.clear();
      this.orders.set(epoch, o);
    }
    return o;
  }

  protected collectOf(indices: ArrayLike<number>): Batch {
    return collate(Array.from(indices, (i) => this.examples.get(i)), this.collateOptions);
  }

  /** The batch at the cursor, and the cursor after it (wrapping to the next epoch). */
  next(cursor: DataCursor): { batch: Batch; cursor: DataCursor } {
    const order = this.order(cursor.epoch);
    const idx = order.subarray(cursor.index, cursor.index + this.batchSize);
    const batch = this.collectOf(idx);
    let index = cursor.index + idx.length;
    let epoch = cursor.epoch;
    if (index >= order.length) {
      epoch += 1;
      index = 0;
    }
    return { batch, cursor: { epoch, index } };
  }

  /** A seeded sample of n of its examples, batched the same way (a replay memory). */
  sample(n: number, seed: number): Batcher {
    const order = Rng.fromSeed(seed, 0x4e9a7).permutation(this.examples.size);
    const picked = Array.from(order.subarray(0, Math.min(n, order.length)), (i) => this.examples.get(i));
    return new Batcher(picked, this.batchSize, seed, this.collateOptions, this.shuffle, false);
  }

  /** Every batch in file order (evaluation). */
  *sequential(): Generator<Batch> {
    const n = this.examples.size;
    for (let i = 0; i < n; i += this.batchSize) {
      yield this.collectOf(Array.from({ length: Math.min(this.batchSize, n - i) }, (_, k) => i + k));
    }
  }

  /**
   * Every example once, in batches of similar length (longest first; equal lengths in file order),
   * each batch carrying its examples' positions (`rows`) so results can be put back in file order:
   * evaluation and prediction pad a batch only to its own longest row, and sorted rows barely pad.
   */
  *byLength(): Generator<Batch> {
    const n = this.examples.size;
    const order = Array.from({ length: n }, (_, i) => i);
    const len = Int32Array.from(order, (i) => this.examples.length(i));
    order.sort((a, b) => len[b]! - len[a]! || a - b);
    for (let i = 0; i < n; i += this.batchSize) {
      const rows = order.slice(i, i + this.batchSize);
      yield { ...this.collectOf(rows), rows };
    }
  }
}
