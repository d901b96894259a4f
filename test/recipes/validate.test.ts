import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRecipe, displayPath, validateRecipeFile } from '../../src/recipes/index.js';
import type { DocPath, RecipeDoc, ResolvedRecipe } from '../../src/recipes/index.js';

/** A recipe built in memory: every value "at" its dotted path. */
function inMemory(doc: RecipeDoc): ResolvedRecipe {
  const where = (p: DocPath) => `mem:${p.join('.') || '(root)'}`;
  return { doc, file: '/mem.yaml', chain: ['/mem.yaml'], locate: where, baseDir: () => '/' };
}

const BASE = { backbone: { path: 'm' }, method: { preset: 'lora' } };

test('a recipe that matches the schema has no schema issues', () => {
  assert.deepEqual(checkRecipe(inMemory(BASE)), []);
});

test('a failed union type is one issue, not one per branch', () => {
  const issues = checkRecipe(inMemory({ ...BASE, data: { train: 5 }, method: { layers: 2.5, scale: true } }));
  assert.deepEqual(issues.map((i) => `${i.path}: ${i.message}`).sort(), [
    'data.train: must be a path or a mapping {path, format, limit, split, columns} (got 5)',
    'method.scale: must be a number or "learned" (got true)',
    'method.layers: must be "all", a list of layer indices, {from, to}, {top: k} or {bottom: k} (got 2.5)',
  ].sort());
});

test('expected and found are both said: bounds, lists, null, nested paths', () => {
  const issues = checkRecipe(inMemory({
    ...BASE,
    training: { batch_size: 0, max_grad_norm: 'none', eval_every: 0 },
    optimizer: { betas: [0.9], groups: [{ lr: 1 }] },
    eval: { metrics: ['acuracy'] },
    method: { reparam: { hidden: 0 }, rank: 1.5, modules: {} },
  }));
  assert.deepEqual(issues.map((i) => `${i.path}: ${i.message}`).sort(), [
    'method.rank: must be integer ≥ 1 and ≤ 65536 (got 1.5)',
    'method.reparam.hidden: must be integer ≥ 1 and ≤ 65536 (got 0)',
    'method.modules: must be non-empty mapping (got {})',
    'training.batch_size: must be an integer ≥ 1 and ≤ 65536, or "auto" (got 0)',
    'training.max_grad_norm: must be number > 0 or null (got "none")',
    'training.eval_every: must be a number of steps ≥ 1, "epoch" or null (got 0)',
    'optimizer.betas: must be list of 2 numbers ≥ 0 and < 1 (got [0.9])',
    'optimizer.groups[0]: missing required key "match"',
    'eval.metrics[0]: must be one of accuracy, f1, mcc, pearson, spearman, loss, perplexity, rouge, bleu (got "acuracy"; did you mean "accuracy"?)',
  ].sort());
});

test('unknown keys: a did-you-mean, or where the key belongs, or the allowed keys', () => {
  const issues = checkRecipe(inMemory({ ...BASE, backbone: { path: 'm', dtpye: 'float32', zzz: 1 }, task: { lr: 1 } }));
  assert.deepEqual(issues.map((i) => [i.path, i.message, i.hint]), [
    ['backbone.dtpye', 'unknown key "dtpye" (did you mean "dtype"?)', 'rename it to "dtype"'],
    ['backbone.zzz', 'unknown key "zzz"', 'allowed here: path, dtype, image_size, init'],
    ['task.lr', 'unknown key "lr"', '"lr" is a key of optimizer'],
  ]);
});

test('issues come in document order, files of the chain in chain order', () => {
  const at: Record<string, string> = { 'method.rank': 'a.yaml:9:3', seed: 'a.yaml:2:1', 'optimizer.lr': 'b.yaml:1:1' };
  const r: ResolvedRecipe = {
    ...inMemory({ ...BASE, seed: -1, method: { rank: 0 }, optimizer: { lr: 0 } }),
    chain: [join(process.cwd(), 'a.yaml'), join(process.cwd(), 'b.yaml')],
    locate: (p) => at[p.join('.')] ?? 'a.yaml:1:1',
  };
  assert.deepEqual(checkRecipe(r).map((i) => i.where), ['a.yaml:2:1', 'a.yaml:9:3', 'b.yaml:1:1']);
});

test('the planner runs only when the schema passes; load errors are issues too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-validate-'));
  const file = join(dir, 'r.yaml');
  writeFileSync(file, 'backbone: {path: ./nowhere}\nmethod: {preset: lora, rank: eight}\n');
  const v = validateRecipeFile(file);
  assert.equal(v.file, displayPath(file));
  assert.deepEqual(v.issues.map((i) => i.path), ['method.rank']); // no planner issue about ./nowhere
  writeFileSync(file, 'backbone: {path: ./nowhere}\nmethod: {preset: lora}\n');
  assert.ok(validateRecipeFile(file).issues.some((i) => i.path === 'backbone.path'), 'the planner reports the directory');
  const missing = validateRecipeFile(join(dir, 'missing.yaml'));
  assert.equal(missing.resolved, null);
  assert.deepEqual(missing.issues, [{ where: displayPath(join(dir, 'missing.yaml')), path: '', message: 'no such file', hint: 'check the path (relative to the working directory)' }]);
});
