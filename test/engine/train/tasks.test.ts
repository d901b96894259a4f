// Every task trains and evaluates for real, through the same path `peft train` takes (scan, model,
// data, loop, evaluation before and after): sentence-pair classification and token classification
// on a BERT, regression and causal LM from JSONL on stories260K, seq2seq on BART and T5 (loss,
// perplexity, ROUGE and BLEU from generated text), image classification on a ViT with real digits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { runTraining, type RunSummary } from '../../../src/engine/train/run.js';
import { RunDir } from '../../../src/engine/train/run-dir.js';
import { openInference } from '../../../src/engine/infer/inference.js';
import { predictFile } from '../../../src/engine/infer/predict-file.js';
import type { Plan } from '../../../src/plan/index.js';
import { makePlan, split, LORA, type PlanParts } from '../../helpers/plans.js';
import { SKIP_NO_SHARED, SHARED } from '../../helpers/fixtures.js';
import { tinyModel, lcg, pick, jsonl, WORDS } from './helpers/tiny.js';

const BACKEND = process.env.PEFT_TEST_BACKEND ?? 'cpu';
const dir = mkdtempSync(join(tmpdir(), 'peft-tasks-'));

function files(name: string, make: (r: () => number) => object, n: number, nVal: number): { train: string; validation: string } {
  const r = lcg(name.length * 7919 + n);
  const train = join(dir, `${name}-train.jsonl`);
  const validation = join(dir, `${name}-dev.jsonl`);
  writeFileSync(train, jsonl(Array.from({ length: n }, () => make(r))));
  writeFileSync(validation, jsonl(Array.from({ length: nVal }, () => make(r))));
  return { train, validation };
}

async function run(parts: PlanParts): Promise<RunSummary> {
  const plan: Plan = makePlan({ output: join(dir, 'runs'), ...parts });
  return runTraining(plan, { backend: BACKEND });
}

/** `peft predict`'s engine on a finished run: one output object per input row. */
async function predict(s: RunSummary, rows: object[]): Promise<Record<string, any>[]> {
  const input = join(dir, `in-${s.name}-${Date.now()}.jsonl`);
  writeFileSync(input, jsonl(rows));
  const session = await openInference(RunDir.open(s.run_dir).readPlan(), s.adapter_dir, { backend: BACKEND });
  const output = join(dir, `out-${s.name}-${Date.now()}.jsonl`);
  const r = await predictFile(session, { path: input, format: 'jsonl' }, output, { batchSize: 2, maxNewTokens: 6 });
  assert.deepEqual([r.rows, r.predicted, r.skipped], [rows.length, rows.length, 0]);
  tf.disposeVariables();
  return readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

const words = (r: () => number, n: number, from = WORDS.slice(0, 20)) => Array.from({ length: n }, () => pick(r, from)).join(' ');
const dataOf = (f: { train: string; validation: string }, extra: Partial<Plan['data']> = {}) => ({ train: split(f.train), validation: split(f.validation), ...extra });

test('seq-cls on sentence pairs (BERT): loss falls, accuracy / F1 / MCC well above chance', { skip: SKIP_NO_SHARED }, async () => {
  const f = files('pairs', (r) => {
    const yes = r() < 0.5;
    return { text_a: words(r, 3), text_b: `${yes ? 'yes' : 'no'} ${words(r, 2)}`, label: yes ? 'match' : 'other' };
  }, 160, 48);
  const s = await run({
    backbone: tinyModel('bert'), task: { type: 'seq-cls', labels: ['other', 'match'], numLabels: 2 }, data: dataOf(f),
    training: { maxSteps: 40, batchSize: 16, evalEvery: 20 }, eval: { metrics: ['accuracy', 'f1', 'mcc'], batchSize: 16 }, optimizer: { lr: 2e-2 },
  });
  assert.ok(s.after!.loss < s.before!.loss, `loss ${s.before!.loss} → ${s.after!.loss}`);
  assert.ok(s.after!.accuracy! >= 0.85, `accuracy ${s.after!.accuracy}`);
  for (const k of ['f1', 'mcc']) assert.equal(typeof s.after![k], 'number');
  assert.ok(s.after!.mcc! > 0.6, `mcc ${s.after!.mcc}`);
  assert.equal(s.best?.metric, 'accuracy');
  assert.equal(s.data.train!.examples, 160);
});

test('token-cls (BERT): per-word tags learnt; accuracy and F1 over words', { skip: SKIP_NO_SHARED }, async () => {
  const names = ['john', 'mary', 'paul', 'anna'];
  const cities = ['paris', 'rome', 'berlin', 'oslo'];
  const other = WORDS.filter((w) => !names.includes(w) && !cities.includes(w)).slice(0, 20);
  const f = files('ner', (r) => {
    const tokens = Array.from({ length: 3 + Math.floor(r() * 4) }, () => pick(r, r() < 0.3 ? names : r() < 0.4 ? cities : other));
    return { tokens, ner_tags: tokens.map((t) => (names.includes(t) ? 'B-PER' : cities.includes(t) ? 'B-LOC' : 'O')) };
  }, 160, 40);
  const s = await run({
    backbone: tinyModel('bert'), task: { type: 'token-cls', labels: ['O', 'B-PER', 'B-LOC'], numLabels: 3 }, data: dataOf(f),
    training: { maxSteps: 40, batchSize: 16 }, eval: { metrics: ['accuracy', 'f1'], batchSize: 16 }, optimizer: { lr: 2e-2 },
  });
  assert.ok(s.after!.loss < s.before!.loss * 0.7, `loss ${s.before!.loss} → ${s.after!.loss}`);
  assert.ok(s.after!.accuracy! >= 0.8, `accuracy ${s.after!.accuracy}`);
  assert.ok(s.after!.f1! > s.before!.f1!, `f1 ${s.before!.f1} → ${s.after!.f1}`);
  const out = await predict(s, [{ tokens: ['john', 'is', 'in', 'paris'] }, { tokens: 'mary saw a big dog' }, { tokens: ['oslo'] }]);
  assert.deepEqual(out.map((o) => o.tokens.length), [4, 5, 1]);
  out.forEach((o) => assert.equal(o.tags.length, o.tokens.length));
  assert.deepEqual([out[0].tags[0], out[0].tags[3]], ['B-PER', 'B-LOC']);
});

test('regression (stories260K, score on the last token): MSE falls, Pearson / Spearman correlate', async () => {
  const f = files('reg', (r) => {
    const n = Math.floor(r() * 4);
    const text = [...Array.from({ length: n }, () => 'very'), 'good', ...Array.from({ length: 2 }, () => pick(r, ['film', 'day', 'food', 'book']))].join(' ');
    return { text, label: n };
  }, 128, 32);
  const s = await run({
    task: { type: 'regression' }, data: dataOf(f), method: { ...LORA, trainHead: true },
    training: { maxSteps: 40, batchSize: 16 }, eval: { metrics: ['pearson', 'spearman'], batchSize: 16 }, optimizer: { lr: 2e-2 },
  });
  assert.ok(s.after!.loss < s.before!.loss, `mse ${s.before!.loss} → ${s.after!.loss}`);
  assert.ok(s.after!.pearson! > 0.8, `pearson ${s.after!.pearson}`);
  assert.ok(s.after!.spearman! > 0.8, `spearman ${s.after!.spearman}`);
  const out = await predict(s, [{ text: 'good film day' }, { text: 'very very very good food book' }]);
  assert.ok(out.every((o) => typeof o.value === 'number'));
  assert.ok(out[1].value > out[0].value, `${out[1].value} > ${out[0].value}`);
});

test('causal LM from JSONL texts, packed (stories260K): perplexity falls', async () => {
  const f = files('lm', (r) => ({ text: `the ${pick(r, ['cat', 'dog', 'bird'])} saw the ${pick(r, ['red', 'blue', 'green'])} ball and ran home.` }), 96, 24);
  const s = await run({
    task: { type: 'causal-lm' }, data: dataOf(f, { maxLength: 16 }),
    training: { maxSteps: 20, batchSize: 8 }, eval: { metrics: ['perplexity'], batchSize: 8 },
  });
  assert.ok(s.after!.perplexity! < s.before!.perplexity! * 0.7, `perplexity ${s.before!.perplexity} → ${s.after!.perplexity}`);
  assert.ok(Math.abs(s.after!.perplexity! - Math.exp(s.after!.loss)) < 1e-9 * s.after!.perplexity!);
  const out = await predict(s, [{ text: 'the cat saw the' }]);
  assert.equal(typeof out[0].text, 'string');
  assert.ok(out[0].text.length > 0);
});

for (const family of ['bart', 't5'] as const) {
  test(`seq2seq (${family}): loss and perplexity fall; ROUGE and BLEU from generated text`, { skip: SKIP_NO_SHARED }, async () => {
    const f = files(`copy-${family}`, (r) => {
      const w = words(r, 2 + Math.floor(r() * 3), WORDS.slice(8, 28));
      return { source: w, target: w };
    }, 160, 16);
    const s = await run({
      backbone: tinyModel(family), task: { type: 'seq2seq' }, data: dataOf(f, { maxLength: 12 }),
      training: { maxSteps: 60, batchSize: 16 }, eval: { metrics: ['loss', 'rouge', 'bleu'], batchSize: 16 }, optimizer: { lr: 3e-2 },
      method: { ...LORA, modules: [{ ...LORA.modules[0]!, positions: ['attn.query', 'attn.value', 'ffn.output'], function: 'lowrank' }] },
    });
    assert.ok(s.after!.loss < s.before!.loss * 0.8, `loss ${s.before!.loss} → ${s.after!.loss}`);
    assert.ok(s.after!.perplexity! < s.before!.perplexity!);
    for (const k of ['rouge1', 'rouge2', 'rougeL', 'rougeLsum', 'bleu']) {
      assert.ok(Number.isFinite(s.after![k]), `${k} ${s.after![k]}`);
    }
    assert.ok(s.after!.rougeL! >= s.before!.rougeL!, `rougeL ${s.before!.rougeL} → ${s.after!.rougeL}`);
    const out = await predict(s, [{ source: 'good bad great' }, { source: 'film book' }]);
    assert.ok(out.every((o) => typeof o.text === 'string'));
  });
}

test('image-cls (ViT on UCI optdigits, 10 classes): accuracy well above chance', { skip: SKIP_NO_SHARED }, async () => {
  const tra = join(SHARED, 'data', 'optdigits', 'optdigits.tra');
  const s = await run({
    backbone: tinyModel('vit'), task: { type: 'image-cls', numLabels: 10 },
    data: {
      train: { ...split(tra), format: 'csv', split: { of: 'train', fraction: 0.8, part: 'head' }, limit: 640 },
      validation: { ...split(''), format: 'csv', split: { of: 'train', fraction: 0.2, part: 'tail' }, limit: 160 },
      columns: { image: '0..63', label: '64' },
    },
    method: { ...LORA, trainHead: true },
    training: { maxSteps: 60, batchSize: 32 }, eval: { metrics: ['accuracy'], batchSize: 32 }, optimizer: { lr: 2e-2 },
  });
  assert.ok(s.after!.loss < s.before!.loss, `loss ${s.before!.loss} → ${s.after!.loss}`);
  assert.ok(s.after!.accuracy! >= 0.4, `accuracy ${s.after!.accuracy} (chance 0.1)`);
});
