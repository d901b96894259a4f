// The on-disk form of a compressed adapter: `adapter_compressed.safetensors` beside the original
// adapter_config.json (no adapter_model.safetensors, so Python peft fails loudly rather than
// loading something else). A handful of blobs — packed level codes, means and stds (quantize);
// kept positions, sign bits and α (ComPEFT); uncompressed tensors (the task head) — and a layout
// saying which slice of them each original tensor is, kept as deflated JSON in the header
// metadata so that tensor names do not outweigh 1-bit payloads. Opening decodes every tensor to
// float32 and serves them by their original names: loading, merging and evaluating read a
// compressed adapter as they read a plain one.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { openSafetensors, writeSafetensors, type NamedTensor, type TensorInfo, type TensorSource, type TypedArray } from '../../io/safetensors.js';
import { packCodes, riceDecode, riceEncode, riceParameter, unpackCodes } from './bits.js';
import { compeft, compeftValues, type CompeftResult } from './compeft.js';
import { dequantizeTensor, quantizeTensor, storedLevels, type Granularity } from './quantize.js';
import { PeftError } from '../../../errors.js';

export const COMPRESSED_WEIGHTS = 'adapter_compressed.safetensors';
const FORMAT = 'peft-compressed';

export type CompressScheme =
  | { method: 'quantize'; bits: number; granularity: Granularity }
  | { method: 'compeft'; density: number; alpha: number; scope: 'adapter' | 'tensor' };

/** One tensor to store: compressed (with its θ_init for ComPEFT) or kept as float32. */
export interface StoreTensor {
  name: string;
  shape: number[];
  data: Float32Array;
  compress: boolean;
  /** ComPEFT's θ_init: 0 for LoRA-style tensors, 1 for IA³ vectors. */
  init?: number;
}

type Entry =
  | { n: string; s: number[]; e: 'f'; at: number }
  | { n: string; s: number[]; e: 'q'; at: number; g: number; ng: number }
  | { n: string; s: number[]; e: 'c'; at: number; a: number; i: number };

interface Layout {
  scheme: CompressScheme;
  positions?: { code: 'bitmap' } | { code: 'rice'; k: number; kept: number };
  entries: Entry[];
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function writeCompressed(path: string, tensors: StoreTensor[], scheme: CompressScheme): { bytes: number; kept?: number } {
  const plain: number[] = [];
  const entries: Entry[] = [];
  const blobs: NamedTensor[] = [];
  const layout: Layout = { scheme, entries };
  const put = (t: StoreTensor) => {
    entries.push({ n: t.name, s: t.shape, e: 'f', at: plain.length });
    for (const v of t.data) plain.push(v);
  };
  let kept: number | undefined;
  if (scheme.method === 'quantize') {
    const codes: Uint8Array[] = [];
    let codeBytes = 0;
    const means: number[] = [];
    const stds: number[] = [];
    for (const t of tensors) {
      if (!t.compress) {
        put(t);
        continue;
      }
      const q = quantizeTensor(t.data, t.shape, scheme.bits, scheme.granularity);
      const packed = packCodes(q.codes, scheme.bits);
      entries.push({ n: t.name, s: t.shape, e: 'q', at: codeBytes, g: means.length, ng: q.mean.length });
      codes.push(packed);
      codeBytes += packed.length;
      means.push(...q.mean);
      stds.push(...q.std);
    }
    blobs.push({ name: 'codes', shape: [codeBytes], data: concatBytes(codes, codeBytes), dtype: 'U8' });
    blobs.push({ name: 'mean', shape: [means.length], data: Float32Array.from(means) });
    blobs.push({ name: 'std', shape: [stds.length], data: Float32Array.from(stds) });
    blobs.push({ name: 'codebook', shape: [2 ** scheme.bits], data: storedLevels(scheme.bits) });
  } else {
    const squeezed = tensors.filter((t) => t.compress);
    const flat = new Float32Array(squeezed.reduce((n, t) => n + t.data.length, 0));
    let at = 0;
    for (const t of squeezed) {
      const init = t.init ?? 0;
      for (let i = 0; i < t.data.length; i++) flat[at + i] = t.data[i] - init;
      at += t.data.length;
    }
    // one top-k and α over the whole adapter, or each tensor on its own
    const parts: CompeftResult[] = scheme.scope === 'adapter'
      ? [compeft(flat, scheme.density, scheme.alpha)]
      : squeezed.map((t, i) => compeft(flat.subarray(offsetOf(squeezed, i), offsetOf(squeezed, i) + t.data.length), scheme.density, scheme.alpha));
    const mask = new Uint8Array(flat.length);
    const negative: number[] = [];
    const alphas = parts.map((p) => p.alpha);
    let o = 0;
    for (const p of parts) {
      mask.set(p.mask, o);
      for (let i = 0; i < p.mask.length; i++) if (p.mask[i]) negative.push(p.negative[i]);
      o += p.mask.length;
    }
    kept = negative.length;
    at = 0;
    squeezed.forEach((t, i) => {
      entries.push({ n: t.name, s: t.shape, e: 'c', at, a: scheme.scope === 'adapter' ? 0 : i, i: t.init ?? 0 });
      at += t.data.length;
    });
    for (const t of tensors) if (!t.compress) put(t);
    // positions: a bitmap, or Rice-coded gaps when that is shorter (sparse masks)
    const k = riceParameter(mask.length, kept);
    const rice = riceEncode(mask, k);
    const bitmap = packCodes(mask, 1);
    if (rice.length < bitmap.length) {
      layout.positions = { code: 'rice', k, kept };
      blobs.push({ name: 'positions', shape: [rice.length], data: rice, dtype: 'U8' });
    } else {
      layout.positions = { code: 'bitmap' };
      blobs.push({ name: 'positions', shape: [bitmap.length], data: bitmap, dtype: 'U8' });
    }
    const signs = packCodes(negative, 1);
    blobs.push({ name: 'signs', shape: [signs.length], data: signs, dtype: 'U8' });
    blobs.push({ name: 'alpha', shape: [alphas.length], data: Float32Array.from(alphas) });
  }
  if (plain.length > 0) blobs.push({ name: 'plain', shape: [plain.length], data: Float32Array.from(plain) });
  const bytes = writeSafetensors(path, blobs, {
    format: FORMAT,
    layout: deflateRawSync(Buffer.from(JSON.stringify(layout)), { level: 9 }).toString('base64'),
  });
  return { bytes, kept };
}

function offsetOf(ts: StoreTensor[], i: number): number {
  let o = 0;
  for (let j = 0; j < i; j++) o += ts[j].data.length;
  return o;
}

function concatBytes(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A compressed adapter file, decoded: a tensor source with the original names (float32). */
export interface CompressedSource extends TensorSource {
  scheme: 'quantize' | 'compeft';
  layout: Layout;
}

export function openCompressed(path: string): CompressedSource {
  const file = openSafetensors(path);
  const meta = file.metadata();
  if (meta.format !== FORMAT || !meta.layout) {
    throw new PeftError('FORMAT', `not a compressed adapter (metadata format ${JSON.stringify(meta.format)})`, { where: path, hint: 'write it with peft compress' });
  }
  let layout: Layout;
  try {
    layout = JSON.parse(inflateRawSync(Buffer.from(meta.layout, 'base64')).toString('utf8')) as Layout;
  } catch (e) {
    throw new PeftError('FORMAT', `the compressed adapter's layout cannot be read (${(e as Error).message})`, { where: path });
  }
  const decoded = new Map<string, { shape: number[]; data: Float32Array }>();
  const blob = (n: string) => (file.has(n) ? file.read(n) : new Float32Array(0));
  const plain = blob('plain');
  try {
    if (layout.scheme.method === 'quantize') {
      const codes = file.readRaw('codes') as Uint8Array;
      const mean = file.read('mean');
      const std = file.read('std');
      const levels = file.read('codebook');
      const bits = layout.scheme.bits;
      for (const e of layout.entries) {
        const n = count(e.s);
        if (e.e === 'q') {
          const q = { codes: unpackCodes(codes, n, bits, e.at), mean: mean.subarray(e.g, e.g + e.ng), std: std.subarray(e.g, e.g + e.ng) };
          decoded.set(e.n, { shape: e.s, data: dequantizeTensor(q, levels, n) });
        }
      }
    } else {
      const compressed = layout.entries.filter((e): e is Extract<Entry, { e: 'c' }> => e.e === 'c');
      const total = compressed.reduce((a, e) => a + count(e.s), 0);
      const pos = file.readRaw('positions') as Uint8Array;
      const p = layout.positions!;
      const mask = p.code === 'rice' ? riceDecode(pos, total, p.kept, p.k) : unpackCodes(pos, total, 1);
      let kept = 0;
      for (const m of mask) kept += m;
      const negBits = unpackCodes(file.readRaw('signs') as Uint8Array, kept, 1);
      const negative = new Uint8Array(total);
      let s = 0;
      for (let i = 0; i < total; i++) if (mask[i]) negative[i] = negBits[s++];
      const alphas = file.read('alpha');
      for (const e of compressed) {
        const n = count(e.s);
        const v = compeftValues({ mask: mask.subarray(e.at, e.at + n), negative: negative.subarray(e.at, e.at + n), alpha: alphas[e.a] });
        if (e.i !== 0) for (let i = 0; i < n; i++) v[i] += e.i;
        decoded.set(e.n, { shape: e.s, data: v });
      }
    }
  } catch (e) {
    if (e instanceof PeftError) throw e;
    throw new PeftError('FORMAT', `the compressed adapter is corrupt (${(e as Error).message})`, { where: path });
  }
  for (const e of layout.entries) if (e.e === 'f') decoded.set(e.n, { shape: e.s, data: plain.slice(e.at, e.at + count(e.s)) });
  const get = (name: string) => {
    const t = decoded.get(name);
    if (!t) throw new PeftError('FORMAT', 'tensor not in the compressed adapter', { where: `${path}: ${name}` });
    return t;
  };
  return {
    scheme: layout.scheme.method,
    layout,
    names: () => [...decoded.keys()],
    has: (n) => decoded.has(n),
    info: (n): TensorInfo => ({ dtype: 'F32', shape: [...get(n).shape], byteLength: get(n).data.length * 4 }),
    read: (n) => get(n).data.slice(),
    readRaw: (n): TypedArray => get(n).data.slice(),
    readInt32: (n) => {
      throw new PeftError('FORMAT', 'a compressed adapter holds float tensors only', { where: `${path}: ${n}` });
    },
    metadata: () => ({ ...meta }),
  };
}
