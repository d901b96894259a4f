// safetensors, read and written by our own code. Layout: an 8-byte little-endian u64 header
// length N, N bytes of JSON header `{name: {dtype, shape, data_offsets: [begin, end]},
// "__metadata__": {str: str}}`, then the byte buffer (offsets are relative to its start).
// The reader parses and validates the header only; each tensor's bytes are read from disk when
// asked for. A hostile header is a PeftError('FORMAT'), never a large allocation.
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { PeftError } from '../../errors.js';
import { writeFileAtomic } from './atomic.js';

export type Dtype =
  | 'BOOL' | 'U8' | 'I8' | 'F8_E5M2' | 'F8_E4M3' | 'I16' | 'U16' | 'F16' | 'BF16'
  | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64';

/** Element size in bytes; the key order is safetensors' own dtype order (by alignment). */
export const DTYPE_SIZE: Readonly<Record<Dtype, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};
const DTYPE_ORDER = Object.keys(DTYPE_SIZE) as Dtype[];
const INTEGER_DTYPES: ReadonlySet<Dtype> = new Set<Dtype>(['BOOL', 'U8', 'I8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64']);

export type TypedArray =
  | Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array
  | Int8Array | Uint8Array | BigInt64Array | BigUint64Array;

export interface TensorInfo {
  dtype: Dtype;
  shape: number[];
  /** Byte length of the tensor's data. */
  byteLength: number;
}

/** A tensor to write. `dtype` defaults to the natural one of `data` (Float32Array → F32, …). */
export interface TensorData {
  dtype?: Dtype;
  shape: readonly number[];
  data: TypedArray;
}
export interface NamedTensor extends TensorData {
  name: string;
}

/** What both a single file and a sharded checkpoint offer. */
export interface TensorSource {
  names(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  /** The tensor as float32 (F16/BF16 upcast, F64 rounded). Floating-point dtypes only. */
  read(name: string): Float32Array;
  /** The tensor's elements in the typed array of its dtype (F16/BF16 as raw Uint16 bits). */
  readRaw(name: string): TypedArray;
  /** Integer and BOOL tensors as Int32Array (values must fit). */
  readInt32(name: string): Int32Array;
  metadata(): Record<string, string>;
}

export const MAX_HEADER_BYTES = 100_000_000;
const HINT_CORRUPT = 'the file is corrupt or truncated, or is not safetensors; re-download or re-export it';

if (endianness() !== 'LE') throw new Error('peft reads safetensors on little-endian machines only');

interface Entry extends TensorInfo {
  begin: number; // absolute file offset of the data
}

export class SafetensorsFile implements TensorSource {
  private constructor(
    readonly path: string,
    private readonly entries: Map<string, Entry>,
    private readonly meta: Record<string, string>,
  ) {}

  /** Opens `path` and validates its header (reads only the first 8 + N bytes). */
  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      // stat first: opening a FIFO would block, and a directory opens but cannot be read
      const st = statSync(path);
      if (!st.isFile()) {
        const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO (named pipe)' : 'not a regular file';
        throw new PeftError('FILE', `is ${kind}, not a safetensors file`, { where: path, hint: 'the weights must be a regular .safetensors file: replace it with the real file' });
      }
      fd = openSync(path, 'r');
    } catch (e) {
      if (e instanceof PeftError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (e as Error).message;
      throw new PeftError('FILE', `cannot open safetensors file: ${why}`, { where: path, hint: code === 'EACCES' || code === 'EPERM' ? 'check the file permissions' : 'check the path', cause: e });
    }
    try {
      const fileSize = fstatSync(fd).size;
      const bad = (msg: string, tensor?: string) => formatError(path, msg, tensor);
      if (fileSize < 8) throw bad(`file is ${fileSize} bytes, shorter than the 8-byte header length`);
      const lenBuf = Buffer.alloc(8);
      readExactly(fd, lenBuf, 0, path);
      const n = lenBuf.readBigUInt64LE(0);
      if (n > BigInt(MAX_HEADER_BYTES)) throw bad(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
      if (n > BigInt(fileSize - 8)) throw bad(`header length ${n} is larger than the file (${fileSize} bytes)`);
      const headerLen = Number(n);
      const headerBuf = Buffer.alloc(headerLen);
      readExactly(fd, headerBuf, 8, path);
      const { entries, meta } = parseHeader(headerBuf, 8 + headerLen, fileSize, bad);
      return new SafetensorsFile(path, entries, meta);
    } finally {
      closeSync(fd);
    }
  }

  /** Tensor names in file (offset) order. */
  names(): string[] {
    return [...this.entries.keys()];
  }
  has(name: string): boolean {
    return this.entries.has(name);
  }
  info(name: string): TensorInfo {
    const e = this.entry(name);
    return { dtype: e.dtype, shape: [...e.shape], byteLength: e.byteLength };
  }
  metadata(): Record<string, string> {
    return { ...this.meta };
  }

  read(name: string): Float32Array {
    const e = this.entry(name);
    switch (e.dtype) {
      case 'F32': return this.readRaw(name) as Float32Array;
      case 'F16': return f16ToF32(this.readRaw(name) as Uint16Array);
      case 'BF16': return bf16ToF32(this.readRaw(name) as Uint16Array);
      case 'F64': return Float32Array.from(this.readRaw(name) as Float64Array);
      default:
        throw formatError(this.path, `is ${e.dtype}, not a floating-point tensor`, name, 'read it with readInt32() or readRaw()');
    }
  }

  readRaw(name: string): TypedArray {
    const e = this.entry(name);
    const bytes = new Uint8Array(e.byteLength);
    const fd = openSync(this.path, 'r');
    try {
      readExactly(fd, bytes, e.begin, this.path, name);
    } finally {
      closeSync(fd);
    }
    return viewAs(e.dtype, bytes.buffer);
  }

  readInt32(name: string): Int32Array {
    const e = this.entry(name);
    if (!INTEGER_DTYPES.has(e.dtype)) throw formatError(this.path, `is ${e.dtype}, not an integer tensor`, name, 'read it with read()');
    const raw = this.readRaw(name);
    const out = new Int32Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const v = Number(raw[i]);
      if (v !== (v | 0)) throw formatError(this.path, `element ${i} (${raw[i]}) does not fit in int32`, name, 'this tensor cannot be used as int32 ids');
      out[i] = v;
    }
    return out;
  }

  private entry(name: string): Entry {
    const e = this.entries.get(name);
    if (!e) {
      throw new PeftError('FORMAT', 'no such tensor in the file', {
        where: `${this.path}: tensor ${name}`,
        hint: `the file has ${this.entries.size} tensors; is it the checkpoint of the model the recipe names?`,
      });
    }
    return e;
  }
}

export function openSafetensors(path: string): SafetensorsFile {
  return SafetensorsFile.open(path);
}

type BadFn = (msg: string, tensor?: string) => PeftError;

function parseHeader(buf: Buffer, dataStart: number, fileSize: number, bad: BadFn) {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw bad('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw bad('header is not a JSON object');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw bad(`header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw bad('header is not a JSON object');
  const bufferSize = fileSize - dataStart;
  const meta: Record<string, string> = {};
  const list: [string, Entry][] = [];
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad('__metadata__ is not an object');
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') throw bad(`__metadata__.${k} is not a string`);
        meta[k] = s;
      }
      continue;
    }
    list.push([name, parseEntry(name, v, dataStart, bufferSize, bad)]);
  }
  // The data must be covered exactly: sorted by offset, each region starts where the last ended.
  list.sort((a, b) => a[1].begin - b[1].begin || a[1].byteLength - b[1].byteLength);
  let pos = dataStart;
  for (const [name, e] of list) {
    if (e.begin < pos) throw bad(`data overlaps the previous tensor's (starts at ${e.begin - dataStart}, previous ends at ${pos - dataStart})`, name);
    if (e.begin > pos) throw bad(`leaves a gap before its data (starts at ${e.begin - dataStart}, previous ends at ${pos - dataStart})`, name);
    pos = e.begin + e.byteLength;
  }
  if (pos !== fileSize) throw bad(`tensors cover ${pos - dataStart} of the ${bufferSize} data bytes; the data must be covered exactly`);
  return { entries: new Map(list), meta };
}

function parseEntry(name: string, v: unknown, dataStart: number, bufferSize: number, bad: BadFn): Entry {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad('header entry is not an object', name);
  const { dtype, shape, data_offsets: offsets } = v as Record<string, unknown>;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_SIZE)) throw bad(`unknown dtype ${JSON.stringify(dtype)}`, name);
  if (!Array.isArray(shape) || !shape.every(isCount)) throw bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`, name);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw bad(`data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`, name);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw bad(`data_offsets [${begin}, ${end}] begin after they end`, name);
  if (end > bufferSize) throw bad(`data_offsets [${begin}, ${end}] run past the end of the data (${bufferSize} bytes)`, name);
  const size = DTYPE_SIZE[dtype as Dtype];
  let bytes = size;
  for (const d of shape as number[]) {
    bytes *= d;
    if (bytes > bufferSize) throw bad(`shape [${shape.join(', ')}] × ${size} bytes needs more than the ${bufferSize} data bytes`, name);
  }
  if (end - begin !== bytes) throw bad(`holds ${end - begin} bytes but shape [${shape.join(', ')}] of ${dtype} needs ${bytes}`, name);
  return { dtype: dtype as Dtype, shape: shape as number[], byteLength: bytes, begin: dataStart + begin };
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function readExactly(fd: number, into: Uint8Array, position: number, path: string, tensor?: string): void {
  let off = 0;
  while (off < into.byteLength) {
    const got = readSync(fd, into, off, into.byteLength - off, position + off);
    if (got === 0) throw formatError(path, 'file ended early (was it truncated while open?)', tensor);
    off += got;
  }
}

function viewAs(dtype: Dtype, buf: ArrayBuffer): TypedArray {
  switch (dtype) {
    case 'F32': return new Float32Array(buf);
    case 'F64': return new Float64Array(buf);
    case 'F16': case 'BF16': case 'U16': return new Uint16Array(buf);
    case 'I16': return new Int16Array(buf);
    case 'I32': return new Int32Array(buf);
    case 'U32': return new Uint32Array(buf);
    case 'I64': return new BigInt64Array(buf);
    case 'U64': return new BigUint64Array(buf);
    case 'I8': return new Int8Array(buf);
    default: return new Uint8Array(buf); // U8, BOOL, F8_*
  }
}

// ---- float16 / bfloat16 ----

let f16Table: Float32Array | null = null;

/** IEEE half-precision bits → float32 (exact, via a 64K-entry table). */
export function f16ToF32(bits: Uint16Array): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const exp = (h >> 10) & 0x1f;
      const mant = h & 0x3ff;
      f16Table[h] = exp === 0 ? sign * mant * 2 ** -24
        : exp === 31 ? (mant ? NaN : sign * Infinity)
          : sign * (1 + mant / 1024) * 2 ** (exp - 15);
    }
  }
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16Table[bits[i]];
  return out;
}

/** bfloat16 bits → float32 (exact: the top half of a float32). */
export function bf16ToF32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i] << 16;
  return new Float32Array(out.buffer);
}

/** float32 → IEEE half bits, rounding to nearest even; overflow → ±Infinity. */
export function f32ToF16(values: Float32Array): Uint16Array {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    const mant = x & 0x7fffff;
    if (exp === 0xff) { out[i] = sign | 0x7c00 | (mant ? 0x200 : 0); continue; }
    const e = exp - 127 + 15;
    if (e >= 31) { out[i] = sign | 0x7c00; continue; }
    if (e <= 0) {
      if (e < -10) { out[i] = sign; continue; }
      const m = mant | 0x800000; // implicit 1; shift into the subnormal range
      const shift = 14 - e;
      let h = m >>> shift;
      const rest = m & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rest > half || (rest === half && (h & 1))) h++;
      out[i] = sign | h;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++; // may carry into the exponent: correct
    out[i] = sign | h;
  }
  return out;
}

/** float32 → bfloat16 bits, rounding to nearest even; NaN stays NaN. */
export function f32ToBf16(values: Float32Array): Uint16Array {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i];
    if ((x & 0x7fffffff) > 0x7f800000) { out[i] = (x >>> 16) | 0x40; continue; }
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

// ---- writer ----

/**
 * Writes tensors as a safetensors file, atomically. Tensors are laid out in safetensors' own
 * order (larger dtypes first, then by name); `__metadata__` defaults to {"format": "pt"};
 * the header is padded with spaces to a multiple of 8 bytes.
 */
export function writeSafetensors(
  path: string,
  tensors: readonly NamedTensor[] | ReadonlyMap<string, TensorData>,
  metadata: Record<string, string> = { format: 'pt' },
): number {
  const { header, ordered } = encodeSafetensorsHeader(tensors, metadata);
  function* chunks(): Iterable<Uint8Array> {
    yield header;
    for (const t of ordered) yield encodeTensorBytes(t);
  }
  return writeFileAtomic(path, chunks());
}

interface Prepared { name: string; dtype: Dtype; shape: number[]; data: TypedArray; byteLength: number }

/** Header bytes (length prefix + padded JSON) and the tensors in data order. */
function encodeSafetensorsHeader(
  tensors: readonly NamedTensor[] | ReadonlyMap<string, TensorData>,
  metadata: Record<string, string> | null,
): { header: Uint8Array; ordered: Prepared[]; dataBytes: number } {
  const list: NamedTensor[] = Array.isArray(tensors)
    ? [...(tensors as readonly NamedTensor[])]
    : [...(tensors as ReadonlyMap<string, TensorData>)].map(([name, t]) => ({ name, ...t }));
  const seen = new Set<string>();
  const ordered: Prepared[] = list.map((t) => {
    if (t.name === '__metadata__') throw new PeftError('SHAPE', 'a tensor cannot be named __metadata__', { where: t.name });
    if (seen.has(t.name)) throw new PeftError('SHAPE', 'two tensors have the same name', { where: t.name, hint: 'names must be unique' });
    seen.add(t.name);
    const dtype = t.dtype ?? naturalDtype(t.data);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every(isCount) || count !== t.data.length) {
      throw new PeftError('SHAPE', `shape [${t.shape.join(', ')}] does not match ${t.data.length} elements`, {
        where: t.name, hint: 'the data length must equal the product of the shape',
      });
    }
    return { name: t.name, dtype, shape: [...t.shape], data: t.data, byteLength: count * DTYPE_SIZE[dtype] };
  });
  ordered.sort((a, b) => DTYPE_ORDER.indexOf(b.dtype) - DTYPE_ORDER.indexOf(a.dtype) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const { json, dataBytes: offset } = headerJson(ordered, metadata);
  const header = Buffer.alloc(8 + json.length);
  header.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(header, 8);
  return { header, ordered, dataBytes: offset };
}

/** The padded JSON header for tensors in data order, and the bytes of their data. */
function headerJson(ordered: readonly { name: string; dtype: Dtype; shape: number[]; byteLength: number }[], metadata: Record<string, string> | null): { json: Buffer; dataBytes: number } {
  const parts: string[] = [];
  let offset = 0;
  for (const t of ordered) {
    const info = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.byteLength] };
    parts.push(`${JSON.stringify(t.name)}:${JSON.stringify(info)}`);
    offset += t.byteLength;
  }
  if (metadata) {
    const m = Object.entries(metadata).map(([k, v]) => {
      if (typeof v !== 'string') throw new PeftError('FORMAT', 'safetensors metadata values must be strings', { where: `__metadata__.${k}` });
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${m.join(',')}}`);
  }
  let json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  return { json, dataBytes: offset };
}

/** The size in bytes of the file writeSafetensors would write for tensors of these shapes (F32 unless given). */
export function safetensorsSize(tensors: readonly { name: string; shape: readonly number[]; dtype?: Dtype }[], metadata: Record<string, string> = { format: 'pt' }): number {
  const ordered = tensors.map((t) => {
    const dtype = t.dtype ?? 'F32';
    return { name: t.name, dtype, shape: [...t.shape], byteLength: t.shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[dtype] };
  });
  ordered.sort((a, b) => DTYPE_ORDER.indexOf(b.dtype) - DTYPE_ORDER.indexOf(a.dtype) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const { json, dataBytes } = headerJson(ordered, metadata);
  return 8 + json.length + dataBytes;
}

/** The dtype a typed array holds without conversion (Uint16Array → U16, Uint8Array → U8). */
export function naturalDtype(data: TypedArray): Dtype {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Uint32Array) return 'U32';
  if (data instanceof Int16Array) return 'I16';
  if (data instanceof Uint16Array) return 'U16';
  if (data instanceof Int8Array) return 'I8';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof BigUint64Array) return 'U64';
  return 'U8';
}

/** The little-endian bytes of a tensor in its dtype, converting from its array if needed. */
function encodeTensorBytes(t: Prepared): Uint8Array {
  const from = t.data;
  const to = t.dtype;
  let arr: TypedArray | null = naturalDtype(from) === to ? from : null;
  if (from instanceof Float32Array) {
    arr = to === 'F16' ? f32ToF16(from) : to === 'BF16' ? f32ToBf16(from) : to === 'F64' ? Float64Array.from(from) : arr;
  } else if (from instanceof Float64Array && to === 'F32') arr = Float32Array.from(from);
  else if (from instanceof Uint16Array && (to === 'F16' || to === 'BF16')) arr = from; // raw bits
  else if (from instanceof Uint8Array && (to === 'BOOL' || to.startsWith('F8_'))) arr = from;
  else if ((from instanceof Int32Array || from instanceof Int8Array || from instanceof Uint8Array) && to === 'I64') {
    arr = BigInt64Array.from(from, (x) => BigInt(x));
  }
  if (!arr) {
    throw new PeftError('SHAPE', `cannot write a ${from.constructor.name} as ${to}`, {
      where: t.name, hint: 'pass data in the typed array of the dtype (Float32Array for F32/F16/BF16)',
    });
  }
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}

function formatError(path: string, message: string, tensor?: string, hint = HINT_CORRUPT): PeftError {
  return new PeftError('FORMAT', message, { where: tensor === undefined ? path : `${path}: tensor ${tensor}`, hint });
}
