// Recipe → Plan: presets expanded into design dimensions, defaults decided, paths made absolute,
// the backbone's config.json read (never its weights), impossible combinations reported with
// their place. No tensors here: `peft validate` runs this.
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import type { DataPlan, DataSplitPlan, EvalPlan, GeneratePlan, OptimizerPlan, Plan, SchedulePlan, TaskPlan, TaskType, TrainingPlan } from '../plan/index.js';
import type { DocPath, RecipeIssue, ResolvedRecipe } from './types.js';
import { catalogEntry, CATALOG, compileMethod, findModelDir, readBackboneConfig, type FamilyInfo, type Report } from '../plan/index.js';
import { dottedPath } from './source.js';

export interface PlanResult {
  plan: Plan | null;
  issues: RecipeIssue[];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const num = (v: unknown, d: number): number => (typeof v === 'number' ? v : d);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);

const DEPTH_KEYS = ['num_hidden_layers', 'n_layer', 'num_layers', 'n_layers', 'encoder_layers'];

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

function defaultMetrics(task: TaskType): string[] {
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

export function planRecipe(r: ResolvedRecipe): PlanResult {
  const issues: RecipeIssue[] = [];
  const report: Report = (path, message, hint) => issues.push({ where: r.locate(path), path: dottedPath(path), message, hint });
  const doc = r.doc as Obj;
  const fileDir = (path: DocPath, p: string): string => resolve(r.baseDir(path), p);

  // backbone: must exist and be a family we build (config.json only)
  const bb = obj(doc.backbone);
  let family: FamilyInfo | null = null;
  let depth: number | null = null;
  let backbonePath = '';
  if (typeof bb.path === 'string') {
    backbonePath = fileDir(['backbone', 'path'], bb.path);
    const found = findModelDir(backbonePath);
    if ('error' in found) report(['backbone', 'path'], found.error, found.hint);
    else {
      const read = readBackboneConfig(found.dir);
      if ('error' in read) report(['backbone', 'path'], read.error, read.hint);
      else {
        const cfg = read.config;
        const mt = String(cfg.model_type ?? '');
        family = catalogEntry(mt);
        if (family && typeof bb.image_size === 'number' && !family.convolutional) {
          report(['backbone', 'image_size'], `${family.name} takes images of one size (its position embeddings are learned for it)`, 'image_size applies to convolutional backbones (ResNet, TensorFlow.js layers-models)');
        }
        if (!family) {
          report(['backbone', 'path'], `unsupported backbone family (model_type "${mt}")`,
            `supported: ${CATALOG.flatMap((f) => f.modelTypes).join(', ')}`);
        }
        depth = DEPTH_KEYS.map((k) => cfg[k]).find((v): v is number => typeof v === 'number') ?? null;
        // ResNet counts residual layers over its stages
        if (depth === null && Array.isArray(cfg.depths)) depth = (cfg.depths as number[]).reduce((a, b) => a + b, 0);
      }
    }
  }

  const t = obj(doc.task);
  const taskType = (t.type as TaskType | undefined) ?? 'causal-lm';
  if (family && !family.tasks.includes(taskType)) {
    report(['task', 'type'], `${family.name} backbones do not support task ${taskType}`, `supported: ${family.tasks.join(', ')}`);
  }
  const labels = Array.isArray(t.labels) ? t.labels.map(String) : null;
  const numLabels = numOrNull(t.num_labels) ?? (labels ? labels.length : CLASSIFICATION.includes(taskType) && taskType !== 'clip-cls' ? 2 : null);
  if (labels && typeof t.num_labels === 'number' && t.num_labels !== labels.length) {
    report(['task', 'num_labels'], `num_labels is ${t.num_labels} but labels lists ${labels.length} names`);
  }
  const task: TaskPlan = {
    type: taskType, numLabels, labels,
    pooling: (t.pooling as TaskPlan['pooling']) ?? null,
    labelSmoothing: num(t.label_smoothing, 0),
  };
  const prompts = typeof t.prompts === 'string' ? [t.prompts] : Array.isArray(t.prompts) ? t.prompts.map(String) : null;
  if (prompts && taskType !== 'clip-cls') report(['task', 'prompts'], 'prompts only apply to task clip-cls');
  if (taskType === 'clip-cls') {
    task.prompts = prompts ?? ['a photo of a {label}.'];
    if (!labels) report(['task', 'type'], 'clip-cls builds its head from the label names: give task.labels', 'e.g. labels: [cat, dog]; each goes into the prompts');
    task.prompts.forEach((p, i) => {
      if (!p.includes('{label}')) report(typeof t.prompts === 'string' ? ['task', 'prompts'] : ['task', 'prompts', i], `prompt "${p}" has no {label}`, 'write where the label name goes: "a photo of a {label}"');
    });
  }

  const trainingDoc = obj(doc.training);
  const method = compileMethod(doc.method, { family, depth, task: taskType, dropout: typeof trainingDoc.dropout === 'number' ? trainingDoc.dropout : undefined }, report);

  // data
  const d = obj(doc.data);
  const split = (key: 'train' | 'validation' | 'test'): DataSplitPlan | null => {
    const v = d[key];
    if (v === undefined || v === null) return null;
    const o = typeof v === 'string' ? { path: v } : obj(v);
    const pathKey: DocPath = typeof v === 'string' ? ['data', key] : ['data', key, 'path'];
    const sp = obj(o.split);
    if (typeof o.path !== 'string' && !o.split) {
      report(['data', key], 'needs a path (or split: {of: train, fraction: …})');
      return null;
    }
    const path = typeof o.path === 'string' ? fileDir(pathKey, o.path) : '';
    if (path && !existsSync(path)) report(pathKey, `data file not found: ${path}`, 'paths are relative to the recipe file');
    const out: DataSplitPlan = {
      path,
      format: (o.format as DataSplitPlan['format']) ?? (d.format as DataSplitPlan['format']) ?? formatOf(path),
      limit: numOrNull(o.limit),
      split: o.split ? { of: String(sp.of ?? 'train'), fraction: num(sp.fraction, 0.1), part: (sp.part as 'head' | 'tail') ?? 'tail' } : null,
    };
    if (o.columns) out.columns = Object.fromEntries(Object.entries(obj(o.columns)).map(([k, c]) => [k, String(c)]));
    return out;
  };
  const data: DataPlan = {
    train: split('train'),
    validation: split('validation'),
    test: split('test'),
    columns: Object.fromEntries(Object.entries(obj(d.columns)).map(([k, v]) => [k, String(v)])),
    maxLength: num(d.max_length, 128),
    packing: typeof d.packing === 'boolean' ? d.packing : taskType === 'causal-lm',
    groupByLength: d.group_by_length === true,
    onError: (d.on_error as 'fail' | 'skip') ?? 'fail',
  };
  if (!data.train) report(['data'], 'missing data.train', 'name the training file: data: {train: path/to/train.jsonl}');

  const tr = obj(doc.training);
  const es = tr.early_stopping ? obj(tr.early_stopping) : null;
  const spike = obj(tr.loss_spike);
  const training: TrainingPlan = {
    maxSteps: numOrNull(tr.max_steps),
    epochs: numOrNull(tr.epochs) ?? (typeof tr.max_steps === 'number' ? null : 1),
    batchSize: num(tr.batch_size, 8),
    gradAccum: num(tr.grad_accum, 1),
    maxGradNorm: tr.max_grad_norm === null ? null : num(tr.max_grad_norm, 1.0),
    logEvery: num(tr.log_every, 10),
    evalEvery: tr.eval_every === 'epoch' ? 'epoch' : numOrNull(tr.eval_every),
    checkpointEvery: numOrNull(tr.checkpoint_every),
    keepCheckpoints: num(tr.keep_checkpoints, 2),
    dropout: num(tr.dropout, 0),
    earlyStopping: es ? {
      metric: String(es.metric ?? 'loss'), patience: num(es.patience, 3),
      mode: (es.mode as 'min' | 'max') ?? (['loss', 'perplexity'].includes(String(es.metric ?? 'loss')) ? 'min' : 'max'),
    } : null,
    lossSpike: { factor: num(spike.factor, 10), window: num(spike.window, 20), action: (spike.action as 'stop' | 'skip') ?? 'stop' },
  };

  const o = obj(doc.optimizer);
  const betas = Array.isArray(o.betas) && o.betas.length === 2 ? (o.betas as [number, number]) : [0.9, 0.999] as [number, number];
  const optimizer: OptimizerPlan = {
    name: (o.name as OptimizerPlan['name']) ?? 'adamw',
    lr: num(o.lr, 1e-3),
    betas: o.betas ? betas : o.name === 'lion' ? [0.9, 0.99] : betas,
    eps: num(o.eps, 1e-8),
    weightDecay: num(o.weight_decay, 0),
    momentum: num(o.momentum, 0),
    groups: Array.isArray(o.groups) ? o.groups.map((g) => {
      const go = obj(g);
      return { match: String(go.match ?? ''), lr: numOrNull(go.lr) ?? undefined, weightDecay: numOrNull(go.weight_decay) ?? undefined };
    }) : [],
  };

  const s = obj(doc.schedule);
  const schedule: SchedulePlan = {
    name: (s.name as SchedulePlan['name']) ?? 'linear',
    warmupSteps: numOrNull(s.warmup_steps),
    warmupRatio: numOrNull(s.warmup_ratio),
    power: num(s.power, 1),
    minLr: num(s.min_lr, 0),
  };
  if (schedule.warmupSteps !== null && schedule.warmupRatio !== null) {
    report(['schedule', 'warmup_ratio'], 'give warmup_steps or warmup_ratio, not both');
  }

  const e = obj(doc.eval);
  const evalPlan: EvalPlan = {
    metrics: Array.isArray(e.metrics) ? e.metrics.map(String) : defaultMetrics(taskType),
    batchSize: num(e.batch_size, training.batchSize),
    limit: numOrNull(e.limit),
  };

  evalPlan.metrics.forEach((m, i) => {
    const tasks = METRIC_TASKS[m];
    if (tasks && !tasks.includes(taskType)) report(['eval', 'metrics', i], `metric ${m} does not apply to task ${taskType}`, `${m} is for ${tasks.join(', ')}`);
  });
  if (training.earlyStopping) {
    const m = training.earlyStopping.metric;
    const known = [...evalPlan.metrics, 'loss', ...(taskType === 'causal-lm' || taskType === 'seq2seq' ? ['perplexity'] : []),
      ...(evalPlan.metrics.includes('rouge') ? ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'] : [])];
    if (!known.includes(m)) {
      report(['training', 'early_stopping', 'metric'], `early stopping watches ${m}, which evaluation does not compute`, `use one of ${[...new Set(known)].join(', ')} (eval.metrics lists what is computed)`);
    }
  }

  const g = doc.generate ? obj(doc.generate) : null;
  const generate: GeneratePlan | null = g ? {
    prompt: String(g.prompt ?? ''),
    maxNewTokens: num(g.max_new_tokens, 48),
    strategy: (g.strategy as GeneratePlan['strategy']) ?? 'greedy',
    temperature: num(g.temperature, 1),
    topK: num(g.top_k, 0),
    topP: num(g.top_p, 1),
    numBeams: num(g.num_beams, 4),
    lengthPenalty: num(g.length_penalty, 1),
    minNewTokens: num(g.min_new_tokens, 0),
    noRepeatNgramSize: num(g.no_repeat_ngram_size, 0),
  } : null;

  const out = obj(doc.output);
  const name = typeof doc.name === 'string' ? doc.name : basename(r.file).replace(/\.ya?ml$/i, '');
  const plan: Plan = {
    name,
    recipePath: r.file,
    description: typeof doc.description === 'string' ? doc.description : null,
    seed: num(doc.seed, 0),
    backbone: {
      path: backbonePath, dtype: 'float32',
      ...(typeof bb.image_size === 'number' ? { imageSize: bb.image_size } : {}),
      ...(bb.init === 'random' ? { init: 'random' as const } : {}),
    },
    task,
    data,
    method,
    training,
    optimizer,
    schedule,
    eval: evalPlan,
    generate,
    output: { dir: resolve(typeof out.dir === 'string' ? out.dir : 'runs') },
  };
  return { plan: issues.length ? null : plan, issues };
}
