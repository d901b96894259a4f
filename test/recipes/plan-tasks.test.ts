// Planning multi-task recipes and streams: each task laid over the top-level sections, the
// shared head laid out task after task, routed methods told the number of tasks, the sampling
// rule, class splits of one labelled set, the stream's options — and each impossible
// combination reported at its place. A recipe of one task plans exactly as before (no tasks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { checkRecipe, planRecipe } from '../../src/recipes/index.js';
import type { DocPath, RecipeDoc, ResolvedRecipe } from '../../src/recipes/index.js';
import { REPO } from '../helpers/fixtures.js';

function inMemory(doc: RecipeDoc): ResolvedRecipe {
  return { doc, file: join(REPO, 'mem.yaml'), chain: [join(REPO, 'mem.yaml')], locate: (p: DocPath) => `mem:${p.join('.') || '(root)'}`, baseDir: () => REPO };
}

const MODEL = 'assets/models/stories260K';
const SST2 = { train: 'assets/data/sst2/train.jsonl', validation: 'assets/data/sst2/dev.jsonl' };
const RTE = { train: 'assets/data/rte/train.jsonl', validation: 'assets/data/rte/dev.jsonl' };
const TWO = [
  { name: 'sst2', task: { type: 'seq-cls', labels: ['negative', 'positive'] }, data: SST2 },
  { name: 'rte', task: { type: 'seq-cls', labels: ['entailment', 'not_entailment'] }, data: RTE, eval: { metrics: ['accuracy', 'f1'] } },
];

function plan(doc: RecipeDoc) {
  const r = inMemory({ backbone: { path: MODEL }, method: { preset: 'lora' }, ...doc });
  assert.deepEqual(checkRecipe(r), [], 'the schema accepts it');
  return planRecipe(r);
}

const problems = (doc: RecipeDoc) => plan(doc).issues.map((i) => `${i.path}: ${i.message}`);

test('a tasks list: each entry over the top-level sections, one head laid out task after task, task_mean', () => {
  const { plan: p, issues } = plan({ task: { pooling: 'last' }, data: { max_length: 64 }, tasks: TWO });
  assert.deepEqual(issues, []);
  assert.deepEqual(p!.tasks!.map((t) => [t.name, t.id, t.headClasses, t.metrics, t.data.maxLength, t.task.pooling]), [
    ['sst2', 0, [0, 1], ['accuracy'], 64, 'last'],
    ['rte', 1, [2, 3], ['accuracy', 'f1'], 64, 'last'],
  ]);
  assert.equal(p!.tasks![0]!.data.train!.path, join(REPO, SST2.train));
  assert.deepEqual([p!.task.type, p!.task.numLabels, p!.task.labels], ['seq-cls', 4, ['sst2:negative', 'sst2:positive', 'rte:entailment', 'rte:not_entailment']]);
  assert.deepEqual(p!.eval.metrics, ['task_mean']);
  assert.deepEqual(p!.training.sampling, { rule: 'proportional', temperature: 1 });
  assert.equal(p!.stream, undefined);
});

test('one task plans as before: no tasks, no sampling', () => {
  const { plan: p } = plan({ task: { type: 'seq-cls' }, data: SST2 });
  assert.equal(p!.tasks, undefined);
  assert.equal(p!.training.sampling, undefined);
  assert.deepEqual(p!.eval.metrics, ['accuracy']);
});

test('routed methods get n_tasks from the recipe; sampling rules; early stopping on a task\'s metric', () => {
  const { plan: p } = plan({ tasks: TWO, method: { preset: 'mhr', rank: 4 }, training: { sampling: { temperature: 3 }, early_stopping: { metric: 'rte/f1' } } });
  const m = p!.method.modules[0]!;
  assert.equal(m.function, 'poly');
  assert.deepEqual(m.function === 'poly' && [m.options.n_tasks, m.options.n_splits, m.scale], [2, 4, 1 / 4]);
  assert.deepEqual(p!.training.sampling, { rule: 'temperature', temperature: 3 });
  assert.equal(p!.training.earlyStopping!.mode, 'max');
  assert.deepEqual(plan({ tasks: TWO, training: { sampling: 'round-robin' } }).plan!.training.sampling!.rule, 'round-robin');
  assert.deepEqual(problems({ tasks: TWO, method: { preset: 'poly', n_tasks: 1 } }), ['method.n_tasks: n_tasks is 1 but the recipe has 2 tasks']);
  assert.deepEqual(problems({ tasks: TWO, training: { early_stopping: { metric: 'cola/mcc' } } }), [
    'training.early_stopping.metric: early stopping watches cola/mcc, which evaluation does not compute',
  ]);
});

test('what a multi-task recipe cannot say is reported at its place', () => {
  assert.deepEqual(problems({ tasks: [TWO[0], { ...TWO[0] }] }), ['tasks[1].name: two tasks are named sst2']);
  assert.deepEqual(problems({ tasks: [TWO[0], { name: 'x', task: { type: 'regression' }, data: SST2 }] }), [
    'tasks[1].task.type: task regression cannot be one of several tasks yet',
  ]);
  assert.deepEqual(problems({ tasks: [TWO[0], { name: 'lm', task: { type: 'causal-lm' }, data: { train: 'assets/data/tinyshakespeare/train.txt' } }] }), [
    'tasks: joint training needs tasks of one kind: lm is language modelling, the others classification',
  ]);
  assert.deepEqual(problems({ tasks: [{ name: 'a', task: { type: 'seq-cls' } }] }), ['tasks[0].data: task a has no data.train']);
  assert.deepEqual(problems({ tasks: TWO, stream: { order: ['sst2', 'rtx'] } }), ['stream.order[1]: no task named rtx (did you mean "rte"?)']);
  assert.deepEqual(problems({ tasks: TWO, stream: { strategy: 'lae', mos: { momentum: 0.2 } } }), ['stream.mos: mos options apply to strategy: mos (this stream\'s is lae)']);
  assert.deepEqual(problems({ tasks: TWO, stream: {}, training: { sampling: 'round-robin' } }), [
    'training.sampling: a stream trains its tasks one after another: sampling applies to joint training only',
  ]);
});

test('a stream: order, scenario, strategy options with their defaults; conpet\'s selector columns', () => {
  const { plan: p } = plan({ tasks: TWO, stream: { order: ['rte', 'sst2'], strategy: 'lae', lae: { decay: 0.99 } } });
  assert.deepEqual(p!.stream, {
    scenario: 'task-incremental', order: ['rte', 'sst2'], strategy: 'lae', replay: 0, evalSplit: 'validation',
    lae: { decay: 0.99, freezeEpochs: 3, ensemble: 'max' }, conpet: null, mos: null,
  });
  assert.equal(p!.training.sampling, undefined);
  const c = plan({ tasks: TWO, stream: { scenario: 'class-incremental', strategy: 'conpet', replay: 8 } }).plan!;
  assert.deepEqual(c.stream!.conpet, { topk: 1, teacherForcing: true, nullLogit: -100, selectorClasses: [4, 5] });
  assert.deepEqual([c.task.numLabels, c.task.labels!.slice(4)], [6, ['selector:sst2', 'selector:rte']]);
  assert.deepEqual(problems({ tasks: TWO, stream: { scenario: 'class-incremental', strategy: 'conpet' } }), [
    'stream.replay: conpet\'s selector learns to tell tasks apart from a replay memory of earlier tasks\' examples',
  ]);
});

test('stream.split cuts one labelled set into class-incremental tasks of its classes', () => {
  const { plan: p, issues } = plan({
    task: { type: 'seq-cls', num_labels: 6 }, data: { train: SST2.train, validation: SST2.validation },
    stream: { split: { classes_per_task: 2, order: [4, 5, 0, 1, 2, 3] } },
  });
  assert.deepEqual(issues, []);
  assert.equal(p!.stream!.scenario, 'class-incremental');
  assert.deepEqual(p!.tasks!.map((t) => [t.name, t.headClasses, t.task.numLabels, t.data.train!.classes]), [
    ['classes-4-5', [4, 5], 2, { keep: [4, 5], labels: null, count: 6 }],
    ['classes-0-1', [0, 1], 2, { keep: [0, 1], labels: null, count: 6 }],
    ['classes-2-3', [2, 3], 2, { keep: [2, 3], labels: null, count: 6 }],
  ]);
  assert.deepEqual(problems({ task: { type: 'seq-cls', num_labels: 4 }, data: SST2, stream: { split: { classes_per_task: 3 } } }), [
    'stream.split.classes_per_task: 4 classes do not cut into tasks of 3',
  ]);
  assert.deepEqual(problems({ task: { type: 'seq-cls', num_labels: 4 }, data: SST2, stream: { split: { order: [0, 9] } } }), [
    'stream.split.order: class 9 is not a class of the task (0 … 3)',
  ]);
});
