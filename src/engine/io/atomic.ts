// Atomic file writes: the data goes to a temporary file in the same directory, is flushed to
// disk, and is renamed over the target; then the directory itself is flushed, so that a crash
// at any moment leaves either the old file or the new one, never a torn one.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { PeftError } from '../../errors.js';

/** What can be written: text (UTF-8), bytes, or a sequence of byte chunks written in order. */
export type AtomicData = string | Uint8Array | Iterable<Uint8Array>;

/**
 * Writes `data` to `path` atomically (temp name in the same directory, write, fsync, rename,
 * fsync the directory). Creates missing parent directories. Returns the number of bytes written.
 */
export function writeFileAtomic(path: string, data: AtomicData): number {
  const target = resolve(path);
  const dir = dirname(target);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw fileError(path, 'cannot create its directory', e);
  }
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (e) {
    throw fileError(path, 'cannot write', e);
  }
  let written = 0;
  try {
    try {
      for (const chunk of chunksOf(data)) written += writeAll(fd, chunk);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or never created: nothing to clean up
    }
    if (e instanceof PeftError) throw e;
    throw fileError(path, 'cannot write', e);
  }
  fsyncDir(dir);
  return written;
}

/** Writes `value` as pretty JSON (2-space indent, trailing newline), atomically. */
export function writeJsonAtomic(path: string, value: unknown): number {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

function* chunksOf(data: AtomicData): Iterable<Uint8Array> {
  if (typeof data === 'string') yield Buffer.from(data, 'utf8');
  else if (data instanceof Uint8Array) yield data;
  else yield* data;
}

function writeAll(fd: number, chunk: Uint8Array): number {
  let off = 0;
  while (off < chunk.byteLength) off += writeSync(fd, chunk, off, chunk.byteLength - off);
  return off;
}

/** Flushes a directory entry (the rename). Platforms that cannot fsync a directory skip it. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows and some file systems refuse fsync on directories; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function fileError(path: string, what: string, e: unknown): PeftError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const reason = code === 'ENOSPC' ? 'no space left on the device'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'ENOTDIR' ? 'a parent path is not a directory'
        : code === 'EROFS' ? 'read-only file system'
          : (e instanceof Error ? e.message : String(e));
  return new PeftError('FILE', `${what}: ${reason}`, {
    where: path,
    hint: 'check that the directory exists, is writable and has free space',
    cause: e,
  });
}
