// A training split trained while it is read (src/engine/data/streaming-batcher.ts): the first
// epoch's order is a seeded function of the file alone (not of how the examples arrived), covers
// every example once, is drawn through the shuffle buffer, and later epochs are the exact global
// shuffle; a batch is never drawn before it arrived. End to end: a streamed SST-2 run interrupted
// and resumed ends bit-identical to an uninterrupted one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { TokenStore } from '../../../src/engine/data/token-store.js';
import { Batcher, MEGABATCH } from '../../../src/engine/data/batches.js';
import { StreamingBatcher } from '../../../src/engine/data/streaming-batcher.js';
import { resolveRecipe, planRecipe, type Plan } from '../../../src/recipes/index.js';
import { openSession } from '../../../src/engine/session.js';
import { buildData } from '../../../src/engine/data/build.js';
import { checkData } from '../../../src/engine/data/preflight.js';
import { trainLoop } from '../../../src/engine/train/loop.js';
import { RunDir } from '../../../src/engine/train/run-dir.js';
import { REPO } from '../../helpers/fixtures.js';

const BACKEND = process.env.PEFT_TEST_BACKEND;
const N = 5000;
const lengthOf = (i: number) => 1 + ((i * 7919) % 37);

/** A store and a streaming batcher over it, fed in chunks of `chunk` examples. */
function streamed(chunk: number, opts: { grouped?: boolean; buffer?: number; upTo?: number } = {}) {
  const store = new TokenStore();
  const b = new StreamingBatcher(store, N, 16, 7, { padId: 0 }, opts.grouped ?? false, opts.buffer ?? 300);
  const feed = (upTo: number) => {
    while (store.size < upTo) {
      const end = Math.min(upTo, store.size + chunk);
      while (store.size < end) store.add({ ids: new Int32Array(lengthOf(store.size)).fill(store.size % 1000), label: store.size % 2 });
      b.advance();
    }
  };
  feed(opts.upTo ?? N);
  return { store, b, feed };
}

function epoch0(b: StreamingBatcher): number[] {
  let cursor = { epoch: 0, index: 0 };
  while (cursor.epoch === 0) {
    assert.equal(b.ready(cursor), null);
    const n = b.next(cursor);
    const before = cursor.index;
    cursor = n.cursor;
    if (cursor.epoch === 0) assert.equal(cursor.index, before + 16);
  }
  return Array.from(b.order(0));
}

test('the first epoch is every example once, shuffled, and the same however the examples arrived', () => {
  const a = streamed(7);
  a.b.finish();
  const c = streamed(1000);
  c.b.finish();
  const oa = epoch0(a.b);
  const oc = epoch0(c.b);
  assert.deepEqual(oa, oc, 'the order depends on the file and the seed, not on the arrival chunks');
  assert.deepEqual([...oa].sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i), 'a permutation');
  const inPlace = oa.filter((v, i) => v === i).length;
  assert.ok(inPlace < 50, `shuffled (${inPlace} in place)`);
  // the buffer bounds how early an example can appear: example i is drawn at position ≥ i − buffer
  assert.ok(oa.every((v, pos) => pos >= v - 300), 'drawn through a 300-example buffer');
  const other = new StreamingBatcher(a.store, N, 16, 8, { padId: 0 }, false, 300);
  other.advance();
  other.finish();
  assert.notDeepEqual(Array.from(other.order(0)), oa, 'another seed, another order');
});

test('later epochs are the exact global shuffle of the whole split', () => {
  const { store, b } = streamed(64);
  b.finish();
  const plain = new Batcher(store, 16, 7, { padId: 0 }, true, false);
  assert.deepEqual(Array.from(b.order(1)), Array.from(plain.order(1)));
  assert.deepEqual(Array.from(b.order(2)), Array.from(plain.order(2)));
  assert.equal(b.size, N);
  assert.equal(b.batchesPerEpoch, Math.ceil(N / 16));
});

test('a batch is not drawn before it arrived: ready() waits, next() refuses', async () => {
  const { b, feed } = streamed(50, { upTo: 200 });
  assert.equal(b.size, N, 'the epoch size is the scan\'s count while reading');
  const wait = b.ready({ epoch: 0, index: 0 });
  assert.ok(wait instanceof Promise, 'nothing drawn yet: 200 examples sit in a 300-example buffer');
  assert.throws(() => b.next({ epoch: 0, index: 0 }), /before it arrived/);
  let resolved = false;
  void wait!.then(() => (resolved = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(resolved, false);
  feed(300 + 16);
  await wait;
  assert.equal(b.next({ epoch: 0, index: 0 }).batch.size, 16);
  assert.ok(b.ready({ epoch: 1, index: 0 }) instanceof Promise, 'the second epoch waits for the whole split');
  assert.throws(() => b.order(1), /second epoch/);
  feed(N);
  b.finish();
  assert.equal(b.ready({ epoch: 1, index: 0 }), null);
});

test('a failed reader fails the wait; grouped by length, each complete group is sorted longest first', async () => {
  const { b } = streamed(50, { upTo: 100 });
  const wait = b.ready({ epoch: 0, index: 0 })!;
  b.fail(new Error('disk gone'));
  await assert.rejects(wait, /disk gone/);

  const g = streamed(97, { grouped: true });
  g.b.finish();
  const order = Array.from(g.b.order(0));
  assert.equal(order.length, N);
  const size = 16 * MEGABATCH;
  for (let s = 0; s < N; s += size) {
    const lens = order.slice(s, s + size).map(lengthOf);
    assert.deepEqual(lens, [...lens].sort((x, y) => y - x), `group at ${s} sorted`);
  }
});

function recipePlan(): Plan {
  const sets = ['data.train.limit=2400', 'training.max_steps=16', 'training.checkpoint_every=4', 'training.log_every=5', 'data.validation=null', 'training.eval_every=null'];
  const { plan: p, issues } = planRecipe(resolveRecipe(join(REPO, 'configs', 'glue', 'sst2-lora.yaml'), { sets }));
  assert.deepEqual(issues, []);
  return { ...p!, output: { dir: mkdtempSync(join(tmpdir(), 'peft-streamed-')) } };
}

async function trainStreamed(p: Plan, run: RunDir, opts: { stopAt?: number; resume?: boolean } = {}): Promise<{ error: unknown; streamed: boolean }> {
  const s = await openSession(p, { backend: BACKEND });
  const scans = await checkData(p);
  const data = await buildData(p, s.tokenizer, { scans, stream: true, workers: 2, model: { config: s.model.config, dir: s.modelDir } });
  let steps = 0;
  let error: unknown = null;
  try {
    await trainLoop(s, data, run, { onStep: () => void steps++, shouldStop: () => opts.stopAt !== undefined && steps >= opts.stopAt }, opts.resume ?? false);
  } catch (e) {
    error = e;
  }
  await (data.train as StreamingBatcher).stop();
  tf.disposeVariables();
  return { error, streamed: data.train instanceof StreamingBatcher && data.stats.train!.streamed === true };
}

test('a streamed SST-2 run interrupted and resumed ends bit-identical to an uninterrupted one', async () => {
  const saved = { min: process.env.PEFT_DATA_STREAM_MIN_EXAMPLES, buf: process.env.PEFT_DATA_SHUFFLE_BUFFER };
  process.env.PEFT_DATA_STREAM_MIN_EXAMPLES = '1000';
  process.env.PEFT_DATA_SHUFFLE_BUFFER = '512';
  try {
    const p = recipePlan();
    const ref = RunDir.create(p.output.dir, 'ref');
    ref.writePlan(p);
    const full = await trainStreamed(p, ref);
    assert.equal(full.error, null);
    assert.ok(full.streamed, 'the split was streamed');

    const run = RunDir.create(p.output.dir, 'cut');
    run.writePlan(p);
    const cut = await trainStreamed(p, run, { stopAt: 6 });
    assert.match(String((cut.error as Error)?.message), /interrupted at step/);
    const resumed = await trainStreamed(p, run, { resume: true });
    assert.equal(resumed.error, null);
    const a = readFileSync(join(ref.adapterDir, 'adapter_model.safetensors'));
    const b = readFileSync(join(run.adapterDir, 'adapter_model.safetensors'));
    assert.ok(a.equals(b), 'final adapter bit-identical to the uninterrupted run');
  } finally {
    for (const [k, v] of [['PEFT_DATA_STREAM_MIN_EXAMPLES', saved.min], ['PEFT_DATA_SHUFFLE_BUFFER', saved.buf]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
