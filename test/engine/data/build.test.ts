// Data → examples → batches for every task: shapes, -100 positions, pair type ids, label mapping,
// truncation and per-batch padding, packing, seq2seq shifts, pixels; limits and seeded splits;
// the compact store (in memory and spilled to disk); and bad data stopped before any compute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadTokenizer, type TextTokenizer } from '../../../src/engine/tokenizers/index.js';
import { buildData, buildSplit } from '../../../src/engine/data/build.js';
import { checkData } from '../../../src/engine/data/preflight.js';
import { shiftRight, IGNORE_INDEX } from '../../../src/engine/data/encode.js';
import { TokenStore } from '../../../src/engine/data/token-store.js';
import { BlockPacker } from '../../../src/engine/data/lm-blocks.js';
import { toPixelValues } from '../../../src/engine/data/images.js';
import type { Batch } from '../../../src/engine/data/batches.js';
import { PeftError } from '../../../src/errors.js';
import { makePlan, split, STORIES } from '../../helpers/plans.js';
import { needsShared, scratch, SHARED_DATA } from './helpers/paths.js';

const BERT_TOK = join(SHARED_DATA, 'tokenizers', 'bert-base-uncased');
const BERT_CONFIG = { model_type: 'bert', type_vocab_size: 2, pad_token_id: 0 };
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const first = (it: Iterable<Batch>): Batch => it[Symbol.iterator]().next().value as Batch;
const row = (b: Batch, a: ArrayLike<number>, r: number, T = b.seqLen) => Array.from(a).slice(r * T, (r + 1) * T);

let llama: TextTokenizer;
test.before(async () => {
  llama = await loadTokenizer(STORIES);
});

test('seq-cls, single text: label names → ids, BOS, truncation to max_length, padding per batch (right, mask 0)', async () => {
  const s = scratch();
  try {
    const path = s.file('t.jsonl', jsonl([
      { sentence: 'a good film', sentiment: 'positive' },
      { sentence: 'bad', sentiment: 'negative' },
      { sentence: 'one two three four five six seven eight nine ten eleven twelve', sentiment: 1 },
    ]));
    const plan = makePlan({
      task: { type: 'seq-cls', labels: ['negative', 'positive'], numLabels: 2 },
      data: { train: split(path), columns: { text: 'sentence', label: 'sentiment' }, maxLength: 6 },
      training: { batchSize: 3 },
    });
    const { batcher, stats } = await buildSplit(plan, plan.data.train!, llama, { name: 'train', batchSize: 3, shuffle: false });
    assert.equal(stats.examples, 3);
    const b = first(batcher.sequential());
    assert.deepEqual(Array.from(b.labels!), [1, 0, 1]);
    assert.equal(b.seqLen, 6, 'the longest row, cut to max_length');
    const ids0 = llama.encode('a good film').slice(0, 6);
    assert.deepEqual(row(b, b.inputIds, 0).slice(0, ids0.length), ids0);
    assert.equal(ids0[0], llama.bosId);
    const n1 = llama.encode('bad').length;
    assert.ok(n1 < 6);
    assert.deepEqual(row(b, b.attentionMask, 1), [0, 1, 2, 3, 4, 5].map((i) => (i < n1 ? 1 : 0)));
    assert.deepEqual(row(b, b.attentionMask, 2), [1, 1, 1, 1, 1, 1]);
    assert.equal(b.typeIds, undefined, 'LLaMA has no token types');
    // padded with eos (stories260K has no pad token)
    assert.equal(b.inputIds[1 * 6 + 5], llama.eosId);
  } finally {
    s.cleanup();
  }
});

test('seq-cls, sentence pairs (BERT): [CLS] A [SEP] B [SEP], type ids 0 then 1, longest-first truncation', { skip: needsShared() }, async () => {
  const bert = await loadTokenizer(BERT_TOK);
  const s = scratch();
  try {
    const path = s.file('p.jsonl', jsonl([
      { text_a: 'the cat sat', text_b: 'a cat was sitting', label: 1 },
      { text_a: 'one two three four five six seven eight', text_b: 'nine', label: 0 },
    ]));
    const plan = makePlan({ task: { type: 'seq-cls', numLabels: 2 }, data: { train: split(path), maxLength: 8 } });
    const { batcher } = await buildSplit(plan, plan.data.train!, bert, { name: 'train', batchSize: 2, shuffle: false, model: { config: BERT_CONFIG } });
    const b = first(batcher.sequential());
    const want = bert.encodePair('the cat sat', 'a cat was sitting');
    assert.ok(want.ids.length > 8);
    assert.equal(b.seqLen, 8, 'cut to max_length');
    const ids0 = row(b, b.inputIds, 0);
    assert.deepEqual([ids0[0], ids0[ids0.length - 1]], [101, 102]);
    assert.deepEqual(ids0.filter((i) => i === 102).length, 2);
    const types0 = row(b, b.typeIds!, 0);
    const sep = ids0.indexOf(102);
    assert.deepEqual(types0, ids0.map((_, i) => (i <= sep ? 0 : 1)));
    // longest first: the long first text gives up tokens, "nine" is kept
    const ids1 = row(b, b.inputIds, 1);
    assert.deepEqual(ids1.slice(-3), [102, bert.encode('nine', { addSpecialTokens: false })[0], 102]);
    assert.deepEqual(Array.from(b.labels!), [1, 0]);
  } finally {
    s.cleanup();
  }
});

test('regression: float targets', async () => {
  const s = scratch();
  try {
    const path = s.file('r.jsonl', jsonl([{ text: 'x', label: 3.25 }, { text: 'y', label: '-1.5' }]));
    const plan = makePlan({ task: { type: 'regression' }, data: { train: split(path) } });
    const { batcher } = await buildSplit(plan, plan.data.train!, llama, { name: 'train', batchSize: 2, shuffle: false });
    assert.deepEqual(Array.from(first(batcher.sequential()).labels!), [3.25, -1.5]);
  } finally {
    s.cleanup();
  }
});

test('token-cls: word labels on the first sub-token, -100 on the others and on [CLS]/[SEP]/padding', { skip: needsShared() }, async () => {
  const bert = await loadTokenizer(BERT_TOK);
  const s = scratch();
  try {
    const path = s.file('n.jsonl', jsonl([
      { tokens: ['John', 'is', 'unaffable'], ner_tags: ['B-PER', 'O', 'O'] },
      { tokens: ['Hamburg'], ner_tags: [1] },
    ]));
    const plan = makePlan({ task: { type: 'token-cls', labels: ['O', 'B-PER', 'B-LOC'], numLabels: 3 }, data: { train: split(path) } });
    const { batcher } = await buildSplit(plan, plan.data.train!, bert, { name: 'train', batchSize: 2, shuffle: false, model: { config: BERT_CONFIG } });
    const b = first(batcher.sequential());
    // [CLS] john is una ##ffa ##ble [SEP]
    assert.equal(b.seqLen, 7);
    assert.deepEqual(row(b, b.inputIds, 0).map((i) => bert.idToToken(i)), ['[CLS]', 'john', 'is', 'una', '##ffa', '##ble', '[SEP]']);
    assert.deepEqual(row(b, b.tokenLabels!, 0), [IGNORE_INDEX, 1, 0, 0, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]);
    assert.deepEqual(row(b, b.tokenLabels!, 1), [IGNORE_INDEX, 1, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]);
    assert.deepEqual(row(b, b.attentionMask, 1), [1, 1, 1, 0, 0, 0, 0]);
    assert.deepEqual(row(b, b.typeIds!, 0), [0, 0, 0, 0, 0, 0, 0]);
  } finally {
    s.cleanup();
  }
});

test('causal LM: a text file packed into blocks (paragraphs with BOS); JSONL texts packed or padded', async () => {
  const s = scratch();
  try {
    const txt = s.file('t.txt', 'First paragraph here.\nStill the first.\n\nSecond one.\n\nThird and last one, a bit longer than the rest.\n');
    const plan = makePlan({ task: { type: 'causal-lm' }, data: { train: split(txt), maxLength: 8 } });
    const { batcher, stats } = await buildSplit(plan, plan.data.train!, llama, { name: 'train', batchSize: 64, shuffle: false });
    const paras = ['First paragraph here.\nStill the first.\n', 'Second one.\n', 'Third and last one, a bit longer than the rest.\n'];
    const all = paras.flatMap((p) => llama.encode(p));
    assert.equal(stats.tokens, all.length);
    const b = first(batcher.sequential());
    assert.equal(b.size, Math.floor(all.length / 8));
    assert.deepEqual(Array.from(b.inputIds), all.slice(0, b.size * 8));
    assert.ok(b.attentionMask.every((m) => m === 1));

    const j = s.file('t.jsonl', jsonl([{ text: 'one two' }, { text: 'three four five six seven eight nine ten' }]));
    const packed = makePlan({ task: { type: 'causal-lm' }, data: { train: split(j), maxLength: 4 } });
    const p = first((await buildSplit(packed, packed.data.train!, llama, { name: 'train', batchSize: 64, shuffle: false })).batcher.sequential());
    const ids = [...llama.encode('one two'), ...llama.encode('three four five six seven eight nine ten')];
    assert.deepEqual(Array.from(p.inputIds), ids.slice(0, p.size * 4));

    const unpacked = makePlan({ task: { type: 'causal-lm' }, data: { train: split(j), maxLength: 6, packing: false } });
    const u = first((await buildSplit(unpacked, unpacked.data.train!, llama, { name: 'train', batchSize: 2, shuffle: false })).batcher.sequential());
    assert.equal(u.size, 2);
    assert.equal(u.seqLen, 6);
    const short = llama.encode('one two').slice(0, 6);
    assert.deepEqual(row(u, u.inputIds, 0).slice(0, short.length), short);
    assert.deepEqual(row(u, u.attentionMask, 0), [0, 1, 2, 3, 4, 5].map((i) => (i < short.length ? 1 : 0)));
    assert.deepEqual(row(u, u.inputIds, 1), llama.encode('three four five six seven eight nine ten').slice(0, 6));
  } finally {
    s.cleanup();
  }
});

test('seq2seq: labels padded with -100, decoder inputs shifted right by the model\'s rule', async () => {
  const s = scratch();
  try {
    const path = s.file('s.jsonl', jsonl([{ source: 'one two three', target: 'four five' }, { source: 'six', target: 'seven eight nine ten' }]));
    const plan = makePlan({ task: { type: 'seq2seq' }, data: { train: split(path), maxLength: 16 } });
    const config = { model_type: 'bart', pad_token_id: 7, decoder_start_token_id: 2 };
    const { batcher } = await buildSplit(plan, plan.data.train!, llama, { name: 'train', batchSize: 2, shuffle: false, model: { config } });
    const b = first(batcher.sequential());
    const t0 = llama.encode('four five');
    const t1 = llama.encode('seven eight nine ten');
    const S = b.targetLen!;
    assert.equal(S, t1.length);
    assert.deepEqual(row(b, b.targetLabels!, 0, S), [...t0, ...new Array(S - t0.length).fill(IGNORE_INDEX)]);
    assert.deepEqual(row(b, b.decoderInputIds!, 0, S), [2, ...t0.slice(0, -1), ...new Array(S - t0.length).fill(7)]);
    assert.deepEqual(row(b, b.decoderInputIds!, 1, S), [2, ...t1.slice(0, -1)]);
    const src = llama.encode('one two three');
    assert.deepEqual(row(b, b.inputIds, 0).slice(0, src.length), src);
    // mBART: the last label (its language code) moves to the front
    assert.deepEqual(Array.from(shiftRight([5, 6, 2, 250004], { start: 2, pad: 1, wrapLast: true })), [250004, 5, 6, 2]);
  } finally {
    s.cleanup();
  }
});

test('image-cls: optdigits CSV columns → pixel_values [C, H, W] at the model size, normalised', { skip: needsShared() }, async () => {
  const plan = makePlan({
    task: { type: 'image-cls', numLabels: 10 },
    data: { train: { ...split(join(SHARED_DATA, 'optdigits', 'optdigits.tra')), format: 'csv', limit: 5 }, columns: { image: '0..63', label: '64' } },
  });
  const config = { model_type: 'vit', image_size: 16, num_channels: 3 };
  const { batcher } = await buildSplit(plan, plan.data.train!, null, { name: 'train', batchSize: 5, shuffle: false, model: { config } });
  const b = first(batcher.sequential());
  assert.deepEqual(b.pixelShape, [3, 16, 16]);
  assert.equal(b.pixelValues!.length, 5 * 3 * 16 * 16);
  assert.ok(b.pixelValues!.every((v) => v >= -1 && v <= 1), 'in [-1, 1] after (x − 0.5) / 0.5');
  assert.equal(b.labels!.length, 5);
  // a grey 2×2 image at its own size is only rescaled and normalised; channels repeat it
  const px = toPixelValues(Float32Array.from([0, 255, 51, 102]), [2, 2], { channels: 2, size: 2, mean: [0.5, 0.5], std: [0.5, 0.5] });
  assert.ok(px instanceof Float32Array);
  assert.deepEqual(Array.from(px).map((v) => Math.round(v * 100) / 100), [-1, 1, -0.6, -0.2, -1, 1, -0.6, -0.2]);
});

test('limit and a seeded split of one file: disjoint, the same for the same seed', async () => {
  const s = scratch();
  try {
    const path = s.file('d.jsonl', jsonl(Array.from({ length: 40 }, (_, i) => ({ text: `row ${i}`, label: i % 2 }))));
    const plan = makePlan({
      task: { type: 'seq-cls', numLabels: 2 },
      data: { train: split(path), validation: { ...split(''), split: { of: 'train', fraction: 0.25, part: 'tail' } } },
      training: { batchSize: 64 }, eval: { batchSize: 64 },
    });
    const d = await buildData(plan, llama);
    assert.equal(d.stats.train!.examples, 30);
    assert.equal(d.stats.validation!.examples, 10);
    const key = (b: Batch) => Array.from({ length: b.size }, (_, r) => row(b, b.inputIds, r).join(','));
    const tr = new Set(key(first(d.train.sequential())));
    const va = key(first(d.validation!.sequential()));
    assert.ok(va.every((k) => !tr.has(k)), 'no row in both');
    const again = await buildData(plan, llama);
    assert.deepEqual(key(first(again.validation!.sequential())), va);
    const limited = makePlan({ ...plan, task: plan.task, data: { ...plan.data, train: split(path, { limit: 7 }), validation: null } });
    assert.equal((await buildData(limited, llama)).stats.train!.examples, 7);
  } finally {
    s.cleanup();
  }
});

test('the token store gives the same examples in memory and spilled to a temporary file', () => {
  const mem = new TokenStore();
  const disk = new TokenStore(64);
  for (let i = 0; i < 50; i++) {
    const ex = { ids: Int32Array.from({ length: 1 + (i % 7) }, (_, k) => i * 10 + k), label: i % 3 };
    mem.add(ex);
    disk.add(ex);
  }
  assert.ok(disk.spilled && !mem.spilled);
  for (const i of [0, 13, 49, 7]) assert.deepEqual(disk.get(i), mem.get(i));
  assert.equal(disk.slice(10, 20).size, 10);
  assert.deepEqual(disk.slice(10, 20).get(3), mem.get(13));
  disk.close();
  const p = new BlockPacker(4, 2);
  assert.deepEqual(p.push([1, 2, 3]).length, 0);
  assert.deepEqual(p.push([4, 5, 6, 7, 8, 9]).map((x) => Array.from(x)), [[1, 2, 3, 4], [5, 6, 7, 8]]);
  assert.ok(p.full);
});

test('bad data is stopped before compute with its place; skip counts what it skipped', async () => {
  const s = scratch();
  try {
    const good = s.file('good.jsonl', jsonl([{ text: 'a', label: 0 }, { text: 'b', label: 1 }]));
    const badLabel = s.file('bad.jsonl', jsonl([{ text: 'a', label: 0 }, { text: 'b', label: 1 }, { text: 'c', label: 'maybe' }]));
    const base = { task: { type: 'seq-cls' as const, labels: ['no', 'yes'], numLabels: 2 } };
    const err = await checkData(makePlan({ ...base, data: { train: split(badLabel) } })).catch((e) => e);
    assert.ok(err instanceof PeftError && err.code === 'DATA', String(err));
    assert.match(err.where ?? '', /bad\.jsonl:3$/);
    assert.match(err.message, /label "maybe"/);

    const empty = s.file('empty.jsonl', '\n');
    const e2 = await checkData(makePlan({ ...base, data: { train: split(good), validation: split(empty) } })).catch((e) => e);
    assert.ok(e2 instanceof PeftError && /split validation has no examples/.test(e2.message), String(e2));

    const latin1 = s.file('latin1.jsonl', Buffer.concat([Buffer.from('{"text": "ok", "label": 0}\n{"text": "caf'), Buffer.from([0xe9]), Buffer.from('", "label": 1}\n')]));
    const e3 = await checkData(makePlan({ ...base, data: { train: split(latin1) } })).catch((e) => e);
    assert.ok(e3 instanceof PeftError, String(e3));
    assert.match(`${e3.where} ${e3.message}`, /latin1\.jsonl:2 .*UTF-8/);

    const skipPlan = makePlan({ ...base, data: { train: split(badLabel), onError: 'skip' } });
    const scans = await checkData(skipPlan);
    assert.equal(scans.train!.badRows, 1);
    const d = await buildData(skipPlan, llama);
    assert.equal(d.stats.train!.examples, 2);
    assert.equal(d.stats.train!.skipped, 1);
    assert.equal(d.stats.train!.bad?.label?.first, `${badLabel.startsWith(process.cwd()) ? badLabel.slice(process.cwd().length + 1) : badLabel}:3`);
  } finally {
    s.cleanup();
  }
});

test('group_by_length: each run of 50 batches of the seeded order is sorted longest first; still a permutation', async () => {
  const s = scratch();
  try {
    const path = s.file('g.jsonl', jsonl(Array.from({ length: 300 }, (_, i) => ({ text: 'word '.repeat(1 + ((i * 37) % 23)), label: i % 2 }))));
    const plan = makePlan({ task: { type: 'seq-cls', numLabels: 2 }, data: { train: split(path), maxLength: 64, groupByLength: true } });
    const { batcher } = await buildSplit(plan, plan.data.train!, llama, { name: 'train', batchSize: 4, shuffle: true });
    const order = batcher.order(0);
    assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i));
    const lens = Array.from(order, (i) => batcher.examples.length(i));
    for (const [from, to] of [[0, 200], [200, 300]]) {
      const part = lens.slice(from, to);
      assert.deepEqual(part, [...part].sort((a, b) => b - a), `indices ${from}..${to} sorted by length`);
    }
    const b = batcher.next({ epoch: 0, index: 0 }).batch;
    assert.ok(b.attentionMask.every((m) => m === 1), 'the first batch needs no padding');
    const plain = makePlan({ ...plan, task: plan.task, data: { ...plan.data, groupByLength: false } });
    const { batcher: ungrouped } = await buildSplit(plain, plain.data.train!, llama, { name: 'train', batchSize: 4, shuffle: true });
    assert.deepEqual(new Set(ungrouped.order(0).subarray(0, 200)), new Set(order.subarray(0, 200)), 'the same examples per group as the plain order');
  } finally {
    s.cleanup();
  }
});

test('per-split columns: a split\'s own mapping over data.columns; a seeded part of a file keeps that file\'s mapping', async () => {
  const s = scratch();
  try {
    const tr = s.file('tr.jsonl', jsonl(Array.from({ length: 20 }, (_, i) => ({ review: `r${i}`, stars: i % 2 }))));
    const dv = s.file('dv.jsonl', jsonl([{ text: 'x', stars: 1 }]));
    const plan = makePlan({
      task: { type: 'seq-cls', numLabels: 2 },
      data: { train: split(tr, { columns: { text: 'review' } }), validation: split(dv), columns: { label: 'stars' } },
    });
    const d = await buildData(plan, llama);
    assert.deepEqual([d.stats.train!.examples, d.stats.validation!.examples], [20, 1]);
    const part = makePlan({ ...plan, task: plan.task, data: { ...plan.data, validation: { ...split(''), split: { of: 'train', fraction: 0.5, part: 'tail' } } } });
    assert.equal((await checkData(part)).validation!.examples, 10);
  } finally {
    s.cleanup();
  }
});
