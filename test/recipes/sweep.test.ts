// Planning a sweep from a recipe and a command line: the trials, their ids and directory, and
// every bad input as one error before anything is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PeftError } from '../../src/errors.js';
import { parseGridArg, planSweep, splitTopLevel, validateRecipeFile } from '../../src/recipes/index.js';
import { REPO } from '../helpers/fixtures.js';

const RECIPE = join(REPO, 'test/fixtures/e2e/sweep.yaml');

function peftError(fn: () => unknown): PeftError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PeftError, String(e));
    return e;
  }
  assert.fail('expected a PeftError');
}

test('the recipe\'s sweep: grid is a product of its lists, --set applies to every trial, ids are stable', () => {
  const out = mkdtempSync(join(tmpdir(), 'peft-sweep-plan-'));
  const s = planSweep({ recipes: [RECIPE], sets: ['training.max_steps=5'], output: out });
  assert.equal(s.trials.length, 4);
  assert.deepEqual(s.trials.map((t) => t.label), ['lr=0.001 rank=2', 'lr=0.001 rank=4', 'lr=0.01 rank=2', 'lr=0.01 rank=4']);
  assert.deepEqual(s.trials.map((t) => t.plan.optimizer.lr), [1e-3, 1e-3, 1e-2, 1e-2]);
  assert.deepEqual(s.trials.map((t) => (t.plan.method.modules[0]!.options as { rank: number }).rank), [2, 4, 2, 4]);
  assert.ok(s.trials.every((t) => t.plan.training.maxSteps === 5));
  assert.deepEqual(s.keys, ['optimizer.lr', 'method.rank']);
  assert.deepEqual(s.select, { metric: 'loss', mode: 'min' });
  assert.equal(s.dir, join(out, 'sweep-e2e', `sweep-${s.id}`));
  assert.ok(!existsSync(s.dir), 'planning writes nothing');
  const again = planSweep({ recipes: [RECIPE], sets: ['training.max_steps=5'], output: out });
  assert.equal(again.id, s.id);
  assert.deepEqual(again.trials.map((t) => t.id), s.trials.map((t) => t.id));
  const other = planSweep({ recipes: [RECIPE], sets: ['training.max_steps=6'], output: out });
  assert.notEqual(other.id, s.id, 'another command line is another sweep');
});

test('--grid replaces a key of the recipe\'s grid and adds new ones; values are YAML, lists stay whole', () => {
  const s = planSweep({ recipes: [RECIPE], grid: ['method.rank=8', 'method.position=[attn.query],[attn.query,attn.value]'] });
  assert.equal(s.trials.length, 4); // lr × 1 rank × 2 positions
  assert.deepEqual(s.trials[1]!.overrides, [
    { key: 'optimizer.lr', value: 0.001 }, { key: 'method.rank', value: 8 }, { key: 'method.position', value: ['attn.query', 'attn.value'] },
  ]);
  assert.deepEqual(s.trials[1]!.plan.method.modules[0]!.positions, ['attn.query', 'attn.value']);
  assert.deepEqual(splitTopLevel('1,[2,3],{a: 4, b: 5},"x,y"'), ['1', '[2,3]', '{a: 4, b: 5}', '"x,y"']);
  assert.deepEqual(parseGridArg('optimizer.lr=1e-3, 3e-3'), ['optimizer.lr', [0.001, 0.003]]);
});

test('a random search draws N seeded trials inside its distributions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-space-'));
  const space = join(dir, 'space.yaml');
  writeFileSync(space, 'method.alpha: {log_uniform: [1, 64]}\nschedule.name: {choice: [constant, linear, cosine]}\ntraining.dropout: {uniform: [0, 0.2]}\n');
  const a = planSweep({ recipes: [RECIPE], grid: ['method.rank=4'], random: 5, space });
  const b = planSweep({ recipes: [RECIPE], grid: ['method.rank=4'], random: 5, space });
  // the recipe's grid (2 lr, rank replaced by --grid) times the 5 draws
  assert.equal(a.trials.length, 10);
  assert.deepEqual(a.trials.map((t) => t.overrides), b.trials.map((t) => t.overrides));
  const alphas = new Set<number>();
  for (const t of a.trials) {
    const o = Object.fromEntries(t.overrides.map((x) => [x.key, x.value])) as Record<string, unknown>;
    assert.ok(['constant', 'linear', 'cosine'].includes(o['schedule.name'] as string));
    assert.equal(t.plan.schedule.name, o['schedule.name']);
    const dropout = o['training.dropout'] as number;
    assert.ok(dropout >= 0 && dropout <= 0.2);
    const alpha = o['method.alpha'] as number;
    assert.ok(alpha >= 1 && alpha <= 64);
    alphas.add(alpha);
  }
  assert.equal(alphas.size, 5, 'five distinct draws, the same for both grid points');
  writeFileSync(space, 'optimizer.lr: {log_uniform: [1.0e-4, 1.0e-2]}\n');
  const both = peftError(() => planSweep({ recipes: [RECIPE], random: 2, space }));
  assert.match(both.message, /optimizer\.lr is both in the grid and in the random space/);
});

test('bad input: unknown key (with did-you-mean), empty grid, nothing to sweep, a bad value — one error each, exit 2', () => {
  const unknown = peftError(() => planSweep({ recipes: [RECIPE], grid: ['optimizer.lrr=1,2'] }));
  assert.match(unknown.message, /unknown sweep key optimizer\.lrr/);
  assert.match(unknown.hint ?? '', /did you mean optimizer\.lr\?/);
  assert.equal(unknown.exitCode, 2);
  const top = peftError(() => planSweep({ recipes: [RECIPE], grid: ['methd.rank=1,2'] }));
  assert.match(top.hint ?? '', /did you mean method/);
  const empty = peftError(() => planSweep({ recipes: [RECIPE], grid: ['method.rank='] }));
  assert.match(empty.message, /empty grid/);
  assert.equal(empty.exitCode, 2);
  const fixed = peftError(() => planSweep({ recipes: [RECIPE], grid: ['output.dir=a,b'] }));
  assert.match(fixed.message, /cannot sweep over output\.dir/);
  const nothing = peftError(() => planSweep({ recipes: [join(REPO, 'test/fixtures/e2e/tiny-lora.yaml')] }));
  assert.match(nothing.message, /nothing to sweep/);
  const value = peftError(() => planSweep({ recipes: [RECIPE], grid: ['optimizer.lr=0.1,-1'] }));
  assert.match(value.message, /^trial lr=-1 rank=2: /);
  assert.equal(value.exitCode, 2);
  const random = peftError(() => planSweep({ recipes: [RECIPE], random: 3 }));
  assert.match(random.message, /--random N needs --space/);
});

test('the reality check plans each trial twice: on the tuning split and on the evaluation split', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-rc-'));
  const recipe = join(dir, 'rc.yaml');
  writeFileSync(recipe, [
    `extends: ${RECIPE}`,
    'sweep:',
    '  grid: {optimizer.lr: [1.0e-3, 1.0e-2]}',
    '  select: {metric: perplexity}',
    '  reality_check:',
    `    tune: {data.validation.limit: 4}`,
    `    evaluate: {data.validation.limit: 8, seed: 7}`,
    '',
  ].join('\n'));
  const s = planSweep({ recipes: [recipe] });
  assert.equal(s.trials.length, 4, 'the extending file\'s grid merges with the base\'s (lr from here, rank from there)');
  assert.deepEqual(s.select, { metric: 'perplexity', mode: 'min' });
  for (const t of s.trials) {
    assert.equal(t.plan.data.validation!.limit, 4);
    assert.equal(t.evaluate!.data.validation!.limit, 8);
    assert.equal(t.evaluate!.seed, 7);
    assert.equal(t.evaluate!.optimizer.lr, t.plan.optimizer.lr);
  }
  assert.deepEqual(s.realityCheck!.evaluate.map((o) => o.key), ['data.validation.limit', 'seed']);
});

test('optimizer.lr: auto and training.batch_size: auto pass the schema and are left to the run', () => {
  const v = validateRecipeFile(RECIPE, { sets: ['optimizer.lr=auto', 'training.batch_size=auto'] });
  assert.deepEqual(v.issues, []);
  assert.deepEqual(v.plan!.stepLaw, { lr: true, batchSize: true });
  assert.ok(Number.isNaN(v.plan!.optimizer.lr));
  assert.equal(v.plan!.eval.batchSize, 8);
  const bad = validateRecipeFile(RECIPE, { sets: ['optimizer.lr=automatic'] });
  assert.equal(bad.issues.length, 1);
  assert.match(bad.issues[0]!.message, /"auto"/);
});
