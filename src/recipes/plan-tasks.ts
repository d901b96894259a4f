// Multi-task recipes and streams, planned: the `tasks:` list (each entry's task, data and eval
// laid over the top-level sections), or the tasks a class-incremental `stream.split` cuts from
// the recipe's one labelled set; the shared head (classification tasks' labels one task after
// another); the sampling rule of joint training; the stream.
import type {
  ConpetPlan, ContinualStrategy, FamilyInfo, LaePlan, MosPlan, SamplingPlan, StreamPlan, TaskEntryPlan, TaskPlan, TaskType,
} from '../plan/index.js';
import type { DocPath, ResolvedRecipe } from './types.js';
import type { Report } from '../plan/index.js';
import { suggest } from '../plan/index.js';
import { docSection, num, obj, planData, planMetrics, planTask, section, type Obj, type Section } from './plan-sections.js';

export interface TasksContext {
  family: FamilyInfo | null;
  topTask: Section;
  topData: Section;
  topEval: Section;
  /** The backbone's max positions when known (the default max_length never exceeds them). */
  maxPositions?: number | null;
}

export interface MultiTaskResult {
  /** The shared head's task: every classification task's labels, one task after another. */
  task: TaskPlan;
  tasks: TaskEntryPlan[];
  /** eval.metrics of the whole: the mean over tasks of each task's score. */
  metrics: string[];
  /** What early stopping may watch: task_mean, loss, and <task>/<metric>. */
  trackable: string[];
  sampling: SamplingPlan;
  stream: StreamPlan | null;
}

/** The task types a multi-task recipe takes: a sequence-level head shared by its classification tasks, and language modelling. */
const HEADED: TaskType[] = ['seq-cls', 'image-cls'];
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function planTasks(r: ResolvedRecipe, ctx: TasksContext, report: Report): MultiTaskResult {
  const doc = r.doc as Obj;
  const streamDoc = doc.stream === undefined ? null : obj(doc.stream);
  const split = streamDoc?.split !== undefined ? obj(streamDoc.split) : null;
  let tasks: TaskEntryPlan[];
  let head: TaskPlan;
  if (split) {
    if (doc.tasks !== undefined) report(['tasks'], 'a stream with split: cuts its tasks from the recipe\'s data; remove tasks: (or split:)', 'a stream either lists tasks: or cuts them with stream.split');
    ({ tasks, head } = splitTasks(r, ctx, split, report));
  } else if (!Array.isArray(doc.tasks) || doc.tasks.length === 0) {
    report(doc.tasks === undefined ? ['stream'] : ['tasks'], 'a stream needs tasks: a tasks: list, or stream.split to cut one labelled set by class',
      'tasks: [{name: sst2, task: {type: seq-cls}, data: {train: …}}, …]');
    tasks = [];
    head = planTask(ctx.topTask, ctx.family, () => undefined);
  } else {
    ({ tasks, head } = listedTasks(r, ctx, doc.tasks as unknown[], report));
  }
  const stream = streamDoc ? planStream(streamDoc, tasks, report) : null;
  if (stream?.conpet) {
    // ConPET's selector scores the tasks: one more column of the shared head per task
    const first = head.numLabels ?? 0;
    stream.conpet.selectorClasses = tasks.map((_, i) => first + i);
    head = { ...head, numLabels: first + tasks.length, labels: [...(head.labels ?? Array.from({ length: first }, (_, k) => String(k))), ...tasks.map((t) => `selector:${t.name}`)] };
  }
  const lm = tasks.filter((t) => t.task.type === 'causal-lm');
  if (!stream && lm.length > 0 && lm.length < tasks.length) {
    report(['tasks'], `joint training needs tasks of one kind: ${lm.map((t) => t.name).join(', ')} ${lm.length === 1 ? 'is' : 'are'} language modelling, the others classification`,
      'train them as stages of a stream (stream: {order: […]}), e.g. domain text first, as mixda does');
  }
  const sampling = planSampling(doc, stream !== null, report);
  const trackable = ['task_mean', 'loss', ...tasks.flatMap((t) => [`${t.name}/loss`, ...t.metrics.map((m) => `${t.name}/${m}`)])];
  return { task: head, tasks, metrics: ['task_mean'], trackable, sampling, stream };
}

/** The tasks of a `tasks:` list, and the shared head laid out over their labels. */
function listedTasks(r: ResolvedRecipe, ctx: TasksContext, list: unknown[], report: Report): { tasks: TaskEntryPlan[]; head: TaskPlan } {
  const tasks: TaskEntryPlan[] = [];
  const seen = new Set<string>();
  let offset = 0;
  const headed = new Set<TaskType>();
  list.forEach((raw, i) => {
    const at: DocPath = ['tasks', i];
    const e = obj(raw);
    const name = typeof e.name === 'string' ? e.name : `task${i}`;
    if (typeof e.name !== 'string') report(at, 'a task needs a name', 'name: sst2 (letters, digits, . _ -): eval/predict --task NAME use it');
    else if (!NAME_RE.test(name)) report([...at, 'name'], `task name "${name}" must be letters, digits, . _ -`, 'e.g. name: sst2');
    if (seen.has(name)) report([...at, 'name'], `two tasks are named ${name}`, 'give each task its own name');
    seen.add(name);
    const task = planTask(section(e.task, [...at, 'task'], ctx.topTask), ctx.family, report);
    const data = planData(r, section(e.data, [...at, 'data'], ctx.topData), task.type, report, ctx.maxPositions ?? null);
    if (!data.train) report([...at, 'data'], `task ${name} has no data.train`, 'each task names its training file (or the top-level data: does)');
    const metrics = planMetrics(section(e.eval, [...at, 'eval'], ctx.topEval), task.type, report);
    let headClasses: number[] = [];
    if (HEADED.includes(task.type)) {
      headed.add(task.type);
      headClasses = Array.from({ length: task.numLabels ?? 2 }, (_, k) => offset + k);
      offset += headClasses.length;
    } else if (task.type !== 'causal-lm') {
      report([...at, 'task', 'type'], `task ${task.type} cannot be one of several tasks yet`, 'tasks of a multi-task recipe or a stream are seq-cls, image-cls or causal-lm');
    }
    tasks.push({ name, id: i, task, data, metrics, headClasses });
  });
  if (headed.size > 1) report(['tasks'], `the classification tasks share one head, so one kind: ${[...headed].join(' and ')} mixed`, 'give the tasks one task.type, or train them in separate recipes');
  const top = planTask(ctx.topTask, ctx.family, () => undefined);
  const cls = tasks.filter((t) => t.headClasses.length > 0);
  const labels = cls.flatMap((t) => t.headClasses.map((_, k) => `${t.name}:${t.task.labels?.[k] ?? k}`));
  const head: TaskPlan = cls.length === 0
    ? { ...top, type: 'causal-lm', numLabels: null, labels: null }
    : { ...top, type: cls[0].task.type, numLabels: labels.length, labels };
  return { tasks, head };
}

/** class-incremental tasks cut from the recipe's one labelled set: `split: {classes_per_task, order}`. */
function splitTasks(r: ResolvedRecipe, ctx: TasksContext, split: Obj, report: Report): { tasks: TaskEntryPlan[]; head: TaskPlan } {
  const at: DocPath = ['stream', 'split'];
  const head = planTask(ctx.topTask, ctx.family, report);
  const n = head.numLabels ?? 0;
  if (!HEADED.includes(head.type)) {
    report(['task', 'type'], `stream.split cuts a classification set by class, and task ${head.type} has none`, 'task: {type: seq-cls or image-cls, num_labels: N}');
    return { tasks: [], head };
  }
  const order = Array.isArray(split.order) ? split.order.map(Number) : Array.from({ length: n }, (_, k) => k);
  const bad = order.filter((c) => !Number.isInteger(c) || c < 0 || c >= n);
  if (bad.length) report([...at, 'order'], `class ${bad.join(', ')} is not a class of the task (0 … ${n - 1})`, `use class indices 0 … ${n - 1}`);
  if (new Set(order).size !== order.length) report([...at, 'order'], 'a class appears twice', 'list each class once');
  const per = num(split.classes_per_task, 2);
  if (order.length % per !== 0) report([...at, 'classes_per_task'], `${order.length} classes do not cut into tasks of ${per}`, 'choose classes_per_task dividing the number of classes');
  const data = docSection(r.doc as Obj, ['data']);
  const base = planData(r, data, head.type, report, ctx.maxPositions ?? null);
  if (!base.train) report(['data'], 'missing data.train', 'stream.split cuts the recipe\'s own data.train by class');
  const metrics = planMetrics(ctx.topEval, head.type, report);
  const tasks: TaskEntryPlan[] = [];
  for (let k = 0; k + per <= order.length; k += per) {
    const classes = order.slice(k, k + per);
    const cut = { keep: classes, labels: head.labels, count: n };
    const withClasses = (sp: typeof base.train) => (sp ? { ...sp, classes: cut } : null);
    tasks.push({
      name: `classes-${classes.join('-')}`, id: tasks.length,
      task: { ...head, numLabels: per, labels: classes.map((c) => head.labels?.[c] ?? String(c)) },
      data: { ...base, train: withClasses(base.train), validation: withClasses(base.validation), test: withClasses(base.test) },
      metrics, headClasses: classes,
    });
  }
  return { tasks, head };
}

function planSampling(doc: Obj, streamed: boolean, report: Report): SamplingPlan {
  const raw = obj(doc.training).sampling;
  const path: DocPath = ['training', 'sampling'];
  if (raw === undefined) return { rule: 'proportional', temperature: 1 };
  if (streamed) report(path, 'a stream trains its tasks one after another: sampling applies to joint training only', 'remove training.sampling');
  const o = typeof raw === 'string' ? { rule: raw } : obj(raw);
  const rule = (o.rule as SamplingPlan['rule'] | undefined) ?? (o.temperature !== undefined ? 'temperature' : 'proportional');
  if (o.temperature !== undefined && rule !== 'temperature') report([...path, 'temperature'], `temperature applies to rule: temperature (this rule is ${rule})`, 'remove temperature, or set rule: temperature');
  return { rule, temperature: rule === 'temperature' ? num(o.temperature, 2) : 1 };
}

const STRATEGY_OPTIONS: Record<string, ContinualStrategy> = { lae: 'lae', conpet: 'conpet', mos: 'mos' };

function planStream(s: Obj, tasks: TaskEntryPlan[], report: Report): StreamPlan {
  const names = tasks.map((t) => t.name);
  let order = names;
  if (Array.isArray(s.order)) {
    order = s.order.map(String);
    order.forEach((n, i) => {
      if (!names.includes(n)) {
        const near = suggest(n, names);
        report(['stream', 'order', i], `no task named ${n}${near ? ` (did you mean "${near}"?)` : ''}`, `tasks: ${names.join(', ')}`);
      }
    });
    if (new Set(order).size !== order.length) report(['stream', 'order'], 'a task appears twice in the order', 'list each task once');
  }
  const strategy = (s.strategy as ContinualStrategy | undefined) ?? 'sequential';
  for (const [key, owner] of Object.entries(STRATEGY_OPTIONS)) {
    if (s[key] !== undefined && strategy !== owner) report(['stream', key], `${key} options apply to strategy: ${owner} (this stream's is ${strategy})`, `remove ${key}, or set strategy: ${owner}`);
  }
  const scenario = (s.scenario as StreamPlan['scenario'] | undefined) ?? (s.split !== undefined ? 'class-incremental' : 'task-incremental');
  const lm = tasks.filter((t) => order.includes(t.name) && t.task.type === 'causal-lm').map((t) => t.name);
  if (scenario === 'class-incremental' && lm.length) report(['stream', 'scenario'], `class-incremental streams are over classification tasks (${lm.join(', ')} ${lm.length === 1 ? 'is' : 'are'} language modelling)`, 'use scenario: task-incremental');
  if (strategy !== 'mixda' && lm.length && strategy !== 'sequential') report(['stream', 'strategy'], `strategy ${strategy} learns classification tasks; ${lm.join(', ')} ${lm.length === 1 ? 'is' : 'are'} language modelling`, 'use strategy: sequential (or mixda) for language-modelling tasks');
  if (strategy === 'mixda' && lm.length === 0) report(['stream', 'strategy'], 'mixda trains its domain adapters on language-modelling stages first: put causal-lm tasks (domain text) before the task', 'tasks: [{name: domain, task: {type: causal-lm}, data: {train: domain.txt}}, …]');
  const l = obj(s.lae);
  const lae: LaePlan | null = strategy === 'lae'
    ? { decay: num(l.decay, 0.9999), freezeEpochs: num(l.freeze_epochs, 3), ensemble: (l.ensemble as LaePlan['ensemble']) ?? 'max' }
    : null;
  const c = obj(s.conpet);
  const conpet: ConpetPlan | null = strategy === 'conpet'
    ? { topk: num(c.topk, 1), teacherForcing: c.teacher_forcing !== false, nullLogit: num(c.null_logit, -100), selectorClasses: [] }
    : null;
  const m = obj(s.mos);
  const mos: MosPlan | null = strategy === 'mos'
    ? { momentum: num(m.momentum, 0.1), maxIter: num(m.max_iter, 4), ensemble: m.ensemble !== false }
    : null;
  if (strategy === 'conpet' && scenario === 'class-incremental' && (s.replay === undefined || s.replay === 0)) {
    report(['stream', 'replay'], 'conpet\'s selector learns to tell tasks apart from a replay memory of earlier tasks\' examples', 'set stream.replay: N (examples kept per task; the paper keeps a small memory)');
  }
  return {
    scenario, order, strategy, replay: num(s.replay, 0), evalSplit: (s.eval_split as 'validation' | 'test') ?? 'validation', lae, conpet, mos,
  };
}
