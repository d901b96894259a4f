// Examples → batches, in a seeded order. The order of epoch e is a permutation drawn from
// (seed, e) alone, so a data cursor {epoch, index} is all a checkpoint needs to resume exactly.
import { Rng } from './rng.js';
import { PeftError } from '../../errors.js';

/** One training/eval example, already tokenised. */
export interface TokenExample {
  ids: Int32Array;
  /** Per-token labels (causal LM: the ids themselves; token-cls), or none. */
  tokenLabels?: Int32Array;
  /** Sequence label (class id, or a float target for regression). */
  label?: number;
  typeIds?: Int32Array;
  /** seq2seq target ids. */
  target?: Int32Array;
  /** image-cls pixels [C·H·W]. */
  pixels?: Float32Array;
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
  /** Real (non-pad) tokens in the batch. */
  tokens: number;
}

export interface DataCursor {
  epoch: number;
  /** Index of the next example in this epoch's order. */
  index: number;
}

export function collate(examples: TokenExample[], padId: number, padSide: 'left' | 'right' = 'right'): Batch {
  const B = examples.length;
  const T = Math.max(...examples.map((e) => e.ids.length));
  const inputIds = new Int32Array(B * T).fill(padId);
  const attentionMask = new Float32Array(B * T);
  const hasTokenLabels = examples.some((e) => e.tokenLabels);
  const tokenLabels = hasTokenLabels ? new Int32Array(B * T).fill(-100) : undefined;
  const hasTypes = examples.some((e) => e.typeIds);
  const typeIds = hasTypes ? new Int32Array(B * T) : undefined;
  const hasLabels = examples.some((e) => e.label !== undefined);
  const labels = hasLabels ? new Float32Array(B) : undefined;
  let tokens = 0;
  examples.forEach((e, b) => {
    const n = e.ids.length;
    const off = b * T + (padSide === 'left' ? T - n : 0);
    inputIds.set(e.ids, off);
    attentionMask.fill(1, off, off + n);
    if (tokenLabels && e.tokenLabels) tokenLabels.set(e.tokenLabels, off);
    if (typeIds && e.typeIds) typeIds.set(e.typeIds, off);
    if (labels) labels[b] = e.label ?? 0;
    tokens += n;
  });
  return { size: B, seqLen: T, inputIds, attentionMask, typeIds, tokenLabels, labels, tokens };
}

export class Batcher {
  constructor(
    readonly examples: TokenExample[],
    readonly batchSize: number,
    readonly seed: number,
    readonly padId: number,
    readonly shuffle = true,
  ) {
    if (examples.length === 0) throw new PeftError('DATA', 'the training split has no examples', { hint: 'check the data file and limit' });
  }

  /** Batches per epoch (the last, smaller batch included). */
  get batchesPerEpoch(): number {
    return Math.ceil(this.examples.length / this.batchSize);
  }

  private orders = new Map<number, Uint32Array>();

  order(epoch: number): Uint32Array {
    let o = this.orders.get(epoch);
    if (!o) {
      o = this.shuffle ? Rng.fromSeed(this.seed, 1 + epoch).permutation(this.examples.length) : Uint32Array.from(this.examples.keys());
      this.orders.clear();
      this.orders.set(epoch, o);
    }
    return o;
  }

  /** The batch at the cursor, and the cursor after it (wrapping to the next epoch). */
  next(cursor: DataCursor): { batch: Batch; cursor: DataCursor } {
    const order = this.order(cursor.epoch);
    const idx = Array.from(order.subarray(cursor.index, cursor.index + this.batchSize));
    const batch = collate(idx.map((i) => this.examples[i]), this.padId);
    let index = cursor.index + idx.length;
    let epoch = cursor.epoch;
    if (index >= order.length) {
      epoch += 1;
      index = 0;
    }
    return { batch, cursor: { epoch, index } };
  }

  /** Every batch in file order (evaluation). */
  *sequential(): Iterable<Batch> {
    for (let i = 0; i < this.examples.length; i += this.batchSize) {
      yield collate(this.examples.slice(i, i + this.batchSize), this.padId);
    }
  }
}
