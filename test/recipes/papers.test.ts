// The He et al. (2022) recipes under configs/papers/he2022-unified: every one validates, says which
// table and row it reproduces, and `peft inspect` gives the paper's "% params" for the rows the
// paper prints (App. B's count: weight matrices only, truncated as the tables print them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planRecipe, validateRecipeFile, type Plan } from '../../src/recipes/index.js';
import { inspectPlan } from '../../src/engine/inspect.js';
import { paperPercent, paperPercentText } from '../../src/engine/paper-budget.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = join(ROOT, 'configs', 'papers', 'he2022-unified');
const RECIPES = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

function plan(file: string): Plan {
  const v = validateRecipeFile(join(DIR, file));
  assert.deepEqual(v.issues, [], file);
  const { plan: p, issues } = planRecipe(v.resolved!);
  assert.deepEqual(issues, [], file);
  return p!;
}

test('every paper recipe validates and names its table and row', () => {
  assert.ok(RECIPES.length >= 30, `${RECIPES.length} recipes`);
  for (const f of RECIPES) {
    const p = plan(f);
    assert.match(p.description ?? '', /^He et al\. 2022, Table \d.*, row ".+": .+ on .+$/, f);
    assert.equal(p.name, `he2022-${f.replace(/\.yaml$/, '')}`);
  }
});

test('the paper\'s percentages: App. B\'s matrices over the backbone, truncated', () => {
  // [recipe, % as the paper prints it, parameters by App. B's formula]
  const cases: [string, string, number][] = [
    ['xsum-mam.yaml', '6.7', 2 * 30 * 1024 * 36 + 2 * 512 * 1024 * 24],
    ['xsum-prefix-l200.yaml', '3.6', 2 * 200 * 1024 * 36],
    ['xsum-pfeiffer-r600.yaml', '7.2', 2 * 600 * 1024 * 24],
    // Table 6 prints 7.2 for this row; Tables 5 and 12 (and App. B's formula) give 6.1
    ['xsum-lora-ffn-r102.yaml', '6.1', 10 * 102 * 1024 * 24],
    ['xsum-pa-ffn-r1024.yaml', '12.3', 2 * 1024 * 1024 * 24],
    ['sst2-mam.yaml', '0.47', (2 * 16 * 768 + 2 * 16 * 768) * 12],
    ['mnli-mam.yaml', '0.47', (2 * 16 * 768 + 2 * 16 * 768) * 12],
    // the other Table 6 rows and the Table 3 / 5 rows on BART-large
    ['xsum-pa-attn-r30-pa-ffn-r512.yaml', '6.7', 2 * 30 * 1024 * 36 + 2 * 512 * 1024 * 24],
    ['xsum-prefix-attn-l30-lora-ffn-r102.yaml', '6.7', 2 * 30 * 1024 * 36 + 10 * 102 * 1024 * 24],
    ['xsum-sa-attn-r200.yaml', '3.6', 2 * 200 * 1024 * 36],
    ['xsum-sa-ffn-r200.yaml', '2.4', 2 * 200 * 1024 * 24],
    ['xsum-pa-ffn-r512.yaml', '6.1', 2 * 512 * 1024 * 24],
    ['xsum-scaled-pa-ffn-r512-learned.yaml', '6.1', 2 * 512 * 1024 * 24],
    ['enro-mh-pa-attn-r200.yaml', '2.4', 2 * 200 * 1024 * 36],
  ];
  for (const [file, printed, params] of cases) {
    const r = inspectPlan(plan(file));
    assert.equal(r.paper_params, params, `${file}: paper_params`);
    assert.equal(paperPercentText((100 * r.paper_params) / r.total_params), printed, file);
    assert.equal(r.paper_percent, Number(printed), `${file}: paper_percent`);
    // stored counts every tensor of the adapter file (biases, the task head), so it is never less
    assert.ok(r.stored_params >= r.paper_params, file);
    assert.equal(r.stored_percent, (100 * r.stored_params) / r.total_params);
  }
});

test('the denominators are the backbones of the paper: 406.29M BART-large, 124.65M RoBERTa-base', () => {
  assert.equal(inspectPlan(plan('xsum-mam.yaml')).total_params, 406_291_456);
  assert.equal(inspectPlan(plan('sst2-mam.yaml')).total_params, 124_645_632);
});

test('stored parameters are exact: biases, prefix keys/values (not the MLP), the classifier', () => {
  const mam = inspectPlan(plan('xsum-mam.yaml'));
  // the adapter's two biases (r + d) per FFN are stored, not counted by the paper
  assert.equal(mam.stored_params, mam.paper_params + (512 + 1024) * 24);
  assert.ok(mam.trainable_params > mam.stored_params, 'the prefix MLP trains but is not stored');
  const glue = inspectPlan(plan('sst2-mam.yaml'));
  assert.equal(glue.head_params, 768 * 768 + 768 + 768 * 2 + 2);
  assert.equal(glue.stored_params, glue.paper_params + (16 + 768) * 12 + glue.head_params);
});

test('truncation, not rounding, at the paper\'s precision', () => {
  assert.equal(paperPercent(7.2585), 7.2);
  assert.equal(paperPercent(6.7), 6.7);
  assert.equal(paperPercent(0.4732), 0.47);
  assert.equal(paperPercent(12.388), 12.3);
  assert.equal(paperPercentText(0.0665), '0.06');
});

test('the LoRA (ffn) recipe notes Table 6\'s 7.2% against the 6.1% it keeps', () => {
  const text = readFileSync(join(DIR, 'xsum-lora-ffn-r102.yaml'), 'utf8');
  assert.match(text, /Table 6\s*\n?#?\s*prints 7\.2%/);
});

/** bin/peft.js as users run it (it runs dist/: `npm test` builds first). */
function peft(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'peft.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('`peft validate` passes every paper recipe; `peft inspect` prints the paper\'s figure, text and JSON', () => {
  const v = peft(['validate', 'configs/papers/he2022-unified/*.yaml', 'configs/papers/he2022-unified/small/*.yaml']);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  const small = readdirSync(join(DIR, 'small')).filter((f) => f.endsWith('.yaml')).length; // the small-scale set (peft reproduce)
  assert.match(v.stdout + v.stderr, new RegExp(`${RECIPES.length + small} files checked, 0 invalid, 0 errors`));
  const text = peft(['inspect', 'configs/papers/he2022-unified/xsum-mam.yaml']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout + text.stderr, /paper: +27,377,664 \(6\.7% as He et al\. count it/);
  assert.match(text.stdout + text.stderr, /stored: +27,414,528 \(6\.7475% of the backbone\)/);
  const json = peft(['inspect', 'configs/papers/he2022-unified/sst2-mam.yaml', '--json']);
  const r = JSON.parse(json.stdout);
  assert.equal(r.paper_percent, 0.47);
  assert.equal(r.paper_params, 589_824);
  assert.ok(Math.abs(r.stored_percent - (100 * r.stored_params) / r.total_params) < 1e-12);
});
