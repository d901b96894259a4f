// Rows of token ids for `peft predict`: `{"input_ids": [...], "attention_mask"?: [...],
// "token_type_ids"?: [...], "decoder_input_ids"?: [...], "task_id"?: n}` — the model's own inputs, no tokenizer, so that
// anyone can hold peft's logits against another implementation's on the same ids. Each row is
// checked against the model (ids inside the vocabulary, lengths within its positions) and
// becomes an example of a Batch (right-padded, mask 0 where padded).
import type { Row, RowProblem } from '../data/types.js';
import type { Batch } from '../data/batches.js';

export interface TokenRow {
  inputIds: number[];
  /** 1 for real tokens; absent: all real. */
  attentionMask: number[] | null;
  decoderInputIds: number[] | null;
  /** BERT-style segment ids; absent: all 0. */
  tokenTypeIds: number[] | null;
  taskId: number | null;
}

export interface TokenLimits {
  vocab: number;
  maxPositions: number;
  /** Tasks a routing method knows (null: task ids are not used by the method). */
  tasks: number | null;
}

/** Whether a row is given as token ids rather than text. */
export function isTokenRow(row: Row): boolean {
  return row.input_ids !== undefined;
}

function idList(v: unknown, key: string, limits: TokenLimits): number[] | RowProblem {
  if (!Array.isArray(v) || v.length === 0) return { reason: 'type', message: `${key} must be a non-empty list of token ids`, hint: '{"input_ids": [1, 5, 9]}' };
  if (v.length > limits.maxPositions) {
    return { reason: 'length', message: `${key} has ${v.length} tokens, more than the model's ${limits.maxPositions} positions` };
  }
  for (const id of v) {
    if (!Number.isInteger(id) || id < 0 || id >= limits.vocab) {
      return { reason: 'type', message: `${key} holds ${JSON.stringify(id)}, not a token id of this model (0 … ${limits.vocab - 1})` };
    }
  }
  return v as number[];
}

export function parseTokenRow(row: Row, limits: TokenLimits): TokenRow | RowProblem {
  const ids = idList(row.input_ids, 'input_ids', limits);
  if (!Array.isArray(ids)) return ids;
  let mask: number[] | null = null;
  if (row.attention_mask !== undefined) {
    const m = row.attention_mask;
    if (!Array.isArray(m) || m.length !== ids.length || !m.every((x) => x === 0 || x === 1)) {
      return { reason: 'type', message: `attention_mask must be a list of ${ids.length} zeros and ones (one per input id)` };
    }
    mask = m as number[];
  }
  let dec: number[] | null = null;
  if (row.decoder_input_ids !== undefined) {
    const d = idList(row.decoder_input_ids, 'decoder_input_ids', limits);
    if (!Array.isArray(d)) return d;
    dec = d;
  }
  let types: number[] | null = null;
  if (row.token_type_ids !== undefined) {
    const t = row.token_type_ids;
    if (!Array.isArray(t) || t.length !== ids.length || !t.every((x) => Number.isInteger(x) && x >= 0 && x < 16)) {
      return { reason: 'type', message: `token_type_ids must be a list of ${ids.length} small non-negative integers (one per input id)` };
    }
    types = t as number[];
  }
  let taskId: number | null = null;
  if (row.task_id !== undefined) {
    const t = row.task_id;
    if (!Number.isInteger(t) || (t as number) < 0 || (limits.tasks !== null && (t as number) >= limits.tasks)) {
      return { reason: 'type', message: `task_id ${JSON.stringify(t)} is not a task of this method${limits.tasks !== null ? ` (0 … ${limits.tasks - 1})` : ''}` };
    }
    taskId = t as number;
  }
  return { inputIds: ids, attentionMask: mask, decoderInputIds: dec, tokenTypeIds: types, taskId };
}

/** Token rows → one right-padded batch, and each row's own length (its positions in the output). */
export function collateTokenRows(rows: readonly TokenRow[], padId: number): { batch: Batch; lengths: number[] } {
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.inputIds.length));
  const inputIds = new Int32Array(B * T).fill(padId);
  const attentionMask = new Float32Array(B * T);
  let tokens = 0;
  rows.forEach((r, b) => {
    inputIds.set(r.inputIds, b * T);
    r.inputIds.forEach((_, t) => {
      const m = r.attentionMask ? r.attentionMask[t] : 1;
      attentionMask[b * T + t] = m;
      tokens += m;
    });
  });
  const batch: Batch = { size: B, seqLen: T, inputIds, attentionMask, tokens };
  if (rows.some((r) => r.tokenTypeIds)) {
    batch.typeIds = new Int32Array(B * T);
    rows.forEach((r, b) => batch.typeIds!.set(r.tokenTypeIds ?? [], b * T));
  }
  let lengths = rows.map((r) => r.inputIds.length);
  if (rows.some((r) => r.decoderInputIds)) {
    const S = Math.max(...rows.map((r) => r.decoderInputIds?.length ?? 1));
    const dec = new Int32Array(B * S).fill(padId);
    rows.forEach((r, b) => dec.set(r.decoderInputIds ?? [padId], b * S));
    batch.decoderInputIds = dec;
    batch.targetLen = S;
    lengths = rows.map((r) => r.decoderInputIds?.length ?? 1);
  }
  if (rows.some((r) => r.taskId !== null)) batch.taskIds = Int32Array.from(rows, (r) => r.taskId ?? 0);
  return { batch, lengths };
}
