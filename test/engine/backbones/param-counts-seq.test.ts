// Shapes without weights: the full-size configs in configs/backbones build the same parameter
// counts as transformers' model.parameters() (tied weights once, buffers not counted), and
// inspect reports the base model's count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO } from '../../helpers/fixtures.js';
import { buildBackbone, countParams, familyFor, readModelConfig } from '../../../src/engine/backbones/index.js';
import { catalogEntry, positionAbsence } from '../../../src/plan/index.js';
import { inspectBackbone } from '../../../src/engine/inspect.js';
import type { TaskType } from '../../../src/plan/index.js';

/** counts.json of ../shared/fixtures/param-counts, for the configs copied here. */
const CASES: { dir: string; task: TaskType; base: [string, number]; withHead: [string, number] }[] = [
  { dir: 'gpt2', task: 'causal-lm', base: ['GPT2Model', 124_439_808], withHead: ['GPT2LMHeadModel', 124_439_808] },
  { dir: 'bart-large', task: 'seq2seq', base: ['BartModel', 406_291_456], withHead: ['BartForConditionalGeneration', 406_291_456] },
  { dir: 'mbart-large-cc25', task: 'seq2seq', base: ['MBartModel', 610_851_840], withHead: ['MBartForConditionalGeneration', 610_851_840] },
  { dir: 't5-base', task: 'seq2seq', base: ['T5Model', 222_903_552], withHead: ['T5ForConditionalGeneration', 222_903_552] },
  { dir: 'Llama-2-7b', task: 'causal-lm', base: ['LlamaModel', 6_607_343_616], withHead: ['LlamaForCausalLM', 6_738_415_616] },
];

for (const c of CASES) {
  test(`${c.dir}: ${c.withHead[0]} ${c.withHead[1].toLocaleString('en-US')}, ${c.base[0]} ${c.base[1].toLocaleString('en-US')}`, () => {
    const dir = join(REPO, 'configs', 'backbones', c.dir);
    const { model } = buildBackbone(dir, { task: c.task });
    assert.equal(model.architecture, c.withHead[0]);
    assert.ok(model.root.namedParams().every(([, p]) => !p.loaded), 'shapes only: nothing allocated');
    assert.equal(countParams(model), c.withHead[1]);
    const report = inspectBackbone(dir);
    assert.equal(report.task, c.task);
    assert.equal(report.total_params, c.base[1]);
    assert.equal(report.task_params, c.withHead[1]);
  });
}

test('BART-large sequence classification adds exactly its classification_head (dense d×d + out_proj d×2)', () => {
  const { model } = buildBackbone(join(REPO, 'configs', 'backbones', 'bart-large'), { task: 'seq-cls' });
  assert.equal(countParams(model), 406_291_456 + 1024 * 1024 + 1024 + 1024 * 2 + 2);
  assert.equal(inspectBackbone(join(REPO, 'configs', 'backbones', 'bart-large'), 'seq-cls').total_params, 406_291_456);
});

test('the recipe catalog agrees with the built GPT-2, BART, mBART and T5 families (tasks, stacks, fused qkv, gated FFN)', () => {
  for (const [dir, name] of [['gpt2', 'gpt2'], ['bart-large', 'bart'], ['mbart-large-cc25', 'mbart'], ['t5-base', 't5']]) {
    const config = readModelConfig(join(REPO, 'configs', 'backbones', dir));
    const family = familyFor(config);
    const info = catalogEntry(String(config.model_type))!;
    // the family's builder is registered against its catalog entry: one record of what it is
    assert.equal(family.info, info);
    assert.equal(info.name, name);
    const model = family.build(config, { task: info.tasks[0] });
    const stacks = new Set(model.sites.map((s) => s.stack));
    assert.equal(info.encoderDecoder, stacks.has('encoder') && stacks.has('decoder'), `${name} encoderDecoder`);
    assert.equal(info.fusedQkv, model.sites.some((s) => s.position.endsWith('.qkv')), `${name} fusedQkv`);
    assert.equal(info.gatedFfn, model.sites.some((s) => s.position === 'ffn.gate_proj'), `${name} gatedFfn`);
    assert.equal(info.tokens, model.sites.some((s) => s.position === 'embeddings'), `${name} tokens`);
    for (const s of model.sites) assert.equal(positionAbsence(info, s.stack === 'model' ? null : s.stack, s.position), null, `${name} ${s.position}`);
  }
});

const BIN = join(REPO, 'bin', 'peft.js');
const BUILT = existsSync(join(REPO, 'dist', 'cli', 'main.js'));

test('`peft inspect <config dir> --json` reports the base model count (after npm run build)', { skip: BUILT ? false : 'needs npm run build' }, () => {
  for (const c of CASES) {
    const r = spawnSync(process.execPath, [BIN, 'inspect', join(REPO, 'configs', 'backbones', c.dir), '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.total_params, c.base[1], c.dir);
    assert.equal(report.task_params, c.withHead[1], c.dir);
  }
});
