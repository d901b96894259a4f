// The selection dimension of a recipe (method.select): presets expand into a criterion and its
// options, the recipe's keys override them, budgets parse, and every impossible combination is
// reported at its place with a hint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import AjvModule from 'ajv';
import {
  CRITERIA, CRITERION_NAMES, PRESETS, compileMethod, compileSelect, familyInfo, parseBudget, selectText, type MethodContext,
} from '../../src/plan/index.js';
import { recipeSchema } from '../../src/recipes/index.js';

const CTX: MethodContext = { family: familyInfo('llama'), depth: 5, task: 'seq-cls' };

function compile(method: Record<string, unknown>, ctx: MethodContext = CTX) {
  const issues: string[] = [];
  const plan = compileMethod(method, ctx, (p, m, h) => issues.push(`${p.join('.')}: ${m}${h ? ` (${h})` : ''}`));
  return { plan, issues };
}

test('selective presets expand into a criterion with its paper\'s settings', () => {
  const sara = compile({ preset: 'sara' }).plan.select!;
  assert.equal(sara.criterion, 'magnitude');
  assert.deepEqual(sara.budget, { fraction: 0.1 });
  assert.equal(sara.scope, 'matrix');
  assert.deepEqual(sara.options, { threshold: null, reselect: { every: 0.5, times: 1 }, nuclear: 5e-4, biases: false });
  assert.ok(sara.defaultPositions);
  assert.equal(compile({ preset: 'hft' }).plan.select!.criterion, 'half');
  assert.equal(compile({ preset: 'hft' }).plan.select!.budget, null);
  const mt = compile({ preset: 'mask-tuning' });
  assert.deepEqual(mt.issues, [], 'attn.qkv of the preset is skipped on a family without it');
  assert.deepEqual(mt.plan.select!.options.gdr, { lambda: 0.3, temperature: 1 });
  const spt = compile({ preset: 'spt' }).plan.select!;
  assert.equal(spt.criterion, 'sensitivity');
  assert.equal(spt.scope, 'global');
  const mosa = compile({ preset: 'mosa' }).plan;
  assert.equal(mosa.select, undefined);
  assert.deepEqual(mosa.modules[0].options, {
    bottleneck: 64, nonlinearity: 'gelu', layernorm: 'before', ln_input: 'none', subadapters: { count: 4, share: 'down' }, init: 'lora', dropout: 0,
  });
  for (const name of ['sara', 'hft', 'mask-tuning', 'spt', 'mosa']) {
    const p = PRESETS.find((x) => x.name === name)!;
    assert.match(p.source, /20\d\d/, `${name} names its paper`);
  }
});

test('a recipe overrides a preset\'s selection key by key, or combines it with modules', () => {
  const { plan, issues } = compile({ preset: 'sara', select: { budget: { count: 5000 }, scope: 'global', position: ['attn.query', 'attn.value'], layers: { top: 2 } } });
  assert.deepEqual(issues, []);
  const s = plan.select!;
  assert.deepEqual(s.budget, { count: 5000 });
  assert.equal(s.scope, 'global');
  assert.deepEqual(s.positions, ['attn.query', 'attn.value']);
  assert.equal(s.defaultPositions, false);
  assert.deepEqual(s.layers, { top: 2 });
  assert.equal(s.options.nuclear, 5e-4, 'the preset\'s other options stay');
  const combo = compile({ modules: { lora: { preset: 'lora', position: 'ffn.down_proj' } }, select: { criterion: 'random', budget: 0.02 } });
  assert.deepEqual(combo.issues, []);
  assert.equal(combo.plan.modules[0].function, 'lowrank');
  assert.equal(combo.plan.select!.criterion, 'random');
  const lora = compile({ preset: 'lora', select: { criterion: 'magnitude', budget: 0.05 } });
  assert.deepEqual(lora.issues, []);
  assert.equal(lora.plan.modules.length, 1);
  assert.equal(lora.plan.select!.criterion, 'magnitude');
  assert.match(selectText(plan.select!), /^select magnitude 5,000 entries over all chosen weights .* at attn\.query, attn\.value \(top 2 layers\)$/);
});

test('budgets: a number ≤ 1 is a fraction, above 1 a count, or written out', () => {
  const none = () => {};
  assert.deepEqual(parseBudget(0.2, [], none), { fraction: 0.2 });
  assert.deepEqual(parseBudget(1, [], none), { fraction: 1 });
  assert.deepEqual(parseBudget(250, [], none), { count: 250 });
  assert.deepEqual(parseBudget({ fraction: 0.5 }, [], none), { fraction: 0.5 });
  assert.deepEqual(parseBudget({ count: 3 }, [], none), { count: 3 });
  const issues: string[] = [];
  parseBudget(2.5, ['b'], (_p, m) => issues.push(m));
  assert.match(issues[0], /whole number/);
});

test('impossible selections are reported at their key, with a hint', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ select: { criterion: 'magnitud' } }, /method\.select\.criterion: unknown criterion "magnitud" \(did you mean "magnitude"\?\)/],
    [{ select: { budget: 0.1 } }, /method\.select: select has no criterion/],
    [{ preset: 'hft', select: { budget: 0.1 } }, /method\.select\.budget: criterion half takes no budget/],
    [{ preset: 'mask-tuning', select: { budget: 0.1 } }, /method\.select\.budget: criterion learned takes no budget/],
    [{ preset: 'sara', select: { rounds: 2 } }, /method\.select\.rounds: does not apply to criterion magnitude \(rounds belongs to half\)/],
    [{ preset: 'sara', select: { position: 'ffn.output' } }, /method\.select\.position\.0: select chooses entries of weights, and ffn\.output is not a projection/],
    [{ preset: 'sara', select: { position: 'attn.qkv' } }, /position attn\.qkv does not exist here/],
    [{ preset: 'sara', select: { layers: [7] } }, /method\.select\.layers: layer 7 does not exist/],
    [{ preset: 'sara', select: { threshold: 0.01, budget: 0.1 } }, /method\.select\.threshold: give a budget or a threshold, not both/],
    [{ preset: 'mask-tuning', select: { init_score: 0.001 } }, /init_score 0\.001 is not above score_threshold/],
    [{ preset: 'full', select: { criterion: 'random' } }, /unfreeze: \[all\] already trains every weight/],
    [{ preset: 'sara', budget: 0.2 }, /method\.budget: budget belongs to the selection \(set it under method\.select/],
    [{ preset: 'sara', layers: { top: 2 } }, /sara is a selection: set its keys under method\.select/],
  ];
  for (const [method, want] of cases) {
    const { issues } = compile(method);
    assert.ok(issues.some((i) => want.test(i)), `${JSON.stringify(method)}: ${issues.join(' | ') || 'no issue'}`);
  }
  const gpt2 = compile({ preset: 'sara', select: { position: 'attn.query' } }, { family: familyInfo('gpt2'), depth: 2, task: 'seq-cls' });
  assert.ok(gpt2.issues.some((i) => /slice of gpt2's fused q\/k\/v projection.*select attn\.qkv/.test(i)), gpt2.issues.join(' | '));
});

test('the recipe schema takes method.select with every criterion\'s options, and refuses unknown keys', () => {
  const ajv = new AjvModule.default({ strict: false, allErrors: true });
  const validate = ajv.compile(recipeSchema());
  const recipe = (select: unknown) => ({ backbone: { path: 'x' }, method: { preset: 'sara', select } });
  for (const c of CRITERION_NAMES) {
    const select: Record<string, unknown> = { criterion: c };
    for (const [k, use] of Object.entries(CRITERIA[c].options)) if ((use as { fallback: unknown }).fallback !== null) select[k] = (use as { fallback: unknown }).fallback;
    assert.ok(validate(recipe(select)), `${c}: ${ajv.errorsText(validate.errors)}`);
  }
  assert.ok(validate(recipe({ budget: { count: 10 }, scope: 'global', position: ['attn.query'], layers: { top: 1 } })));
  assert.ok(!validate(recipe({ criterion: 'magnitude', budgett: 0.1 })));
  assert.ok(!validate(recipe({ budget: { fraction: 2 } })));
  assert.ok(!validate(recipe({ reselect: { every: 10, later: 2 } })));
  const direct = compileSelect({ criterion: 'random', budget: 0.5 }, ['s'], CTX, () => assert.fail('no issue expected'));
  assert.deepEqual(direct?.positions.length, 8);
});
