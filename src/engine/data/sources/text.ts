// Plain text for language modelling, as rows `{text}`:
//   document  — the whole file as one document, streamed as consecutive chunks that end on line
//               ends; concatenated in order they are the file's text (CRLF read as LF).
//   line      — one row per non-blank line.
//   paragraph — one row per block of lines separated by blank lines.

import type { SourceItem, TextUnit } from '../types.js';
import { lineWhere } from './file.js';
import { readLineBatches } from './lines.js';

export interface TextOptions {
  textUnit?: TextUnit;
  chunkChars?: number;
  chunkBytes?: number;
}

const DEFAULT_CHUNK_CHARS = 1 << 20;

/** Rows in batches (one per chunk read). */
export async function* readText(path: string, options: TextOptions = {}): AsyncGenerator<SourceItem[]> {
  const unit = options.textUnit ?? 'document';
  const chunkChars = options.chunkChars ?? DEFAULT_CHUNK_CHARS;
  let index = 0;
  let parts: string[] = [];
  let size = 0;
  let start = 0;
  const flush = (joiner: string): SourceItem => {
    const item = { row: { text: parts.join(joiner) }, where: lineWhere(path, start), index: index++ };
    parts = [];
    size = 0;
    return item;
  };

  for await (const batch of readLineBatches(path, { chunkBytes: options.chunkBytes })) {
    const items: SourceItem[] = [];
    for (const { text, line, terminated, problem } of batch) {
      if (problem) {
        // a line that is not UTF-8 is a bad row of its own (its neighbours are kept)
        items.push({ row: null, where: lineWhere(path, line), index: index++, problem });
        continue;
      }
      if (unit === 'line') {
        if (text.trim() !== '') items.push({ row: { text }, where: lineWhere(path, line), index: index++ });
      } else if (unit === 'paragraph') {
        if (text.trim() === '') {
          if (parts.length > 0) items.push(flush('\n'));
        } else {
          if (parts.length === 0) start = line;
          parts.push(text);
        }
      } else {
        if (parts.length === 0) start = line;
        const piece = terminated ? `${text}\n` : text;
        parts.push(piece);
        size += piece.length;
        if (size >= chunkChars) items.push(flush(''));
      }
    }
    if (items.length > 0) yield items;
  }
  if (parts.length > 0) yield [flush(unit === 'paragraph' ? '\n' : '')];
}
