// The low-rank family's dimensions in the planner: each variant's own options exist only when it
// is chosen, the presets expand into them, and combinations that make no sense are refused at
// their key with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileMethod, compileModule, findPreset, PRESET_NAMES, type ModulePlan } from '../../src/plan/index.js';

const ctx = { family: null, depth: null, task: 'seq-cls' as const };

function compile(spec: Record<string, unknown>): { plan: ModulePlan | null; problems: string[] } {
  const problems: string[] = [];
  const plan = compileModule('m', spec, ['method'], ctx, (path, message) => problems.push(`${path.join('.')}: ${message}`));
  return { plan, problems };
}

const FAMILY = ['vera', 'nola', 'vblora', 'mos', 'loldu', 'flora', 'hydra', 'mola', 'increlora', 'triadaptlora', 'corda', 'intrinsic-dim'];

test('the twelve presets exist, name their paper, and compile with no problem', () => {
  for (const name of FAMILY) {
    assert.ok(PRESET_NAMES.includes(name), name);
    assert.match(findPreset(name)!.source, /\d{4}/, `${name} names its paper`);
    const problems: string[] = [];
    compileMethod({ preset: name }, ctx, (p, m) => problems.push(`${p.join('.')}: ${m}`));
    assert.deepEqual(problems, [], name);
  }
});

test('LoRA\'s plan keeps the classic choices, and no option of another variant', () => {
  const o = compile({ function: 'lowrank' }).plan!.options as Record<string, unknown>;
  assert.deepEqual([o.basis, o.factorization, o.branches, o.experts, o.rank_schedule, o.bias], ['learned', 'ab', 'single', 1, 'fixed', false]);
  for (const key of ['num_basis', 'num_vectors', 'top_k', 'core', 'corda_mode', 'target_rank', 'projection_seed', 'save_projection', 'sequential_rank']) {
    assert.equal(key in o, false, key);
  }
});

test('a variant\'s options are decided (with their defaults) when it is chosen', () => {
  const vera = compile({ function: 'lowrank', basis: 'shared' }).plan!.options as Record<string, unknown>;
  assert.deepEqual([vera.d_initial, vera.projection_seed, vera.save_projection], [0.1, 0, true]);
  const nola = compile({ function: 'lowrank', basis: 'combination' }).plan!.options as Record<string, unknown>;
  assert.deepEqual([nola.num_basis, nola.save_projection], [1024, false]);
  const flora = compile({ function: 'lowrank', factorization: 'tucker', rank: 6 }).plan!.options as Record<string, unknown>;
  assert.deepEqual(flora.core, [6, 6]);
  const corda = compile({ function: 'lowrank', init: 'corda' }).plan!.options as Record<string, unknown>;
  assert.deepEqual([corda.corda_mode, corda.calibration_batches], ['ipm', 8]);
  const incre = compile({ function: 'svd', rank_schedule: 'grow', rank: 1, target_rank: 4 }).plan!.options as Record<string, unknown>;
  assert.deepEqual([incre.grow_by, incre.grow_modules, incre.max_rank], [2, 2, 10]);
  const ada = compile({ function: 'svd' }).plan!.options as Record<string, unknown>;
  assert.equal('grow_by' in ada, false);
});

test('combinations that make no sense are refused at their key with the reason', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ function: 'lowrank', basis: 'shared', factorization: 'ldu' }, /basis: shared and factorization: ldu cannot be combined/],
    [{ function: 'lowrank', dora: true, basis: 'bank' }, /dora and basis: bank cannot be combined/],
    [{ function: 'lowrank', experts: 4, init: 'corda' }, /experts and init: corda cannot be combined/],
    [{ function: 'lowrank', rank_schedule: 'grow' }, /method\.rank_schedule: lowrank grows ranks with factorization: triangular/],
    [{ function: 'lowrank', rank_schedule: 'prune' }, /lowrank prunes no ranks/],
    [{ function: 'lowrank', factorization: 'ldu', insertion: 'sequential' }, /method\.insertion: factorization: ldu decomposes or reads the projection's input/],
    [{ function: 'lowrank', experts: [2, 4], top_k: 3 }, /method\.top_k: top_k 3 is more than the 2 expert/],
    [{ function: 'lowrank', factorization: 'tucker', core: [2, 2, 2, 2] }, /the core has 2 ranks/],
    [{ function: 'lowrank', basis: 'shards', pool_rank: 1, private_rank: 2 }, /private_rank 2 exceeds pool_rank 1/],
    [{ function: 'lowrank', bias: true, basis: 'combination' }, /bias: true is for learned A\/B pairs/],
    [{ function: 'lowrank', factorization: 'triangular', rank_schedule: 'grow', rank: 4, target_rank: 4 }, /target_rank 4 must be above the starting rank 4/],
    [{ function: 'svd', rank_schedule: 'grow', grow_modules: 'linear' }, /IncreLoRA grows the top-scoring modules: give a number/],
    [{ function: 'svd', rank_schedule: 'fixed' }, /a fixed rank is function: lowrank|svd adapts its rank/],
    [{ function: 'subspace', composition: 'scaled' }, /composes in its own way \(θ = θ0 \+ P·d\)/],
    [{ function: 'lowrank', heads: 'multi', basis: 'shared', position: 'attn.heads' }, /heads: multi is plain LoRA per head/],
  ];
  for (const [spec, re] of cases) assert.match(compile(spec).problems.join('\n'), re, JSON.stringify(spec));
  assert.match(compile({ function: 'lowrank', factorization: 'ldu', position: 'attn.output' }).problems.join(), /LoLDU decomposes the projection's weight \(LU\), so it only goes at a projection/);
  assert.match(compile({ function: 'subspace', position: 'ffn.output' }).problems.join(), /subspace moves a projection's weight matrix/);
});

test('a variant option set for another variant is refused, saying which variant it belongs to', () => {
  assert.deepEqual(compile({ function: 'lowrank', num_basis: 64 }).problems, ['method.num_basis: num_basis applies with basis: combination only']);
  assert.deepEqual(compile({ function: 'lowrank', basis: 'shared', vector_length: 8 }).problems, ['method.vector_length: vector_length applies with basis: bank only']);
  assert.deepEqual(compile({ function: 'svd', grow_by: 2 }).problems, ['method.grow_by: grow_by applies with rank_schedule: grow only']);
});
