// The data stage's public face: dataset readers (sources), rows → examples, seeded splits, the
// pre-training scan, and the seeded PRNG shared with data order. No tensors here.

export type { BadRowReason, BadRowReport, DataFormat, Example, Row, RowProblem, ScanResult, SourceItem, SourceOptions, TextUnit } from './types.js';
export { openSource, openSourceBatches, formatFromPath, readLineBatches, readIdxLabels, labelsPathFor, displayPath, type Line } from './sources/index.js';
export { LabelSet } from './labels.js';
export { RowMapper, isProblem, columnsByPosition, type Role, type MapperOptions } from './rows.js';
export { BadRows, rowError, summarizeBadRows, type OnError } from './policy.js';
export { SplitSelector, resolveSplits, splitCount, tailCount, SPLIT_STREAM, type SplitSpec } from './split.js';
export { ExampleReader, countSourceRows, sourceOptionsFor, type ReadOptions } from './examples.js';
export { scanSplit, scanData, checkScan, type ScanOptions } from './scan.js';
export { Rng, rngFromWords, type RngState } from './rng.js';
