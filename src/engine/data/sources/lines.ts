// Streams a UTF-8 text file line by line with bounded memory: bytes are read in chunks, split at
// LF (a byte that never occurs inside a multi-byte UTF-8 sequence), and decoded with a fatal
// decoder, so invalid UTF-8 is reported with its line instead of turning into U+FFFD.

import { createReadStream } from 'node:fs';
import { PeftError } from '../../../errors.js';
import type { RowProblem } from '../types.js';
import { checkFile, ioError } from './file.js';

export interface Line {
  /** The line without its terminator (LF or CRLF); '' for a line that is not valid UTF-8. */
  text: string;
  /** 1-based line number. */
  line: number;
  /** False only for a last line that has no newline at its end. */
  terminated: boolean;
  /** Set when the line is not valid UTF-8: sources report it as a bad row (skipped under on_error: skip). */
  problem?: RowProblem;
}

const LF = 0x0a;
const CR = 0x0d;
const DEFAULT_CHUNK = 1 << 16;

const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Index of the first byte of the first ill-formed sequence (Unicode Table 3-7), or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number; // continuation bytes
    let lo = 0x80; // range of the first continuation byte
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    if (i + n >= b.length) return i; // truncated sequence
    const first = b[i + 1] as number;
    if (first < lo || first > hi) return i;
    for (let k = 2; k <= n; k++) {
      const x = b[i + k] as number;
      if (x < 0x80 || x > 0xbf) return i;
    }
    i += n + 1;
  }
  return -1;
}

function badUtf8(bytes: Uint8Array): RowProblem {
  const at = Math.max(0, firstInvalidUtf8(bytes));
  const byte = bytes[at] ?? 0;
  return {
    reason: 'encoding',
    message: `is not valid UTF-8 (byte 0x${byte.toString(16).padStart(2, '0')} at byte ${at + 1} of the line)`,
    hint: 'save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 in > out), or set data.on_error: skip to skip such lines',
  };
}

/** A line's text, or the problem that it is not valid UTF-8. */
function decodeLine(line: number, bytes: Uint8Array, terminated: boolean): Line {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === CR) end--;
  const body = bytes.subarray(0, end);
  try {
    let text = fatal.decode(body);
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // byte-order mark
    return { text, line, terminated };
  } catch {
    return { text: '', line, terminated, problem: badUtf8(body) };
  }
}

/**
 * Reads `path` as UTF-8 lines, a batch per chunk read (one await per chunk, not per line, which
 * matters when a file has millions of lines). Throws FILE errors (missing, unreadable); a line
 * that is not UTF-8 comes with its `problem` (the source reports it as a bad row).
 */
export async function* readLineBatches(path: string, options: { chunkBytes?: number } = {}): AsyncGenerator<Line[]> {
  checkFile(path);
  const stream = createReadStream(path, { highWaterMark: options.chunkBytes ?? DEFAULT_CHUNK });
  let pending: Buffer[] = []; // bytes of an unfinished line, possibly spread over chunks
  let lineNo = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const batch: Line[] = [];
      let start = 0;
      let nl = chunk.indexOf(LF, start);
      while (nl !== -1) {
        let bytes: Uint8Array = chunk.subarray(start, nl);
        if (pending.length > 0) {
          pending.push(chunk.subarray(start, nl));
          bytes = Buffer.concat(pending);
          pending = [];
        }
        lineNo++;
        batch.push(decodeLine(lineNo, bytes, true));
        start = nl + 1;
        nl = chunk.indexOf(LF, start);
      }
      // The rest of the chunk belongs to the next line; copy it so the chunk itself can be freed.
      if (start < chunk.length) pending.push(Buffer.from(chunk.subarray(start)));
      if (batch.length > 0) yield batch;
    }
  } catch (e) {
    if (e instanceof PeftError) throw e;
    throw ioError(e, path);
  } finally {
    stream.destroy();
  }
  if (pending.length > 0) {
    lineNo++;
    yield [decodeLine(lineNo, Buffer.concat(pending), false)];
  }
}
