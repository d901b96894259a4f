// The task, data and eval sections of a recipe, planned. A recipe of one task plans them once at
// the top level; a multi-task recipe plans them once per `tasks:` entry, each laid over the
// top-level sections (a key the entry does not set is read from the top level, with the place it
// was written, so relative paths resolve against the file that wrote them).
import { extname, resolve } from 'node:path';
import type { DataPlan, DataSplitPlan, FamilyInfo, TaskPlan, TaskType } from '../plan/index.js';
import type { DocPath, ResolvedRecipe } from './types.js';
import type { Report } from '../plan/index.js';
import { dataPathProblem, rawPathProblem } from './plan-checks.js';

export type Obj = Record<string, unknown>;
export const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
export const num = (v: unknown, d: number): number => (typeof v === 'number' ? v : d);
export const numOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** A recipe section, possibly laid over a default one: each key's value and where it was written. */
export interface Section {
  /** The section's own path (messages about the section as a whole). */
  path: DocPath;
  get(key: string): { value: unknown; path: DocPath } | undefined;
  /** Value of a key (undefined when neither the section nor its defaults set it). */
  value(key: string): unknown;
}

export function section(doc: unknown, path: DocPath, under?: Section): Section {
  const o = obj(doc);
  const get = (key: string) => (o[key] !== undefined ? { value: o[key], path: [...path, key] } : under?.get(key));
  return { path, get, value: (key) => get(key)?.value };
}

/** A section of the document at `path` (an empty one when absent). */
export function docSection(doc: Obj, path: DocPath, under?: Section): Section {
  let node: unknown = doc;
  for (const seg of path) node = node && typeof node === 'object' ? (node as Record<string | number, unknown>)[seg] : undefined;
  return section(node, path, under);
}

function formatOf(path: string): DataSplitPlan['format'] {
  const name = path.toLowerCase().replace(/\.gz$/, '');
  const ext = extname(name);
  if (ext === '.jsonl' || ext === '.json' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv') return 'tsv';
  if (ext === '.parquet') return 'parquet';
  if (name.includes('idx') || name.endsWith('ubyte')) return 'idx';
  return 'text';
}

export function defaultMetrics(task: TaskType): string[] {
  switch (task) {
    case 'causal-lm': return ['loss', 'perplexity'];
    case 'seq-cls': return ['accuracy'];
    case 'regression': return ['pearson', 'spearman'];
    case 'token-cls': return ['accuracy'];
    case 'seq2seq': return ['loss'];
    case 'image-cls': return ['accuracy'];
    case 'audio-cls': return ['accuracy'];
    case 'clip-cls': return ['accuracy'];
  }
}

const CLASSIFICATION: TaskType[] = ['seq-cls', 'token-cls', 'image-cls', 'audio-cls', 'clip-cls'];
/** Tasks whose predictions a metric can read (loss and perplexity: every task). */
const METRIC_TASKS: Record<string, TaskType[]> = {
  accuracy: CLASSIFICATION, f1: CLASSIFICATION, mcc: CLASSIFICATION,
  pearson: ['regression'], spearman: ['regression'], rouge: ['seq2seq'], bleu: ['seq2seq'],
};

export function planTask(t: Section, family: FamilyInfo | null, report: Report): TaskPlan {
  const taskType = (t.value('type') as TaskType | undefined) ?? 'causal-lm';
  if (family && !family.tasks.includes(taskType)) {
    report(t.get('type')?.path ?? [...t.path, 'type'], `${family.name} backbones do not support task ${taskType}`, `supported: ${family.tasks.join(', ')}`);
  }
  const rawLabels = t.value('labels');
  const labels = Array.isArray(rawLabels) ? rawLabels.map(String) : null;
  const given = numOrNull(t.value('num_labels'));
  // clip-cls has as many classes as label names (its head is built from them)
  const numLabels = given ?? (labels ? labels.length : CLASSIFICATION.includes(taskType) && taskType !== 'clip-cls' ? 2 : null);
  if (labels && given !== null && given !== labels.length) {
    report(t.get('num_labels')!.path, `num_labels is ${given} but labels lists ${labels.length} names`, 'remove num_labels (labels sets it) or make them agree');
  }
  const task: TaskPlan = {
    type: taskType, numLabels, labels,
    pooling: (t.value('pooling') as TaskPlan['pooling']) ?? null,
    labelSmoothing: num(t.value('label_smoothing'), 0),
  };
  // clip-cls: the zero-shot head's text prompts, one per template, with {label} where the name goes
  const rawPrompts = t.get('prompts');
  const prompts = typeof rawPrompts?.value === 'string' ? [rawPrompts.value] : Array.isArray(rawPrompts?.value) ? (rawPrompts!.value as unknown[]).map(String) : null;
  if (prompts && taskType !== 'clip-cls') report(rawPrompts!.path, 'prompts only apply to task clip-cls', 'remove task.prompts, or set task.type: clip-cls');
  if (taskType === 'clip-cls') {
    task.prompts = prompts ?? ['a photo of a {label}.'];
    if (!labels) report(t.get('type')?.path ?? [...t.path, 'type'], 'clip-cls builds its head from the label names: give task.labels', 'e.g. labels: [cat, dog]; each goes into the prompts');
    task.prompts.forEach((p, i) => {
      if (!p.includes('{label}')) report(typeof rawPrompts!.value === 'string' ? rawPrompts!.path : [...rawPrompts!.path, i], `prompt "${p}" has no {label}`, 'write where the label name goes: "a photo of a {label}"');
    });
  }
  return task;
}

/** The data section; `maxPositions` (the model's, when known) caps the default max_length. */
export function planData(r: ResolvedRecipe, d: Section, taskType: TaskType, report: Report, maxPositions: number | null = null): DataPlan {
  const fileDir = (path: DocPath, p: string): string => {
    const bad = rawPathProblem(p);
    if (bad) report(path, bad.message, bad.hint);
    return resolve(r.baseDir(path), p);
  };
  const split = (key: 'train' | 'validation' | 'test'): DataSplitPlan | null => {
    const at = d.get(key);
    const v = at?.value;
    if (v === undefined || v === null) return null;
    const o = typeof v === 'string' ? { path: v } : obj(v);
    const pathKey: DocPath = typeof v === 'string' ? at!.path : [...at!.path, 'path'];
    const sp = obj(o.split);
    if (typeof o.path !== 'string' && !o.split) {
      report(at!.path, 'needs a path (or split: {of: train, fraction: …})', `data: {${key}: path/to/file.jsonl} or {${key}: {split: {of: train, fraction: 0.1}}}`);
      return null;
    }
    const path = typeof o.path === 'string' ? fileDir(pathKey, o.path) : '';
    const format = (o.format as DataSplitPlan['format']) ?? (d.value('format') as DataSplitPlan['format'] | undefined) ?? formatOf(path);
    const problem = path ? dataPathProblem(path, format) : null;
    if (problem) report(pathKey, problem.message, problem.hint);
    const out: DataSplitPlan = {
      path,
      format,
      limit: numOrNull(o.limit),
      split: o.split ? { of: String(sp.of ?? 'train'), fraction: num(sp.fraction, 0.1), part: (sp.part as 'head' | 'tail') ?? 'tail' } : null,
    };
    if (o.columns) out.columns = Object.fromEntries(Object.entries(obj(o.columns)).map(([k, c]) => [k, String(c)]));
    return out;
  };
  const packing = d.value('packing');
  return {
    train: split('train'),
    validation: split('validation'),
    test: split('test'),
    columns: Object.fromEntries(Object.entries(obj(d.value('columns'))).map(([k, v]) => [k, String(v)])),
    // the default max_length (128) never exceeds the model's positions; one the recipe sets is checked against them
    maxLength: num(d.value('max_length'), Math.min(128, maxPositions ?? 128)),
    packing: typeof packing === 'boolean' ? packing : taskType === 'causal-lm',
    groupByLength: d.value('group_by_length') === true,
    onError: (d.value('on_error') as 'fail' | 'skip') ?? 'fail',
  };
}

/** eval.metrics of a task: the given ones (each checked against the task) or the task's defaults. */
export function planMetrics(e: Section, taskType: TaskType, report: Report): string[] {
  const at = e.get('metrics');
  const metrics = Array.isArray(at?.value) ? (at!.value as unknown[]).map(String) : defaultMetrics(taskType);
  metrics.forEach((m, i) => {
    const tasks = METRIC_TASKS[m];
    if (tasks && !tasks.includes(taskType)) report([...at!.path, i], `metric ${m} does not apply to task ${taskType}`, `${m} is for ${tasks.join(', ')}`);
  });
  return metrics;
}
