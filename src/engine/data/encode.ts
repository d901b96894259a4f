// Examples (rows mapped to a task's fields) → tokenised examples, per task, as transformers' example
// scripts prepare them:
//   seq-cls / regression  text (and text_pair) through the tokenizer's template, truncated to
//                         max_length (pairs longest-first), token type ids when the model has them;
//   token-cls             each word encoded on its own, its label on its first sub-token and -100 on
//                         the others and on special tokens (run_ner, label_all_tokens = False);
//   causal-lm             the text with special tokens (packing is lm-blocks.ts' job);
//   seq2seq               source → input ids; target → labels, and decoder inputs shifted right by
//                         the model's own rule (BART/T5: the start token first; mBART: the last
//                         token, its language code, wraps to the front);
//   image-cls, clip-cls   pixels → pixel_values (images.ts);
//   audio-cls             a WAV file or samples → log-mel input_values (audio/features.ts).
// A row that cannot become an example (an image of the wrong shape) is a RowProblem, as in rows.ts.
import type { TaskType } from '../../plan/index.js';
import type { TextTokenizer } from '../tokenizers/index.js';
import type { TokenExample } from './batches.js';
import type { Example, RowProblem } from './types.js';
import { toPixelValues, type ImageSpec } from './images.js';
import { loadClip, toInputValues, type AudioSpec } from './audio/features.js';
import { PeftError } from '../../errors.js';

export const IGNORE_INDEX = -100;

export interface DecoderShift {
  start: number;
  pad: number;
  /** mBART: the last token moves to the front instead of a start token. */
  wrapLast: boolean;
}

export interface EncodeSpec {
  task: TaskType;
  maxLength: number;
  /** Keep token type ids (the model has a token-type embedding). */
  typeIds: boolean;
  /** seq2seq: how the model shifts labels into decoder inputs. */
  decoder?: DecoderShift;
  /** image-cls: the model's input geometry and normalisation. */
  image?: ImageSpec;
  /** audio-cls: the feature extractor's settings, and the directory audio paths are relative to. */
  audio?: AudioSpec;
  baseDir?: string;
  /** Keep `where` on each example (evaluation, prediction). */
  keepWhere?: boolean;
  /** Do not require labels (prediction). */
  unlabelled?: boolean;
}

/** What a model config says about its decoder-input shift (BART, mBART, T5). */
export function decoderShiftOf(config: Record<string, unknown>): DecoderShift {
  const pad = typeof config.pad_token_id === 'number' ? config.pad_token_id : 0;
  const start = typeof config.decoder_start_token_id === 'number' ? config.decoder_start_token_id : pad;
  return { start, pad, wrapLast: config.model_type === 'mbart' };
}

/** Decoder inputs for one label sequence: [start, l0 … l(n−2)] (mBART: [l(n−1), l0 … l(n−2)]). */
export function shiftRight(labels: ArrayLike<number>, shift: DecoderShift): Int32Array {
  const n = labels.length;
  const out = new Int32Array(n);
  if (n === 0) return out;
  out[0] = shift.wrapLast ? (labels[n - 1] as number) : shift.start;
  for (let t = 1; t < n; t++) {
    const v = labels[t - 1] as number;
    out[t] = v === IGNORE_INDEX ? shift.pad : v;
  }
  return out;
}

/** Where a text's own ids sit in its encoding with special tokens: the template's prefix and suffix. */
function specialsAround(tok: TextTokenizer): { prefix: number[]; suffix: number[] } {
  for (const probe of ['a', 'the', 'x', '1']) {
    const raw = tok.encode(probe, { addSpecialTokens: false });
    const full = tok.encode(probe, { addSpecialTokens: true });
    if (raw.length === 0) continue;
    for (let i = 0; i + raw.length <= full.length; i++) {
      if (raw.every((id, k) => full[i + k] === id)) return { prefix: full.slice(0, i), suffix: full.slice(i + raw.length) };
    }
  }
  return { prefix: [], suffix: [] };
}

/** Tasks whose examples are not text. */
export const NO_TOKENIZER: readonly TaskType[] = ['image-cls', 'audio-cls', 'clip-cls'];

export class ExampleEncoder {
  private specials: { prefix: number[]; suffix: number[] } | null = null;
  private spaceBeforeWords: boolean | null = null;

  constructor(private readonly tok: TextTokenizer | null, readonly spec: EncodeSpec) {
    if (!NO_TOKENIZER.includes(spec.task) && tok === null) throw new Error(`task ${spec.task} needs a tokenizer`);
  }

  private get tokenizer(): TextTokenizer {
    return this.tok as TextTokenizer;
  }

  /** Encodes a group of examples; an example that cannot be encoded comes back as its problem. */
  encode(examples: readonly Example[]): (TokenExample | RowProblem)[] {
    let out: (TokenExample | RowProblem)[];
    switch (this.spec.task) {
      case 'seq-cls':
      case 'regression':
        out = this.sequences(examples);
        break;
      case 'token-cls':
        out = examples.map((e) => this.words(e));
        break;
      case 'causal-lm':
        out = examples.map((e) => ({ ids: this.text(e.text ?? '', true) }));
        break;
      case 'seq2seq':
        out = examples.map((e) => this.seq2seq(e));
        break;
      case 'image-cls':
      case 'clip-cls':
        out = examples.map((e) => this.image(e));
        break;
      case 'audio-cls':
        out = examples.map((e) => this.audio(e));
        break;
    }
    if (this.spec.keepWhere) out.forEach((o, i) => {
      if (!('reason' in o)) o.where = examples[i]?.where;
    });
    return out;
  }

  /** Ids of one text with special tokens, truncated to max_length on the tokenizer's side (`truncate` false: whole). */
  text(text: string, truncate = true): Int32Array {
    if (!truncate) return Int32Array.from(this.tokenizer.encode(text, { addSpecialTokens: true }));
    const enc = this.tokenizer.batch([text], { maxLength: this.spec.maxLength, truncation: true, padding: false });
    return Int32Array.from(enc.inputIds[0] as number[]);
  }

  private sequences(examples: readonly Example[]): TokenExample[] {
    const inputs = examples.map((e) => (e.textPair !== undefined ? ([e.text ?? '', e.textPair] as const) : (e.text ?? '')));
    const enc = this.tokenizer.batch(inputs, { maxLength: this.spec.maxLength, truncation: true, padding: false });
    return examples.map((e, i) => {
      const ids = Int32Array.from(enc.inputIds[i] as number[]);
      const ex: TokenExample = { ids };
      if (this.spec.typeIds) ex.typeIds = enc.tokenTypeIds ? Int32Array.from(enc.tokenTypeIds[i] as number[]) : new Int32Array(ids.length);
      if (e.label !== undefined) ex.label = e.label;
      else if (!this.spec.unlabelled) ex.label = 0;
      return ex;
    });
  }

  /** Byte-level BPE marks a word's leading space in its tokens (Ġ): words after the first get one. */
  private wordPrefix(): boolean {
    if (this.spaceBeforeWords === null) {
      const ids = this.tokenizer.encode(' a', { addSpecialTokens: false });
      const first = ids.length > 0 ? this.tokenizer.idToToken(ids[0] as number) : null;
      this.spaceBeforeWords = first !== null && first.startsWith('Ġ');
    }
    return this.spaceBeforeWords;
  }

  private words(e: Example): TokenExample {
    this.specials ??= specialsAround(this.tokenizer);
    const { prefix, suffix } = this.specials;
    const room = Math.max(0, this.spec.maxLength - prefix.length - suffix.length);
    const ids: number[] = [...prefix];
    const labels: number[] = prefix.map(() => IGNORE_INDEX);
    const words = e.tokens ?? [];
    const spaced = this.wordPrefix();
    for (let w = 0; w < words.length && ids.length - prefix.length < room; w++) {
      const piece = this.tokenizer.encode(spaced && w > 0 ? ` ${words[w]}` : (words[w] as string), { addSpecialTokens: false });
      const unk = this.tokenizer.unkId;
      const sub = piece.length > 0 ? piece : unk !== null ? [unk] : [];
      sub.slice(0, room - (ids.length - prefix.length)).forEach((id, k) => {
        ids.push(id);
        // unlabelled rows (prediction) mark each word's first sub-token with 0
        labels.push(k === 0 ? (e.labels ? (e.labels[w] ?? IGNORE_INDEX) : 0) : IGNORE_INDEX);
      });
    }
    ids.push(...suffix);
    labels.push(...suffix.map(() => IGNORE_INDEX));
    const ex: TokenExample = { ids: Int32Array.from(ids), tokenLabels: Int32Array.from(labels) };
    if (this.spec.typeIds) ex.typeIds = new Int32Array(ids.length);
    return ex;
  }

  private seq2seq(e: Example): TokenExample {
    const ids = this.text(e.text ?? '');
    if (e.target === undefined) return { ids };
    const target = this.text(e.target);
    const shift = this.spec.decoder ?? { start: this.tokenizer.padId ?? 0, pad: this.tokenizer.padId ?? 0, wrapLast: false };
    return { ids, target, decoderIds: shiftRight(target, shift) };
  }

  private image(e: Example): TokenExample | RowProblem {
    const spec = this.spec.image;
    if (!spec) throw new Error('image-cls encoding needs the model image spec');
    if (!e.image) return { reason: 'missing', message: 'the row has no image' };
    const pixels = toPixelValues(e.image, e.shape, spec);
    if (typeof pixels === 'string') return { reason: 'type', message: pixels };
    const ex: TokenExample = { ids: new Int32Array(0), pixels };
    if (e.label !== undefined) ex.label = e.label;
    return ex;
  }

  private audio(e: Example): TokenExample | RowProblem {
    const spec = this.spec.audio;
    if (!spec) throw new Error('audio-cls encoding needs the model audio spec');
    if (e.audio === undefined) return { reason: 'missing', message: 'the row has no audio' };
    let samples: Float32Array;
    try {
      samples = loadClip(e.audio, spec, this.spec.baseDir ?? '.');
    } catch (err) {
      if (err instanceof PeftError) return { reason: 'type', message: `${err.message}${err.where ? ` (${err.where})` : ''}`, hint: err.hint };
      throw err;
    }
    const ex: TokenExample = { ids: new Int32Array(0), pixels: toInputValues(samples, spec) };
    if (e.label !== undefined) ex.label = e.label;
    return ex;
  }
}

/** True when `x` is a problem rather than an encoded example. */
export function isEncodeProblem(x: TokenExample | RowProblem): x is RowProblem {
  return (x as RowProblem).reason !== undefined;
}
