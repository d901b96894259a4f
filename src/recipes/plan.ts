// Recipe → Plan: presets expanded into design dimensions, defaults decided, paths made absolute,
// the backbone's config.json read (never its weights), impossible combinations reported with
// their place. No tensors here: `peft validate` runs this.
import { join, resolve } from 'node:path';
import type { EvalPlan, GeneratePlan, OptimizerPlan, Plan, SchedulePlan, TrainingPlan } from '../plan/index.js';
import type { DocPath, RecipeIssue, ResolvedRecipe } from './types.js';
import { catalogEntry, CATALOG, compileMethod, findModelDir, isLayersModelDir, layersModelConfig, readModelSizes, type FamilyInfo, type ModelSizes, type Report } from '../plan/index.js';
import { dottedPath } from './source.js';
import { budgetProblems, nameFromFile, rawPathProblem, readConfig } from './plan-checks.js';
import { docSection, num, numOrNull, obj, planData, planMetrics, planTask, type Obj } from './plan-sections.js';
import { planTasks } from './plan-tasks.js';

export interface PlanResult {
  plan: Plan | null;
  issues: RecipeIssue[];
}

const DEPTH_KEYS = ['num_hidden_layers', 'n_layer', 'num_layers', 'n_layers', 'encoder_layers'];

export function planRecipe(r: ResolvedRecipe): PlanResult {
  const issues: RecipeIssue[] = [];
  // one issue per key: what follows from a key's first problem is not a second mistake
  const report: Report = (path, message, hint) => {
    const dotted = dottedPath(path);
    if (!issues.some((i) => i.path === dotted)) issues.push({ where: r.locate(path), path: dotted, message, hint });
  };
  const doc = r.doc as Obj;
  const fileDir = (path: DocPath, p: string): string => {
    const bad = rawPathProblem(p);
    if (bad) report(path, bad.message, bad.hint);
    return resolve(r.baseDir(path), p);
  };

  // backbone: must exist and be a family we build (config.json only)
  const bb = obj(doc.backbone);
  let family: FamilyInfo | null = null;
  let depth: number | null = null;
  let sizes: ModelSizes | null = null;
  let backbonePath = '';
  if (typeof bb.path === 'string') {
    backbonePath = fileDir(['backbone', 'path'], bb.path);
    const found = findModelDir(backbonePath);
    if ('error' in found) report(['backbone', 'path'], found.error, found.hint);
    else {
      // a TensorFlow.js layers-model's config is its model.json topology; a Hugging Face directory's, config.json
      const read = isLayersModelDir(found.dir) ? layersModelConfig(found.dir) : readConfig(join(found.dir, 'config.json'));
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
        const checked = readModelSizes(cfg, family);
        // one damaged config is one error: its first bad size
        const bad = checked.problems[0];
        if (bad) report(['backbone', 'path'], `${bad.message} (${join(found.dir, 'config.json')})`, bad.hint);
        else {
          sizes = checked.sizes;
          depth = DEPTH_KEYS.map((k) => cfg[k]).find((v): v is number => typeof v === 'number') ?? null;
          // ResNet counts residual layers over its stages
          if (depth === null && Array.isArray(cfg.depths)) depth = (cfg.depths as number[]).reduce((a, b) => a + b, 0);
        }
      }
    }
  }

  const multi = doc.tasks !== undefined || doc.stream !== undefined;
  const topTask = docSection(doc, ['task']);
  const topData = docSection(doc, ['data']);
  const topEval = docSection(doc, ['eval']);
  // a multi-task recipe's top-level task/data/eval are the defaults of its tasks (planned per task)
  const single = multi ? null : planTask(topTask, family, report);
  const maxPositions = sizes?.maxPositions ?? null;
  const multiPlan = multi ? planTasks(r, { family, topTask, topData, topEval, maxPositions }, report) : null;
  const task = multiPlan?.task ?? single!;
  const taskType = task.type;
  const trainingDoc = obj(doc.training);
  const data = planData(r, topData, taskType, report, maxPositions);
  const method = compileMethod(doc.method, {
    family, depth, task: taskType, dropout: typeof trainingDoc.dropout === 'number' ? trainingDoc.dropout : undefined,
    tasks: multiPlan ? multiPlan.tasks.length : undefined, sizes, maxLength: data.maxLength,
  }, report);

  if (!multi && !data.train) report(['data'], 'missing data.train', 'name the training file: data: {train: path/to/train.jsonl}');

  const tr = obj(doc.training);
  const es = tr.early_stopping ? obj(tr.early_stopping) : null;
  const spike = obj(tr.loss_spike);
  const training: TrainingPlan = {
    maxSteps: numOrNull(tr.max_steps),
    epochs: numOrNull(tr.epochs) ?? (typeof tr.max_steps === 'number' ? null : 1),
    batchSize: tr.batch_size === 'auto' ? NaN : num(tr.batch_size, 8),
    gradAccum: num(tr.grad_accum, 1),
    maxGradNorm: tr.max_grad_norm === null ? null : num(tr.max_grad_norm, 1.0),
    logEvery: num(tr.log_every, 10),
    evalEvery: tr.eval_every === 'epoch' ? 'epoch' : numOrNull(tr.eval_every),
    checkpointEvery: numOrNull(tr.checkpoint_every),
    keepCheckpoints: num(tr.keep_checkpoints, 2),
    dropout: num(tr.dropout, 0),
    earlyStopping: es ? {
      metric: String(es.metric ?? 'loss'), patience: num(es.patience, 3),
      // a task's own metric in a multi-task recipe (`sst2/loss`) has the direction of its metric
      mode: (es.mode as 'min' | 'max') ?? (['loss', 'perplexity'].includes(String(es.metric ?? 'loss').split('/').pop()!) ? 'min' : 'max'),
    } : null,
    lossSpike: { factor: num(spike.factor, 10), window: num(spike.window, 20), action: (spike.action as 'stop' | 'skip') ?? 'stop' },
  };

  const o = obj(doc.optimizer);
  const betas = Array.isArray(o.betas) && o.betas.length === 2 ? (o.betas as [number, number]) : [0.9, 0.999] as [number, number];
  const optimizer: OptimizerPlan = {
    name: (o.name as OptimizerPlan['name']) ?? 'adamw',
    lr: o.lr === 'auto' ? NaN : num(o.lr, 1e-3),
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
    report(['schedule', 'warmup_ratio'], 'give warmup_steps or warmup_ratio, not both', 'remove one of them');
  }

  const e = obj(doc.eval);
  const evalPlan: EvalPlan = {
    metrics: multiPlan ? multiPlan.metrics : planMetrics(topEval, taskType, report),
    batchSize: num(e.batch_size, Number.isNaN(training.batchSize) ? 16 : training.batchSize),
    limit: numOrNull(e.limit),
  };

  if (training.earlyStopping) {
    const m = training.earlyStopping.metric;
    const known = multiPlan ? multiPlan.trackable : [...evalPlan.metrics, 'loss', ...(taskType === 'causal-lm' || taskType === 'seq2seq' ? ['perplexity'] : []),
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

  for (const [path, message, hint] of budgetProblems({
    maxLength: data.maxLength, batchSize: training.batchSize, evalBatchSize: typeof e.batch_size === 'number' ? e.batch_size : null,
    maxNewTokens: generate?.maxNewTokens ?? null, taskType,
  }, sizes)) report(path, message, hint);

  const out = obj(doc.output);
  let name = typeof doc.name === 'string' ? doc.name : '';
  if (typeof doc.name !== 'string') {
    const derived = nameFromFile(r.file);
    if ('error' in derived) report([], derived.error, derived.hint);
    else name = derived.name;
  }
  // output.dir, like every path of a recipe, is relative to the file that names it; the default runs/ to the working directory
  const outputDir = typeof out.dir === 'string' ? fileDir(['output', 'dir'], out.dir) : resolve('runs');
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
    output: { dir: outputDir },
  };
  if (multiPlan) {
    plan.tasks = multiPlan.tasks;
    if (multiPlan.stream) plan.stream = multiPlan.stream;
    else plan.training.sampling = multiPlan.sampling;
  }
  if (o.lr === 'auto' || tr.batch_size === 'auto') plan.stepLaw = { lr: o.lr === 'auto', batchSize: tr.batch_size === 'auto' };
  return { plan: issues.length ? null : plan, issues };
}
