// Row → example: the recipe's column mapping (`{text: sentence, text_pair: sentence2, label:
// label}`) picks the fields each task needs, labels become ids, regression targets floats,
// token-classification labels lists. A row that does not fit is a RowProblem, never an exception,
// so the caller's on_error policy decides.

import type { TaskPlan, TaskType } from '../../plan/index.js';
import { PeftError } from '../../errors.js';
import { LabelSet } from './labels.js';
import type { Example, Row, RowProblem } from './types.js';

/** The roles a column can play; the keys of `data.columns`. */
export type Role = 'text' | 'text_pair' | 'label' | 'target' | 'tokens' | 'image' | 'audio';

const ROLES: readonly Role[] = ['text', 'text_pair', 'label', 'target', 'tokens', 'image', 'audio'];

/** Columns tried, in order, when the recipe does not map a role. */
const DEFAULT_COLUMNS: Record<Role, readonly string[]> = {
  text: ['text', 'sentence', 'text_a', 'sentence1', 'question1', 'premise', 'question', 'document', 'article', 'content', 'source', 'input'],
  text_pair: ['text_b', 'sentence2', 'question2', 'hypothesis'],
  label: ['label', 'labels', 'ner_tags', 'tags'],
  target: ['target', 'summary', 'highlights', 'output', 'answer'],
  tokens: ['tokens', 'words'],
  image: ['image', 'pixels'],
  audio: ['audio', 'file', 'path', 'wav'],
};

/** Roles each task needs (`required`) and may use (`optional`). Labels are dropped when not wanted. */
const TASK_ROLES: Record<TaskType, { required: Role[]; optional: Role[] }> = {
  'causal-lm': { required: ['text'], optional: [] },
  'seq-cls': { required: ['text', 'label'], optional: ['text_pair'] },
  regression: { required: ['text', 'label'], optional: ['text_pair'] },
  'token-cls': { required: ['tokens', 'label'], optional: [] },
  seq2seq: { required: ['text', 'target'], optional: [] },
  'image-cls': { required: ['image', 'label'], optional: [] },
  'audio-cls': { required: ['audio', 'label'], optional: [] },
  'clip-cls': { required: ['image', 'label'], optional: [] },
};

/** A column range for feature columns: `0..63` (inclusive), as in headerless numeric CSVs. */
const RANGE = /^(\d+)\.\.(\d+)$/;

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 39)}…` : v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** A field of a row; `a.b` reaches into nested objects (`translation.de`) when no column is named so. */
function field(row: Row, col: string): unknown {
  if (col in row || !col.includes('.')) return row[col];
  let v: unknown = row;
  for (const key of col.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** True when every mapped column names a position (`3`, `0..63`): the file then has no header. */
export function columnsByPosition(columns: Readonly<Record<string, string>>): boolean {
  const cols = Object.values(columns);
  return cols.length > 0 && cols.every((c) => /^\d+(\.\.\d+)?$/.test(c));
}

const MAP_HINT = 'map the column with data.columns (e.g. columns: {label: sentiment}), or set data.on_error: skip';

export interface MapperOptions {
  /** Require and convert labels (default true); false for prediction on unlabelled data. */
  withLabels?: boolean;
}

/**
 * Maps rows of one source to examples for one task. The column chosen for a role the recipe does
 * not map is decided by the first row seen (so every row is read the same way).
 */
export class RowMapper {
  readonly labels: LabelSet;
  private readonly wanted: { role: Role; required: boolean }[];
  private resolved: Partial<Record<Role, string | null>> = {};

  constructor(
    private readonly task: Pick<TaskPlan, 'type' | 'labels' | 'numLabels'>,
    private readonly columns: Readonly<Record<string, string>> = {},
    options: MapperOptions = {},
  ) {
    for (const key of Object.keys(columns)) {
      if (!(ROLES as readonly string[]).includes(key)) {
        throw new PeftError('RECIPE', `data.columns: unknown column role "${key}"`, { where: 'data.columns', hint: `the roles are ${ROLES.join(', ')}` });
      }
    }
    this.labels = LabelSet.fromTask(task);
    const spec = TASK_ROLES[task.type];
    const withLabels = options.withLabels ?? true;
    this.wanted = [
      // without labels: no label, and no seq2seq target (the target is what a prediction generates)
      ...spec.required.filter((r) => withLabels || (r !== 'label' && r !== 'target')).map((role) => ({ role, required: true })),
      ...spec.optional.map((role) => ({ role, required: false })),
    ];
  }

  /** The column a role reads from (after the first row), for messages and `peft inspect`. */
  columnOf(role: Role): string | null {
    return this.resolved[role] ?? this.columns[role] ?? null;
  }

  private resolve(role: Role, row: Row, required: boolean): string | null {
    if (role in this.resolved) return this.resolved[role] as string | null;
    let col: string | null = this.columns[role] ?? null;
    if (col === null) {
      col = DEFAULT_COLUMNS[role].find((c) => c in row) ?? null;
      if (col === null && required) col = DEFAULT_COLUMNS[role][0] as string;
    }
    this.resolved[role] = col;
    return col;
  }

  /** The example for `row`, or the problem that keeps it from being one. */
  map(row: Row, where: string, index: number): Example | RowProblem {
    const ex: Example = { where, index };
    for (const { role, required } of this.wanted) {
      const col = this.resolve(role, row, required);
      if (col === null) continue;
      const range = RANGE.exec(col);
      const value = range ? null : field(row, col);
      if (!range && (value === undefined || value === null)) {
        if (!required && this.columns[role] === undefined) continue;
        const expected = role === 'label' && this.task.type !== 'regression' ? ` (expected one of ${this.labels.describe()})` : '';
        return { reason: 'missing', message: `field "${col}" missing${expected}`, hint: MAP_HINT };
      }
      const problem = range ? this.setFeatures(ex, row, Number(range[1]), Number(range[2])) : this.set(ex, role, col, value, row);
      if (problem !== null) return problem;
    }
    if (ex.tokens !== undefined && ex.labels !== undefined && ex.tokens.length !== ex.labels.length) {
      return { reason: 'length', message: `${ex.tokens.length} tokens but ${ex.labels.length} labels`, hint: 'token classification needs one label per token' };
    }
    return ex;
  }

  private set(ex: Example, role: Role, col: string, value: unknown, row: Row): RowProblem | null {
    switch (role) {
      case 'text':
      case 'text_pair':
      case 'target': {
        if (typeof value !== 'string') return { reason: 'type', message: `field "${col}" is ${describeValue(value)}, not text` };
        if (role === 'text') ex.text = value;
        else if (role === 'text_pair') ex.textPair = value;
        else ex.target = value;
        return null;
      }
      case 'tokens': {
        const list = typeof value === 'string' ? value.split(/\s+/).filter((t) => t !== '') : value;
        if (!Array.isArray(list) || !list.every((t) => typeof t === 'string')) {
          return { reason: 'type', message: `field "${col}" is ${describeValue(value)}, not a list of tokens` };
        }
        ex.tokens = list as string[];
        return null;
      }
      case 'image':
        return this.setImage(ex, col, value, row.shape);
      case 'audio':
        return this.setAudio(ex, col, value);
      case 'label':
        return this.setLabel(ex, col, value);
    }
  }

  private setLabel(ex: Example, col: string, value: unknown): RowProblem | null {
    if (this.task.type === 'regression') {
      const x = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(x)) return { reason: 'label', message: `field "${col}" is ${describeValue(value)}, not a number`, hint: 'regression targets must be numbers' };
      ex.label = x;
      return null;
    }
    if (this.task.type === 'token-cls') {
      const list = typeof value === 'string' ? value.split(/\s+/).filter((t) => t !== '') : value;
      if (!Array.isArray(list)) return { reason: 'type', message: `field "${col}" is ${describeValue(value)}, not a list of labels` };
      const ids: number[] = [];
      for (const v of list) {
        const id = this.labels.toId(v);
        if (id === null) return { reason: 'label', message: `label ${describeValue(v)} in field "${col}" is not one of ${this.labels.describe()}`, hint: 'declare the labels in task.labels, or fix the row' };
        ids.push(id);
      }
      ex.labels = ids;
      return null;
    }
    const id = this.labels.toId(value);
    if (id === null) {
      return { reason: 'label', message: `label ${describeValue(value)} in field "${col}" is not one of ${this.labels.describe()}`, hint: 'declare the labels in task.labels (or task.num_labels), or set data.on_error: skip' };
    }
    ex.label = id;
    return null;
  }

  private setImage(ex: Example, col: string, value: unknown, shape: unknown): RowProblem | null {
    if (value instanceof Float32Array) {
      ex.image = value;
    } else if (Array.isArray(value) && value.every((v) => typeof v === 'number')) {
      ex.image = Float32Array.from(value as number[]);
    } else {
      return { reason: 'type', message: `field "${col}" is ${describeValue(value)}, not an image (a list of numbers)` };
    }
    const dims = Array.isArray(shape) && shape.every((d) => Number.isInteger(d)) ? (shape as number[]) : null;
    ex.shape = dims !== null && dims.reduce((a, b) => a * b, 1) === ex.image.length ? [...dims] : [ex.image.length];
    return null;
  }

  /** An audio clip: a WAV file's path (relative to the data file) or its samples as a list of numbers. */
  private setAudio(ex: Example, col: string, value: unknown): RowProblem | null {
    if (typeof value === 'string' && value.trim() !== '') ex.audio = value;
    else if (Array.isArray(value) && value.length > 0 && value.every((x) => typeof x === 'number' && Number.isFinite(x))) ex.audio = Float32Array.from(value as number[]);
    else return { reason: 'type', message: `field "${col}" is ${describeValue(value)}, not audio (a WAV file's path or a list of samples)` };
    return null;
  }

  /** `image: 0..63` — numeric columns 0 to 63 of a headerless CSV, as a flat feature vector. */
  private setFeatures(ex: Example, row: Row, from: number, to: number): RowProblem | null {
    if (to < from) return { reason: 'type', message: `column range ${from}..${to} is empty` };
    const image = new Float32Array(to - from + 1);
    for (let c = from; c <= to; c++) {
      const v = row[String(c)];
      const x = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(x)) return { reason: 'type', message: `column ${c} is ${describeValue(v)}, not a number` };
      image[c - from] = x;
    }
    ex.image = image;
    ex.shape = [image.length];
    return null;
  }
}

/** True when `m` is a problem rather than an example. */
export function isProblem(m: Example | RowProblem): m is RowProblem {
  return (m as RowProblem).reason !== undefined;
}
