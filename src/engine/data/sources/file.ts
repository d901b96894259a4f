// Shared by every source: how a path is shown in messages, the checks before a file is opened
// (exists, is a file), and the conversion of I/O failures into one-line PeftErrors.

import { statSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { PeftError } from '../../../errors.js';

/** The last path shown, for the working directory it was shown in (every row of a file asks). */
let shown = { cwd: '', path: '', display: '' };

/** A path as a user would type it: relative to the working directory when it is inside it. */
export function displayPath(path: string): string {
  const cwd = process.cwd();
  if (shown.path === path && shown.cwd === cwd) return shown.display;
  const rel = relative(cwd, path);
  const display = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
  shown = { cwd, path, display };
  return display;
}

/** `path:line` (1-based) for text formats. */
export function lineWhere(path: string, line: number): string {
  return `${displayPath(path)}:${line}`;
}

/** `path:row N` (0-based) for Parquet and IDX. */
export function rowWhere(path: string, row: number): string {
  return `${displayPath(path)}:row ${row}`;
}

/** Throws a FILE error unless `path` names a readable regular file; returns its size. */
export function checkFile(path: string, what = 'data file'): number {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) {
      throw new PeftError('FILE', `is a directory, not a ${what}`, {
        where: displayPath(path),
        hint: 'name the file itself (e.g. train.jsonl), not its folder',
      });
    }
    if (!st.isFile()) {
      // a FIFO would block forever and /dev/zero never ends: data is read from regular files only
      const kind = st.isFIFO() ? 'a FIFO (named pipe)' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'not a regular file';
      throw new PeftError('FILE', `is ${kind}, not a regular ${what}`, {
        where: displayPath(path),
        hint: 'data must be a regular file (text, jsonl, csv, tsv, parquet or idx, optionally gzipped IDX): copy the stream to a file first',
      });
    }
    size = st.size;
  } catch (e) {
    if (e instanceof PeftError) throw e;
    throw ioError(e, path, what);
  }
  return size;
}

/** An fs error (ENOENT, EACCES, …) as a FILE PeftError with the path and a hint. */
export function ioError(e: unknown, path: string, what = 'data file'): PeftError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') {
    return new PeftError('FILE', `${what} not found`, {
      where: displayPath(path),
      hint: 'check the path in data: of the recipe (relative paths are resolved against the recipe file)',
      cause: e,
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new PeftError('FILE', `${what} is not readable (permission denied)`, {
      where: displayPath(path),
      hint: 'check the file permissions',
      cause: e,
    });
  }
  if (code === 'EISDIR') {
    return new PeftError('FILE', `is a directory, not a ${what}`, { where: displayPath(path), cause: e });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new PeftError('FILE', `cannot read ${what}: ${message}`, { where: displayPath(path), cause: e });
}
