// JSON Lines: one JSON object per line, blank lines skipped, streamed line by line.

import type { SourceItem } from '../types.js';
import { lineWhere } from './file.js';
import { readLineBatches } from './lines.js';

function shorten(s: string, max = 60): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** One line as a row, or as the problem it has. */
function parseLine(text: string, where: string, index: number): SourceItem {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    return {
      row: null,
      where,
      index,
      problem: {
        reason: 'json',
        message: `invalid JSON: ${shorten(detail, 100)}`,
        hint: 'each line must be one complete JSON object; set data.on_error: skip to skip bad rows',
      },
    };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return {
      row: null,
      where,
      index,
      problem: { reason: 'not-object', message: `line is ${kind}, not a JSON object (${shorten(text)})`, hint: 'each line must be a JSON object such as {"text": "…", "label": 0}' },
    };
  }
  return { row: value as Record<string, unknown>, where, index };
}

/** Rows in batches (one per chunk read). */
export async function* readJsonl(path: string, options: { chunkBytes?: number } = {}): AsyncGenerator<SourceItem[]> {
  let index = 0;
  for await (const batch of readLineBatches(path, options)) {
    const items: SourceItem[] = [];
    for (const { text, line, problem } of batch) {
      if (problem) items.push({ row: null, where: lineWhere(path, line), index: index++, problem });
      else if (text.trim() !== '') items.push(parseLine(text, lineWhere(path, line), index++));
    }
    if (items.length > 0) yield items;
  }
}
