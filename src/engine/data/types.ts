// Types that cross the data stage's boundary: what a source yields (raw rows with their place),
// what the row mapper makes of them (examples), and what a scan reports. Plain data throughout.

import type { DataSplitPlan } from '../../plan/index.js';

export type DataFormat = DataSplitPlan['format'];

/** One raw row as a source read it: a JSON object, a CSV record keyed by header, a Parquet row… */
export type Row = Record<string, unknown>;

/** Why a row was rejected; the keys of a bad-row report. */
export type BadRowReason =
  | 'json' // not valid JSON
  | 'not-object' // valid JSON, but not an object
  | 'fields' // CSV/TSV record with a different number of fields than the header
  | 'quote' // unterminated quoted CSV field
  | 'missing' // a mapped column is absent (or null)
  | 'type' // a column has the wrong type (text not a string, features not numbers…)
  | 'label' // a label outside the declared set, or not a number for regression
  | 'length' // token-classification: tokens and labels of different lengths
  | 'encoding'; // a line that is not valid UTF-8

export interface RowProblem {
  reason: BadRowReason;
  /** One line, without the place: `field "label" missing (expected one of 0, 1)`. */
  message: string;
  hint?: string;
}

/** What a source yields: a row and where it starts, or the problem that row has. */
export type SourceItem =
  | { row: Row; where: string; index: number; problem?: undefined }
  | { row: null; where: string; index: number; problem: RowProblem };

/** How plain text becomes rows (`{text}`): the whole file, one per line, or one per paragraph. */
export type TextUnit = 'document' | 'line' | 'paragraph';

export interface SourceOptions {
  /** Text files: 'document' (default) yields the file as consecutive chunks of one document. */
  textUnit?: TextUnit;
  /** Text 'document' unit: characters per chunk (chunks end on line ends). Default 1 MiB. */
  chunkChars?: number;
  /** CSV/TSV: the first record is a header (true), is not (false: columns are named "0", "1", …),
   *  or 'auto' (default): no header when every field of the first record is a number. */
  header?: boolean | 'auto';
  /** Bytes read at a time from disk. Default 1 MiB. */
  chunkBytes?: number;
}

/**
 * One example, ready for a tokenizer (text tasks) or a tensor (image-cls). Which fields are set
 * depends on the task: causal-lm {text}; seq-cls {text, textPair?, label}; regression
 * {text, textPair?, label (float)}; token-cls {tokens, labels}; seq2seq {text, target};
 * image-cls {image, shape, label}. Labels are absent when the reader was asked not to need them.
 */
export interface Example {
  /** `path:line` (1-based line of the row's start) or `path:row N` (0-based, Parquet/IDX). */
  where: string;
  /** 0-based position of the row among the source's rows (before split selection and limit). */
  index: number;
  text?: string;
  textPair?: string;
  target?: string;
  /** Class id (seq-cls, image-cls) or the float target (regression). */
  label?: number;
  /** Token classification: one label id per token. */
  labels?: number[];
  tokens?: string[];
  /** Pixels, row-major; IDX images are scaled to [0, 1], CSV feature columns are kept as read. */
  image?: Float32Array;
  shape?: number[];
  /** audio-cls: a WAV file's path as the row gives it (relative to the data file), or samples. */
  audio?: string | Float32Array;
}

/** Counts of rejected rows by reason, with the first place and message of each. */
export type BadRowReport = Partial<Record<BadRowReason, { count: number; first: string; message: string }>>;

export interface ScanResult {
  /** Split name ('train', 'validation', 'test'). */
  split: string;
  path: string;
  /** Rows of the source (the whole file, before split selection): pass to readers as totalRows. */
  sourceRows: number;
  /** Rows that belong to this split (after split selection, before limit). */
  rows: number;
  /** Good examples (after limit). */
  examples: number;
  /** Bad rows among the rows read. */
  badRows: number;
  bad: BadRowReport;
  /** The first bad row, for the error a 'fail' policy raises. */
  firstBad?: { where: string; problem: RowProblem };
  /** Classification tasks: examples per label (by name when the task names its labels). */
  labelCounts?: Record<string, number>;
  /** Regression: range and mean of the targets. */
  targets?: { min: number; max: number; mean: number };
}
