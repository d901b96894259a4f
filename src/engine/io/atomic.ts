// Atomic file writes: the data goes to a temporary file in the same directory, is flushed to
// disk, and is renamed over the target; then the directory itself is flushed, so that a crash
// at any moment leaves either the old file or the new one, never a torn one.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
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
  const tmp = tempPath(dir, basename(target));
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
  sweepStaleTemps(dir, basename(target));
  return written;
}

/** Temporary names of atomic writes: `.<name>.<pid>.<8 hex>.tmp` (files, and checkpoint directories). */
const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** Whether a process with this id is running (a temp of a live writer is left alone). */
function alive(pid: number): boolean {
  if (pid === process.pid) return false; // our own writes are synchronous: none is in progress now
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporaries that killed or failed writes left in `dir` (those of `name` only, when
 * given): a write killed between its temp file and its rename leaves one behind forever
 * otherwise. Returns what was removed. Never throws.
 */
export function sweepStaleTemps(dir: string, name?: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries) {
    const m = TEMP_NAME.exec(e);
    if (!m || (name !== undefined && m[1] !== name) || alive(Number(m[2]))) continue;
    try {
      rmSync(join(dir, e), { recursive: true, force: true });
      removed.push(join(dir, e));
    } catch {
      // not ours to remove (permissions): leave it
    }
  }
  return removed;
}

/** A temporary name for `name` in `dir` that sweepStaleTemps recognises. */
export function tempPath(dir: string, name: string): string {
  return join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
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
