// The public face of the sources: `openSource(split)` picks the reader for the split's format.
// Every reader is an async iterator of `{row, where, index}` (or `{row: null, where, problem}` for
// a row that cannot be read), streaming the file rather than loading it.

import { extname } from 'node:path';
import type { DataSplitPlan } from '../../../plan/index.js';
import type { DataFormat, SourceItem, SourceOptions } from '../types.js';
import { flatten } from '../flatten.js';
import { readDelimited } from './csv.js';
import { readIdx } from './idx.js';
import { readJsonl } from './jsonl.js';
import { readParquet } from './parquet.js';
import { readText } from './text.js';

export { displayPath, lineWhere, rowWhere } from './file.js';
export { readLineBatches, type Line } from './lines.js';
export { readIdxLabels, labelsPathFor } from './idx.js';

/** The format a file name suggests, or null (then the recipe must say `format:`). */
export function formatFromPath(path: string): DataFormat | null {
  const name = path.toLowerCase().replace(/\.gz$/, '');
  const ext = extname(name);
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv') return 'tsv';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.txt' || ext === '.text') return 'text';
  if (/idx\d-ubyte$/.test(name) || /ubyte$/.test(name)) return 'idx';
  return null;
}

/**
 * Rows of one split's file, in file order, in batches (a chunk of lines, a row group, 256 images):
 * one await per batch rather than per row. Throws FILE / FORMAT errors for the file as a whole.
 */
export function openSourceBatches(split: Pick<DataSplitPlan, 'path' | 'format'>, options: SourceOptions = {}): AsyncGenerator<SourceItem[]> {
  switch (split.format) {
    case 'jsonl':
      return readJsonl(split.path, options);
    case 'csv':
    case 'tsv':
      return readDelimited(split.path, split.format, options);
    case 'text':
      return readText(split.path, options);
    case 'parquet':
      return readParquet(split.path);
    case 'idx':
      return readIdx(split.path);
    default: {
      const never: never = split.format;
      throw new Error(`unknown data format ${String(never)}`);
    }
  }
}

/** Rows of one split's file, one at a time: `for await (const {row, where} of openSource(split))`. */
export function openSource(split: Pick<DataSplitPlan, 'path' | 'format'>, options: SourceOptions = {}): AsyncIterableIterator<SourceItem> {
  return flatten(openSourceBatches(split, options));
}
