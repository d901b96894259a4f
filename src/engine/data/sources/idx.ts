// IDX files (the MNIST format), optionally gzipped: a 4-byte magic (0, 0, type 0x08 = unsigned
// byte, number of dimensions), the dimensions as big-endian int32, then the data. Rows are
// `{image: Float32Array in [0, 1], shape, label}`; the labels come from the matching labels file
// (`…images-idx3-ubyte…` → `…labels-idx1-ubyte…`), read whole (one byte per image), while the
// images are streamed (256 at a time).

import { closeSync, createReadStream, existsSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { PeftError } from '../../../errors.js';
import type { SourceItem } from '../types.js';
import { checkFile, displayPath, ioError, rowWhere } from './file.js';

const GZIP_MAGIC = [0x1f, 0x8b];
const UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = { 0x08: 'unsigned byte', 0x09: 'signed byte', 0x0b: 'short', 0x0c: 'int', 0x0d: 'float', 0x0e: 'double' };

/** Byte chunks of the file, gunzipped when it starts with the gzip magic. */
async function* bytesOf(path: string): AsyncGenerator<Buffer> {
  checkFile(path, 'IDX file');
  const head = Buffer.alloc(2);
  try {
    const fd = openSync(path, 'r');
    try {
      readSync(fd, head, 0, 2, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw ioError(e, path, 'IDX file');
  }
  const gz = head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = gz ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (e) => stream.destroy(e));
  try {
    for await (const c of stream as AsyncIterable<Buffer>) yield c;
  } catch (e) {
    if (e instanceof PeftError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw new PeftError('FORMAT', `is not a valid gzip file (${(e as Error).message})`, { where: displayPath(path), hint: 'the file may be truncated; download it again' });
    }
    throw ioError(e, path, 'IDX file');
  } finally {
    raw.destroy();
    stream.destroy();
  }
}

/**
 * Reads exactly `n` bytes at a time from a chunk stream. Chunks are kept in a list and joined
 * once per take (never concatenated onto a growing buffer: that is quadratic in `n`).
 */
class ByteReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}
  async take(n: number): Promise<Buffer | null> {
    while (this.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else if (r.value.length > 0) {
        this.chunks.push(r.value);
        this.length += r.value.length;
      }
    }
    if (this.length < n) return null;
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return out;
  }
  /** Up to `n` bytes: fewer only at the end of the stream. */
  async takeUpTo(n: number): Promise<Buffer> {
    const all = await this.take(n);
    if (all !== null) return all;
    const rest = Buffer.concat(this.chunks, this.length);
    this.chunks = [];
    this.length = 0;
    return rest;
  }
  async close(): Promise<void> {
    await this.it.return?.(undefined);
  }
}

/** Largest image accepted (pixels): 16 million, e.g. 4096 × 4096. */
const MAX_IMAGE_PIXELS = 1 << 24;
/** Most dimensions an IDX header may declare. */
const MAX_DIMS = 8;
/** deflate cannot expand data by more than ~1032:1; a gzipped file holds at most this many bytes per byte. */
const GZIP_MAX_RATIO = 1032;
/** Bytes of images read at a time. */
const BATCH_BYTES = 64 << 20;

/** Refuses a header whose data cannot be in the file (checked before anything is read or allocated). */
function checkDeclaredSize(path: string, dims: number[], headerBytes: number): void {
  const size = dims.slice(1).reduce((a, b) => a * b, 1);
  if (dims.length > 1 && size > MAX_IMAGE_PIXELS) {
    throw new PeftError('FORMAT', `IDX header declares images of ${dims.slice(1).join(' × ')} = ${size} pixels (at most ${MAX_IMAGE_PIXELS})`, {
      where: displayPath(path), hint: 'the header is damaged, or this is not an image file: check it (e.g. xxd | head)',
    });
  }
  const declared = (dims[0] ?? 0) * size;
  let fileSize = 0;
  let gz = false;
  try {
    fileSize = statSync(path).size;
    const head = Buffer.alloc(2);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, head, 0, 2, 0);
    } finally {
      closeSync(fd);
    }
    gz = head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } catch (e) {
    throw ioError(e, path, 'IDX file');
  }
  const room = gz ? fileSize * GZIP_MAX_RATIO : fileSize - headerBytes;
  if (declared > room) {
    throw new PeftError('FORMAT', `IDX header declares ${dims.join(' × ')} = ${declared} bytes of data; the file ${gz ? `(${fileSize} bytes gzipped) cannot hold that many` : `holds ${Math.max(0, room)}`}`, {
      where: displayPath(path), hint: 'the file is truncated or its header is damaged; download it again',
    });
  }
}

interface IdxHeader {
  dims: number[];
}

async function readHeader(path: string, reader: ByteReader): Promise<IdxHeader> {
  const magic = await reader.take(4);
  if (magic === null || magic[0] !== 0 || magic[1] !== 0 || !((magic[2] ?? 0) in TYPE_NAMES) || (magic[3] ?? 0) < 1) {
    const got = magic === null ? 'the file is shorter than 4 bytes' : `magic 0x${magic.toString('hex')}`;
    throw new PeftError('FORMAT', `is not an IDX file (${got})`, {
      where: displayPath(path),
      hint: 'IDX files start with 00 00 08 0N (e.g. 0x00000803 for MNIST images, 0x00000801 for labels)',
    });
  }
  if (magic[2] !== UBYTE) {
    throw new PeftError('FORMAT', `IDX data type ${TYPE_NAMES[magic[2] as number]} is not supported (only unsigned byte)`, { where: displayPath(path), hint: 'convert the images to unsigned bytes (0–255)' });
  }
  const nd = magic[3] as number;
  if (nd > MAX_DIMS) {
    throw new PeftError('FORMAT', `IDX header declares ${nd} dimensions (at most ${MAX_DIMS})`, { where: displayPath(path), hint: 'the header is damaged; download the file again' });
  }
  const dimBytes = await reader.take(4 * nd);
  if (dimBytes === null) throw new PeftError('FORMAT', 'IDX header is truncated', { where: displayPath(path), hint: 'the file is incomplete; download it again' });
  const dims: number[] = [];
  for (let i = 0; i < nd; i++) dims.push(dimBytes.readUInt32BE(4 * i));
  checkDeclaredSize(path, dims, 4 + 4 * nd);
  return { dims };
}

/** The labels file that goes with an images file, or null when there is none. */
export function labelsPathFor(imagesPath: string): string | null {
  const name = basename(imagesPath);
  const candidate = name.replace('images', 'labels').replace('idx3', 'idx1');
  if (candidate === name) return null;
  const p = join(dirname(imagesPath), candidate);
  return existsSync(p) ? p : null;
}

/** Resolves the images file of a plan path: the file itself, or the one `*images*` file of a folder. */
export function imagesPathOf(path: string): string {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw ioError(e, path, 'IDX file');
  }
  if (!isDir) return path;
  const found = readdirSync(path).filter((f) => /images.*idx3/.test(f)).sort();
  if (found.length !== 1) {
    throw new PeftError('FILE', found.length === 0 ? 'folder has no *images-idx3* file' : `folder has ${found.length} *images-idx3* files (${found.join(', ')})`, {
      where: displayPath(path),
      hint: 'name the images file itself in data:',
    });
  }
  return join(path, found[0] as string);
}

/** Reads a whole IDX labels file (1 dimension, one byte per label). */
export async function readIdxLabels(path: string): Promise<Uint8Array> {
  const reader = new ByteReader(bytesOf(path));
  try {
    const { dims } = await readHeader(path, reader);
    if (dims.length !== 1) throw new PeftError('FORMAT', `labels file has ${dims.length} dimensions, expected 1`, { where: displayPath(path), hint: 'a labels file is …-labels-idx1-ubyte (one byte per image)' });
    const n = dims[0] as number;
    const data = await reader.take(n);
    if (data === null) throw new PeftError('FORMAT', `labels file is truncated (header says ${n} labels)`, { where: displayPath(path), hint: 'the file may be incomplete; download it again' });
    return new Uint8Array(data);
  } finally {
    await reader.close();
  }
}

const BATCH = 256;

/**
 * Rows of an IDX images file, `{image, shape, label?}`, in batches of 256. A 1-dimensional IDX
 * file (labels only) yields `{label}` rows.
 */
export async function* readIdx(path: string): AsyncGenerator<SourceItem[]> {
  const imagesPath = imagesPathOf(path);
  const reader = new ByteReader(bytesOf(imagesPath));
  try {
    const { dims } = await readHeader(imagesPath, reader);
    const n = dims[0] as number;
    if (dims.length === 1) {
      const data = await reader.take(n);
      if (data === null) throw new PeftError('FORMAT', `labels file is truncated (header says ${n} labels)`, { where: displayPath(imagesPath), hint: 'the file is incomplete; download it again' });
      const items: SourceItem[] = [];
      for (let i = 0; i < n; i++) items.push({ row: { label: data[i] }, where: rowWhere(imagesPath, i), index: i });
      if (items.length > 0) yield items;
      return;
    }
    const shape = dims.slice(1);
    const size = shape.reduce((a, b) => a * b, 1);
    const labelsPath = labelsPathFor(imagesPath);
    const labels = labelsPath === null ? null : await readIdxLabels(labelsPath);
    if (labels !== null && labels.length !== n) {
      throw new PeftError('FORMAT', `has ${labels.length} labels for ${n} images`, {
        where: displayPath(labelsPath as string),
        hint: `the labels file must go with ${displayPath(imagesPath)}`,
      });
    }
    const perBatch = Math.max(1, Math.min(BATCH, Math.floor(BATCH_BYTES / Math.max(1, size))));
    for (let first = 0; first < n; first += perBatch) {
      const count = Math.min(perBatch, n - first);
      const bytes = await reader.takeUpTo(size * count);
      const complete = Math.floor(bytes.length / size);
      const items: SourceItem[] = [];
      for (let k = 0; k < complete; k++) {
        const i = first + k;
        const image = new Float32Array(size);
        for (let j = 0; j < size; j++) image[j] = (bytes[k * size + j] as number) / 255;
        const row: Record<string, unknown> = { image, shape: [...shape] };
        if (labels !== null) row.label = labels[i];
        items.push({ row, where: rowWhere(imagesPath, i), index: i });
      }
      if (items.length > 0) yield items;
      if (complete < count) {
        throw new PeftError('FORMAT', `ends after ${first + complete} of ${n} images`, { where: displayPath(imagesPath), hint: 'the file is truncated; download it again' });
      }
    }
  } finally {
    await reader.close();
  }
}
