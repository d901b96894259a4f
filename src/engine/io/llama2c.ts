// llama2.c checkpoints (the legacy / version-0 export) → a Hugging Face LLaMA directory.
//
// File: 7 × int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
// vocab_size < 0 means an untied classifier at the end), then float32 tensors, [out, in],
// layers stacked: token_embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final,
// freq_cis_real, freq_cis_imag [seq_len, head_size/2] each, then wcls if untied.
//
// RoPE: llama2.c rotates consecutive pairs (2i, 2i+1) of each head; Hugging Face LLaMA rotates
// (i, i + d/2) ("rotate_half"), with the same frequencies θ_i = 10000^(-2i/d). Reordering the
// rows of wq and wk within each head — even rows first, then odd rows — maps one onto the
// other: HF's component i holds llama2.c's 2i and component i + d/2 holds 2i + 1, so each
// rotated pair is the same pair, and q·k (a dot product over a permutation shared by q and k)
// is unchanged. This is the `permute` of transformers' convert_llama_weights_to_hf.py.
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PeftError } from '../../errors.js';
import { writeFileAtomic, writeJsonAtomic } from './atomic.js';
import { writeSafetensors, type NamedTensor } from './safetensors.js';
import { llama2cTokenizerToHf, readLlama2cTokenizer } from '../tokenizers/llama2c.js';

export interface Llama2cHeader {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  /** Classifier tied to the token embedding (vocab_size > 0 in the file). */
  shared: boolean;
}

const HEADER_BYTES = 28;
const V1_MAGIC = 0x616b3432; // "ak42": llama2.c version 1/2 exports
const ROPE_THETA = 10000;
const HINT = 'the file is truncated or is not a llama2.c legacy (version 0) export';

/** Reads and checks the header; the file size must match it exactly. */
export function readLlama2cHeader(path: string): Llama2cHeader {
  return withFile(path, (fd, size) => readHeader(fd, size, path));
}

function readHeader(fd: number, size: number, path: string): Llama2cHeader {
  const bad = (msg: string, hint = HINT) => new PeftError('FORMAT', msg, { where: path, hint });
  if (size < HEADER_BYTES) throw bad(`file is ${size} bytes, shorter than the ${HEADER_BYTES}-byte llama2.c header`);
  const buf = Buffer.alloc(HEADER_BYTES);
  readFully(fd, buf, 0, path);
  if (buf.readUInt32LE(0) === V1_MAGIC) {
    throw bad('is a llama2.c version-1/2 export, not the legacy (version 0) one', 'export it with llama2.c export.py --version 0');
  }
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab, seqLen] = Array.from({ length: 7 }, (_, i) => buf.readInt32LE(4 * i));
  const h: Llama2cHeader = { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize: Math.abs(vocab), seqLen, shared: vocab > 0 };
  const desc = describe(h);
  if ([dim, hiddenDim, nLayers, nHeads, nKvHeads, seqLen].some((x) => x <= 0) || vocab === 0) throw bad(`header (${desc}) has a non-positive size`);
  if (dim % nHeads !== 0 || (dim / nHeads) % 2 !== 0) throw bad(`header (${desc}): dim is not n_heads × an even head size`);
  if (nHeads % nKvHeads !== 0) throw bad(`header (${desc}): n_heads is not a multiple of n_kv_heads`);
  const expected = HEADER_BYTES + 4 * layout(h).reduce((n, t) => n + t.count, 0);
  if (expected !== size) throw bad(`size does not match its header (${desc}): expected ${expected} bytes, found ${size}`);
  return h;
}

interface Slot { key: string; count: number; shape: number[] }

/** The tensors of the file in order, with their element counts and [layers?, out, in] shapes. */
function layout(h: Llama2cHeader): Slot[] {
  const { dim, hiddenDim: hid, nLayers: L, vocabSize: V, seqLen } = h;
  const hs = dim / h.nHeads;
  const kv = hs * h.nKvHeads;
  const slots: [string, number[]][] = [
    ['emb', [V, dim]], ['rms_att', [L, dim]], ['wq', [L, dim, dim]], ['wk', [L, kv, dim]], ['wv', [L, kv, dim]],
    ['wo', [L, dim, dim]], ['rms_ffn', [L, dim]], ['w1', [L, hid, dim]], ['w2', [L, dim, hid]], ['w3', [L, hid, dim]],
    ['rms_final', [dim]], ['freq_real', [seqLen, hs / 2]], ['freq_imag', [seqLen, hs / 2]],
  ];
  if (!h.shared) slots.push(['wcls', [V, dim]]);
  return slots.map(([key, shape]) => ({ key, shape, count: shape.reduce((a, b) => a * b, 1) }));
}

/**
 * Reads a llama2.c checkpoint into Hugging Face LLaMA tensors (wq/wk rows permuted for
 * rotate_half; the RoPE tables checked against θ = 10000 and dropped).
 */
export function readLlama2cModel(path: string): { header: Llama2cHeader; tensors: NamedTensor[] } {
  return withFile(path, (fd, size) => {
    const h = readHeader(fd, size, path);
    const raw = new Map<string, Float32Array>();
    let pos = HEADER_BYTES;
    for (const slot of layout(h)) {
      const data = new Float32Array(slot.count);
      readFully(fd, new Uint8Array(data.buffer), pos, path);
      raw.set(slot.key, data);
      pos += 4 * slot.count;
    }
    checkRopeTables(raw.get('freq_real')!, raw.get('freq_imag')!, h, path);
    return { header: h, tensors: toHfTensors(h, raw) };
  });
}

function toHfTensors(h: Llama2cHeader, raw: Map<string, Float32Array>): NamedTensor[] {
  const { dim, hiddenDim: hid } = h;
  const hs = dim / h.nHeads;
  const kv = hs * h.nKvHeads;
  const layer = (key: string, l: number, rows: number, cols: number) => raw.get(key)!.slice(l * rows * cols, (l + 1) * rows * cols);
  const out: NamedTensor[] = [{ name: 'model.embed_tokens.weight', shape: [h.vocabSize, dim], data: raw.get('emb')! }];
  for (let l = 0; l < h.nLayers; l++) {
    const p = `model.layers.${l}`;
    out.push(
      { name: `${p}.input_layernorm.weight`, shape: [dim], data: layer('rms_att', l, 1, dim) },
      { name: `${p}.self_attn.q_proj.weight`, shape: [dim, dim], data: ropePermuteRows(layer('wq', l, dim, dim), h.nHeads, hs, dim) },
      { name: `${p}.self_attn.k_proj.weight`, shape: [kv, dim], data: ropePermuteRows(layer('wk', l, kv, dim), h.nKvHeads, hs, dim) },
      { name: `${p}.self_attn.v_proj.weight`, shape: [kv, dim], data: layer('wv', l, kv, dim) },
      { name: `${p}.self_attn.o_proj.weight`, shape: [dim, dim], data: layer('wo', l, dim, dim) },
      { name: `${p}.post_attention_layernorm.weight`, shape: [dim], data: layer('rms_ffn', l, 1, dim) },
      { name: `${p}.mlp.gate_proj.weight`, shape: [hid, dim], data: layer('w1', l, hid, dim) },
      { name: `${p}.mlp.down_proj.weight`, shape: [dim, hid], data: layer('w2', l, dim, hid) },
      { name: `${p}.mlp.up_proj.weight`, shape: [hid, dim], data: layer('w3', l, hid, dim) },
    );
  }
  out.push({ name: 'model.norm.weight', shape: [dim], data: raw.get('rms_final')! });
  if (!h.shared) out.push({ name: 'lm_head.weight', shape: [h.vocabSize, dim], data: raw.get('wcls')! });
  return out;
}

/**
 * Reorders the rows of a [nHeads·headDim, cols] projection from interleaved-pair RoPE order to
 * rotate_half order: within each head, new row j = old row 2j and new row headDim/2 + j = old
 * row 2j + 1.
 */
export function ropePermuteRows(w: Float32Array, nHeads: number, headDim: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  const half = headDim / 2;
  for (let hd = 0; hd < nHeads; hd++) {
    for (let j = 0; j < half; j++) {
      for (const parity of [0, 1]) {
        const from = (hd * headDim + 2 * j + parity) * cols;
        const to = (hd * headDim + parity * half + j) * cols;
        out.set(w.subarray(from, from + cols), to);
      }
    }
  }
  return out;
}

/** The stored cos/sin tables must be those of θ = 10000, which the HF config declares. */
function checkRopeTables(re: Float32Array, im: Float32Array, h: Llama2cHeader, path: string): void {
  const half = h.dim / h.nHeads / 2;
  let worst = 0;
  for (let pos = 0; pos < h.seqLen; pos++) {
    for (let i = 0; i < half; i++) {
      const angle = pos * ROPE_THETA ** (-(2 * i) / (2 * half));
      worst = Math.max(worst, Math.abs(re[pos * half + i] - Math.cos(angle)), Math.abs(im[pos * half + i] - Math.sin(angle)));
    }
  }
  if (!(worst < 1e-3)) {
    throw new PeftError('FORMAT', `its RoPE tables are not those of theta ${ROPE_THETA} (max difference ${worst.toPrecision(3)})`, {
      where: path, hint: 'the weights were trained with another RoPE setting or the file is not a llama2.c legacy export',
    });
  }
}

/** config.json of the equivalent Hugging Face LlamaForCausalLM (keys sorted, as HF writes them). */
export function hfLlamaConfig(h: Llama2cHeader): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: 1,
    eos_token_id: 2,
    hidden_act: 'silu',
    hidden_size: h.dim,
    initializer_range: 0.02,
    intermediate_size: h.hiddenDim,
    max_position_embeddings: h.seqLen,
    model_type: 'llama',
    num_attention_heads: h.nHeads,
    num_hidden_layers: h.nLayers,
    num_key_value_heads: h.nKvHeads,
    pretraining_tp: 1,
    rms_norm_eps: 1e-5,
    rope_scaling: null,
    rope_theta: ROPE_THETA,
    tie_word_embeddings: h.shared,
    torch_dtype: 'float32',
    use_cache: true,
    vocab_size: h.vocabSize,
  };
}

export interface ConvertLlama2cOptions {
  model: string;
  tokenizer: string;
  out: string;
  /** Write into a non-empty directory (our files are replaced; others are left alone). */
  force?: boolean;
}

export interface ConvertLlama2cResult {
  out: string;
  files: string[];
  params: number;
  header: Llama2cHeader;
}

/** Converts a llama2.c model + tokenizer into a Hugging Face LLaMA directory. */
export function convertLlama2c(opts: ConvertLlama2cOptions): ConvertLlama2cResult {
  if (existsSync(opts.out)) {
    if (!statSync(opts.out).isDirectory()) {
      throw new PeftError('FILE', 'output path exists and is not a directory', { where: opts.out, hint: 'choose another --out' });
    }
    if (readdirSync(opts.out).length > 0 && !opts.force) {
      throw new PeftError('FILE', 'output directory is not empty', { where: opts.out, hint: 'pass --force to overwrite, or choose another --out' });
    }
  }
  const { header, tensors } = readLlama2cModel(opts.model);
  const tok = readLlama2cTokenizer(opts.tokenizer, header.vocabSize);
  const hfTok = llama2cTokenizerToHf(tok, { modelMaxLength: header.seqLen, where: opts.tokenizer });
  const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';
  const files: [string, () => void][] = [
    ['config.json', () => writeFileAtomic(join(opts.out, 'config.json'), json(hfLlamaConfig(header)))],
    ['generation_config.json', () => writeJsonAtomic(join(opts.out, 'generation_config.json'), { _from_model_config: true, bos_token_id: 1, eos_token_id: 2 })],
    ['model.safetensors', () => writeSafetensors(join(opts.out, 'model.safetensors'), tensors)],
    ['tokenizer.json', () => writeJsonAtomic(join(opts.out, 'tokenizer.json'), hfTok.tokenizerJson)],
    ['tokenizer_config.json', () => writeJsonAtomic(join(opts.out, 'tokenizer_config.json'), hfTok.tokenizerConfig)],
    ['special_tokens_map.json', () => writeJsonAtomic(join(opts.out, 'special_tokens_map.json'), hfTok.specialTokensMap)],
  ];
  for (const [, write] of files) write();
  const params = tensors.reduce((n, t) => n + t.data.length, 0);
  return { out: opts.out, files: files.map(([f]) => f), params, header };
}

function describe(h: Llama2cHeader): string {
  return `dim=${h.dim}, hidden_dim=${h.hiddenDim}, n_layers=${h.nLayers}, n_heads=${h.nHeads}, n_kv_heads=${h.nKvHeads}, `
    + `vocab_size=${h.shared ? '' : '-'}${h.vocabSize}, seq_len=${h.seqLen}`;
}

function withFile<T>(path: string, f: (fd: number, size: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PeftError('FILE', code === 'ENOENT' ? 'no such file' : `cannot open: ${(e as Error).message}`, {
      where: path, hint: 'check the model path', cause: e,
    });
  }
  try {
    return f(fd, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

function readFully(fd: number, into: Uint8Array, position: number, path: string): void {
  let off = 0;
  while (off < into.byteLength) {
    const got = readSync(fd, into, off, into.byteLength - off, position + off);
    if (got === 0) throw new PeftError('FORMAT', 'file ended early (changed while reading?)', { where: path, hint: HINT });
    off += got;
  }
}
