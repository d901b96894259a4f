// CSV (RFC 4180: a header record, fields separated by commas, optionally quoted with ", a quote
// inside a quoted field doubled, commas and newlines allowed inside quotes) and TSV (tab
// separated, no quoting at all, as GLUE writes its .tsv files). Streamed line by line; a record
// that spans lines (a quoted newline) reports the line where it starts.

import { PeftError } from '../../../errors.js';
import type { Row, SourceItem } from '../types.js';
import { lineWhere } from './file.js';
import { readLineBatches } from './lines.js';

interface RawRecord {
  fields: string[];
  line: number;
  /** Set when the file ended inside a quoted field. */
  unterminated?: boolean;
}

/** Splits CSV lines into records; quoted fields may contain the delimiter, "" and newlines. */
class CsvParser {
  private fields: string[] = [];
  private field = '';
  private inQuotes = false;
  private startLine = 0;

  constructor(private readonly delimiter: string) {}

  /** Feeds one line; returns the record it completes, if any. */
  push(text: string, line: number): RawRecord | null {
    const d = this.delimiter;
    if (!this.inQuotes) {
      if (text === '') return null; // blank line between records
      if (!text.includes('"')) return { fields: text.split(d), line };
      this.fields = [];
      this.field = '';
      this.startLine = line;
    } else {
      this.field += '\n';
    }
    let field = this.field;
    let fieldStart = !this.inQuotes && field === '';
    for (let i = 0; i < text.length; i++) {
      const c = text[i] as string;
      if (this.inQuotes) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else {
            this.inQuotes = false;
          }
        } else {
          field += c;
        }
      } else if (c === d) {
        this.fields.push(field);
        field = '';
        fieldStart = true;
      } else if (c === '"' && fieldStart) {
        this.inQuotes = true;
        fieldStart = false;
      } else {
        field += c; // characters after a closing quote, or a quote inside an unquoted field, are kept
        fieldStart = false;
      }
    }
    if (this.inQuotes) {
      this.field = field;
      return null;
    }
    const rec = { fields: [...this.fields, field], line: this.startLine };
    this.fields = [];
    this.field = '';
    return rec;
  }

  /** At the end of the file: the record left open inside quotes, if any. */
  end(): RawRecord | null {
    return this.inQuotes ? { fields: [...this.fields, this.field], line: this.startLine, unterminated: true } : null;
  }
}

/** TSV: one record per non-blank line, split on tabs, no quoting. */
class TsvParser {
  push(text: string, line: number): RawRecord | null {
    return text === '' ? null : { fields: text.split('\t'), line };
  }
  end(): RawRecord | null {
    return null;
  }
}

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

export interface DelimitedOptions {
  header?: boolean | 'auto';
  chunkBytes?: number;
}

/** Reads a CSV (`delimiter` ',') or TSV ('\t') file as rows keyed by the header's names, in batches. */
export async function* readDelimited(path: string, kind: 'csv' | 'tsv', options: DelimitedOptions = {}): AsyncGenerator<SourceItem[]> {
  const parser = kind === 'csv' ? new CsvParser(',') : new TsvParser();
  const headerMode = options.header ?? 'auto';
  let names: string[] | null = null;
  let index = 0;

  /** The row of a record, its problem, or null for the header. */
  const toItem = (rec: RawRecord): SourceItem | null => {
    const where = lineWhere(path, rec.line);
    if (names === null) {
      const numeric = rec.fields.every((f) => NUMBER.test(f));
      if (headerMode === true || (headerMode === 'auto' && !numeric)) {
        names = rec.fields.map((f) => f.trim());
        const seen = new Set<string>();
        for (const n of names) {
          if (seen.has(n)) throw new PeftError('FORMAT', `header names column "${n}" twice`, { where, hint: 'give every column a distinct name in the first line' });
          seen.add(n);
        }
        return null;
      }
      names = rec.fields.map((_, i) => String(i));
    }
    if (rec.unterminated) {
      return {
        row: null,
        where,
        index: index++,
        problem: { reason: 'quote', message: 'quoted field is never closed (the file ends inside quotes)', hint: 'close the quote, and write a quote inside a quoted field as ""' },
      };
    }
    if (rec.fields.length !== names.length) {
      return {
        row: null,
        where,
        index: index++,
        problem: {
          reason: 'fields',
          message: `record has ${rec.fields.length} fields, the header has ${names.length}`,
          hint: kind === 'csv' ? 'quote fields that contain commas ("a, b")' : 'TSV fields must not contain tabs',
        },
      };
    }
    const row: Row = {};
    for (let i = 0; i < names.length; i++) row[names[i] as string] = rec.fields[i];
    return { row, where, index: index++ };
  };

  for await (const batch of readLineBatches(path, { chunkBytes: options.chunkBytes })) {
    const items: SourceItem[] = [];
    for (const { text, line, problem } of batch) {
      if (problem) {
        if (names === null) throw new PeftError('FORMAT', `header ${problem.message}`, { where: lineWhere(path, line), hint: problem.hint ?? 'save the file as UTF-8' });
        items.push({ row: null, where: lineWhere(path, line), index: index++, problem });
        continue;
      }
      const rec = parser.push(text, line);
      const item = rec === null ? null : toItem(rec);
      if (item !== null) items.push(item);
    }
    if (items.length > 0) yield items;
  }
  const last = parser.end();
  const item = last === null ? null : toItem(last);
  if (item !== null) yield [item];
}
