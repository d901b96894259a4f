// Tokenisation on worker threads (src/engine/data/encode-pool.ts, encode-worker.ts): a split
// encoded by workers is exactly the split encoded on one thread — same examples in the same order,
// same labels, same packed blocks — and results are taken in the order the groups were sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadTokenizer, type TextTokenizer } from '../../../src/engine/tokenizers/index.js';
import { buildSplit } from '../../../src/engine/data/build.js';
import { inOrder } from '../../../src/engine/data/encode-pool.js';
import type { Batcher } from '../../../src/engine/data/batches.js';
import { makePlan, split, STORIES } from '../../helpers/plans.js';
import { REPO } from '../../helpers/fixtures.js';

const SST2 = join(REPO, 'assets', 'data', 'sst2', 'train.jsonl');
const SHAKESPEARE = join(REPO, 'assets', 'data', 'tinyshakespeare', 'train.txt');
const model = { config: { model_type: 'llama' }, dir: STORIES };

let tok: TextTokenizer;
test.before(async () => {
  tok = await loadTokenizer(STORIES);
});

function dump(b: Batcher): string[] {
  const out: string[] = [];
  for (let i = 0; i < b.examples.size; i++) {
    const e = b.examples.get(i);
    out.push(`${Array.from(e.ids).join(',')}|${e.label ?? ''}`);
  }
  return out;
}

test('seq-cls on 2 workers gives the examples one thread gives, in file order', async () => {
  const plan = makePlan({
    task: { type: 'seq-cls', labels: ['negative', 'positive'], numLabels: 2 },
    data: { train: split(SST2, { limit: 5000 }), maxLength: 64 },
  });
  const one = await buildSplit(plan, plan.data.train!, tok, { name: 'train', batchSize: 32, shuffle: true, model, workers: 0 });
  const two = await buildSplit(plan, plan.data.train!, tok, { name: 'train', batchSize: 32, shuffle: true, model, workers: 2 });
  assert.equal(one.stats.workers, undefined);
  assert.equal(two.stats.workers, 2, 'the pool ran');
  assert.deepEqual(two.stats.tokens, one.stats.tokens);
  assert.deepEqual(dump(two.batcher), dump(one.batcher));
  // the seeded batch order (and so training) does not depend on the workers
  const b1 = one.batcher.next({ epoch: 0, index: 0 }).batch;
  const b2 = two.batcher.next({ epoch: 0, index: 0 }).batch;
  assert.deepEqual(Array.from(b2.inputIds), Array.from(b1.inputIds));
});

test('packed causal LM on 2 workers gives the blocks one thread gives', async () => {
  const plan = makePlan({ task: { type: 'causal-lm' }, data: { train: split(SHAKESPEARE, { limit: 300 }), maxLength: 64, packing: true } });
  const one = await buildSplit(plan, plan.data.train!, tok, { name: 'train', batchSize: 8, shuffle: false, model, workers: 0 });
  const two = await buildSplit(plan, plan.data.train!, tok, { name: 'train', batchSize: 8, shuffle: false, model, workers: 2 });
  assert.equal(two.stats.workers, 2);
  assert.equal(two.stats.examples, 300, 'stopped at the limit, as one thread does');
  assert.deepEqual(dump(two.batcher), dump(one.batcher));
});

test('inOrder: results reach the sink in the order of the source, whatever order they finish in; the sink can stop it', async () => {
  async function* source() {
    for (let i = 0; i < 20; i++) yield i;
  }
  const seen: number[] = [];
  await inOrder(source(), 4, (i) => new Promise<number>((r) => setTimeout(() => r(i * 10), (20 - i) % 7)), (r) => void seen.push(r));
  assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => i * 10));
  const some: number[] = [];
  await inOrder(source(), 3, async (i) => i, (r) => (some.push(r), r < 5));
  assert.deepEqual(some, [0, 1, 2, 3, 4, 5]);
});
