// The function table: each entry is complete and self-consistent, the compiler decides every
// option from it, and the engine has a module for every kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FUNCTIONS, FUNCTION_KINDS, INIT_KINDS, compileModule, functionMisfit, parsePosition, type ModulePlan, type OptionUse,
} from '../../src/plan/index.js';
import { MODULES } from '../../src/engine/methods/index.js';

const ctx = { family: null, depth: null, task: 'seq-cls' as const };

function compile(spec: Record<string, unknown>): { plan: ModulePlan | null; problems: string[] } {
  const problems: string[] = [];
  const plan = compileModule('m', spec, ['method'], ctx, (path, message, hint) => problems.push(`${path.join('.')}: ${message}${hint ? ` (${hint})` : ''}`));
  return { plan, problems };
}

test('the engine has a module for every function kind, and nothing else', () => {
  assert.deepEqual(Object.keys(MODULES).sort(), [...FUNCTION_KINDS].sort());
  for (const k of FUNCTION_KINDS) assert.equal(MODULES[k].kind, k);
});

test('each entry: its size is one of its options, its inits are known, its defaults fit its own rule', () => {
  for (const kind of FUNCTION_KINDS) {
    const f = FUNCTIONS[kind];
    if (f.size) assert.ok(f.size in f.options, `${kind}: size ${f.size} is an option`);
    assert.ok(f.inits.length > 0 && f.inits.every((i) => INIT_KINDS.includes(i)), `${kind}: inits`);
    assert.equal(f.inits[0], f.defaults.init, `${kind}: the default init is listed first`);
    const { plan, problems } = compile({ function: kind });
    assert.deepEqual(problems, [], `${kind} with every default`);
    for (const p of f.defaults.positions) {
      assert.equal(functionMisfit(plan!, parsePosition(p)!.role), null, `${kind} at its default position ${p}`);
    }
  }
});

test('the compiler decides every option a function has (none left undefined but the optional ones)', () => {
  for (const kind of FUNCTION_KINDS) {
    const { plan } = compile({ function: kind });
    for (const [key, use] of Object.entries(FUNCTIONS[kind].options) as [string, OptionUse<unknown>][]) {
      if (use.fallback === undefined || use.conditional) continue;
      assert.notEqual((plan!.options as Record<string, unknown>)[key], undefined, `${kind}.${key}`);
    }
    assert.equal(plan!.options.init, FUNCTIONS[kind].defaults.init);
    assert.equal(plan!.options.dropout, 0);
  }
});

test('defaults that depend on other options follow them (alpha = rank, AdaLoRA target = ⅔ rank)', () => {
  const lora = compile({ function: 'lowrank', rank: 16 }).plan as Extract<ModulePlan, { function: 'lowrank' }>;
  assert.equal(lora.options.alpha, 16);
  assert.equal(lora.scale, 1);
  const rs = compile({ function: 'lowrank', rank: 16, alpha: 32, rslora: true }).plan!;
  assert.equal(rs.scale, 32 / 4);
  const ada = compile({ function: 'svd', rank: 9 }).plan as Extract<ModulePlan, { function: 'svd' }>;
  assert.equal(ada.options.target_rank, 6);
  assert.equal(ada.scale, 9 / (9 + 1e-5));
});

test('an option of another function is refused with the reason, naming the size key', () => {
  assert.deepEqual(compile({ function: 'bottleneck', rank: 8 }).problems, ['method.rank: does not apply to function bottleneck (its size is set by bottleneck)']);
  assert.deepEqual(compile({ function: 'scaling', length: 8 }).problems, ['method.length: does not apply to function scaling (scaling has no size)']);
  assert.deepEqual(compile({ function: 'lowrank', orth_reg: 1 }).problems, ['method.orth_reg: does not apply to function lowrank (orth_reg belongs to svd)']);
});

test('an init the function does not take is refused, listing those it takes', () => {
  assert.deepEqual(compile({ function: 'bottleneck', init: 'vocab' }).problems, ['method.init: bottleneck has no init vocab (bottleneck takes init: bert, lora)']);
});

test('cross-option rules live in the table: DoRA needs a fixed scaled composition, init: text needs init_text', () => {
  assert.match(compile({ function: 'lowrank', dora: true, composition: 'add' }).problems.join(), /DoRA rescales the adapted weight/);
  assert.match(compile({ function: 'prompt', init: 'text' }).problems.join(), /init: text needs init_text/);
  assert.match(compile({ function: 'prefix', insertion: 'sequential' }).problems.join(), /parallel by nature/);
  assert.match(compile({ function: 'scaling', composition: 'scaled' }).problems.join(), /composes in its own way \(h ⊙ l\)/);
});
