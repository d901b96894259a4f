// The model side of generation: runs the first pass (a causal LM's prompt; an encoder-decoder's
// encoder and decoder start token), then one pass per step that feeds each row's new token, and
// returns each row's last-position logits. With the KV cache a step processes the new tokens
// alone; without it every step recomputes every position (the reference). The strategies
// (greedy, sampling, beam search) only see logits and row contexts.
//
// Causal prompts are left-padded: as transformers does in generation, positions come from the
// attention mask (cumulative sum − 1, pads at 1) and every new token's mask is 1.
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from '../nn/context.js';
import type { ModelInputs, TaskModel } from '../backbones/types.js';
import { KVCache } from './cache.js';
import type { RowContext } from './logits-processors.js';

export interface StepperInputs {
  seq2seq: boolean;
  /** Causal: the prompts, left-padded. Encoder-decoders: the encoder inputs. */
  ids: number[][];
  mask: number[][];
  /** Encoder-decoders: the decoder's first token. */
  decoderStart: number;
}

function int2d(rows: readonly (readonly number[])[]): tf.Tensor2D {
  const T = rows[0]?.length ?? 0;
  const flat = new Int32Array(rows.length * T);
  rows.forEach((r, i) => flat.set(r, i * T));
  return tf.tensor2d(flat, [rows.length, T], 'int32');
}

/** transformers' generation positions: cumulative sum of the mask − 1, padding at 1. */
export function maskPositions(mask: readonly number[]): number[] {
  let n = 0;
  return mask.map((m) => (m > 0 ? n++ : 1));
}

export class Stepper {
  readonly rows: number;
  /** Decoder-side tokens per row: causal the padded prompt and what was generated; encoder-decoders the start token and what was generated. */
  private ids: number[][];
  /** Causal: the key mask of `ids`. */
  private mask: number[][];
  private encIds: number[][];
  private encMask: number[][];
  private readonly cache: KVCache | null;
  /** Causal with padding: positions are passed explicitly. */
  private readonly explicitPositions: boolean;
  private started = false;

  constructor(
    private readonly model: TaskModel,
    private readonly ctxFactory: () => ForwardContext,
    private readonly inp: StepperInputs,
    useCache: boolean,
  ) {
    this.rows = inp.ids.length;
    this.cache = useCache ? new KVCache() : null;
    if (inp.seq2seq) {
      this.encIds = inp.ids.map((r) => [...r]);
      this.encMask = inp.mask.map((r) => [...r]);
      this.ids = inp.ids.map(() => [inp.decoderStart]);
      this.mask = [];
      this.explicitPositions = false;
    } else {
      this.encIds = [];
      this.encMask = [];
      this.ids = inp.ids.map((r) => [...r]);
      this.mask = inp.mask.map((r) => [...r]);
      this.explicitPositions = inp.mask.some((r) => r.some((m) => m === 0));
    }
  }

  /** What the logits processors of row r look at. */
  context(r: number, generated: number): RowContext {
    const tokens = this.inp.seq2seq ? this.ids[r] : this.ids[r].filter((_, t) => this.mask[r][t] > 0);
    return { tokens, generated };
  }

  /** The first pass: logits of the position after the prompt (causal) or the start token. */
  first(): Float32Array[] {
    if (this.started) throw new Error('Stepper.first called twice');
    this.started = true;
    return this.run(this.inputsFor(0));
  }

  /** Appends one token per row and returns the logits of the position after it. */
  next(tokens: readonly number[]): Float32Array[] {
    if (tokens.length !== this.rows) throw new Error(`expected ${this.rows} tokens, got ${tokens.length}`);
    const from = this.ids[0].length;
    tokens.forEach((t, r) => {
      this.ids[r].push(t);
      if (!this.inp.seq2seq) this.mask[r].push(1);
    });
    return this.run(this.inputsFor(this.cache ? from : 0));
  }

  /** Beam search: row i continues row `rows[i]` (its tokens, mask and cached keys/values). */
  reorder(rows: readonly number[]): void {
    const pick = (m: number[][]) => (m.length === 0 ? m : rows.map((r) => [...m[r]]));
    this.ids = pick(this.ids);
    this.mask = pick(this.mask);
    this.encIds = pick(this.encIds);
    this.encMask = pick(this.encMask);
    this.cache?.reorder(rows);
  }

  dispose(): void {
    this.cache?.dispose();
  }

  /** The inputs of a pass over the decoder-side positions from..end (the cache holds those before). */
  private inputsFor(from: number): ModelInputs {
    const ids = this.ids.map((r) => r.slice(from));
    if (this.inp.seq2seq) {
      const inputs: ModelInputs = { decoderInputIds: int2d(ids) };
      // with a cache the encoder output is held after the first pass
      if (!this.cache || from === 0) {
        inputs.inputIds = int2d(this.encIds);
        inputs.attentionMask = int2d(this.encMask);
      }
      return inputs;
    }
    const inputs: ModelInputs = { inputIds: int2d(ids), attentionMask: int2d(this.mask.map((r) => r.slice(from))) };
    if (this.explicitPositions) inputs.positionIds = int2d(this.mask.map((r) => maskPositions(r).slice(from)));
    return inputs;
  }

  private run(inputs: ModelInputs): Float32Array[] {
    let last: tf.Tensor;
    try {
      last = tf.tidy(() => {
        const out = this.model.forward(inputs, this.ctxFactory(), this.cache ? { cache: this.cache } : {});
        const [R, T, V] = out.logits.shape as [number, number, number];
        return tf.reshape(tf.slice(out.logits, [0, T - 1, 0], [R, 1, V]), [R, V]);
      });
    } finally {
      for (const t of Object.values(inputs)) (t as tf.Tensor | undefined)?.dispose();
    }
    const V = last.shape[1]!;
    const data = last.dataSync() as Float32Array;
    last.dispose();
    return Array.from({ length: this.rows }, (_, r) => data.subarray(r * V, (r + 1) * V));
  }
}
