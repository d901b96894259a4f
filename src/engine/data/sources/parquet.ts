// Parquet through hyparquet, one row group at a time (a row group is the unit Parquet stores
// columns in, so memory is bounded by the largest row group, not the file).

import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type FileMetaData } from 'hyparquet';
import { closeSync, openSync, readSync } from 'node:fs';
import { PeftError } from '../../../errors.js';
import type { Row, SourceItem } from '../types.js';
import { checkFile, displayPath, ioError, rowWhere } from './file.js';

const MAGIC = 'PAR1';

function checkMagic(path: string, size: number): void {
  const notParquet = (why: string) =>
    new PeftError('FORMAT', `is not a Parquet file (${why})`, {
      where: displayPath(path),
      hint: 'set data.format to the file\'s real format (jsonl, csv, tsv, text, idx), or convert it to Parquet',
    });
  if (size < 12) throw notParquet(`only ${size} bytes`);
  const head = Buffer.alloc(4);
  const tail = Buffer.alloc(4);
  try {
    const fd = openSync(path, 'r');
    try {
      readSync(fd, head, 0, 4, 0);
      readSync(fd, tail, 0, 4, size - 4);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw ioError(e, path);
  }
  if (head.toString('latin1') !== MAGIC) throw notParquet('it does not start with PAR1');
  if (tail.toString('latin1') !== MAGIC) throw notParquet('it does not end with PAR1: truncated?');
}

function corrupt(path: string, e: unknown): PeftError {
  const detail = e instanceof Error ? e.message : String(e);
  return new PeftError('FORMAT', `cannot read Parquet file: ${detail}`, {
    where: displayPath(path),
    hint: 'the file may be corrupt, or use a compression hyparquet lacks (it reads uncompressed and snappy)',
    cause: e,
  });
}

/** Plain JS values: BigInt → number when exact (ids, labels), else kept as BigInt. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

/** Rows in batches, one per row group. */
export async function* readParquet(path: string): AsyncGenerator<SourceItem[]> {
  const size = checkFile(path, 'Parquet file');
  checkMagic(path, size);
  let metadata: FileMetaData;
  let file: Awaited<ReturnType<typeof asyncBufferFromFile>>;
  try {
    file = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(file);
  } catch (e) {
    throw corrupt(path, e);
  }
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const n = Number(group.num_rows);
    if (n === 0) continue;
    let rows: Row[];
    try {
      rows = (await parquetReadObjects({ file, metadata, rowStart, rowEnd: rowStart + n })) as Row[];
    } catch (e) {
      throw corrupt(path, e);
    }
    const items: SourceItem[] = [];
    for (let i = 0; i < rows.length; i++) {
      const src = rows[i] as Row;
      const row: Row = {};
      for (const k of Object.keys(src)) row[k] = plain(src[k]);
      items.push({ row, where: rowWhere(path, rowStart + i), index: rowStart + i });
    }
    rows = [];
    if (items.length > 0) yield items;
    rowStart += n;
  }
}
