// The test-time adaptation methods on the ResNet fixture (real batch norms with randomised
// statistics): what each does to the statistics and parameters, that it leaves the model as it
// found it, and how the methods relate (α-BN at α = 1 is the source model, at α = 0 test-time
// statistics; offline statistics over one batch are that batch's; TENT predicts with the pass
// that computes its update and lowers the entropy; LAME is its optimisation over the batch's
// features; the label-shift adapter moves predictions towards the estimated distribution).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { ensureGradients } from '../../../src/engine/backend/index.js';
import { loadBackbone } from '../../../src/engine/backbones/index.js';
import { injectMethod } from '../../../src/engine/methods/index.js';
import { Batcher, collate, type Batch, type TokenExample } from '../../../src/engine/data/batches.js';
import { ttaMethod } from '../../../src/engine/adapt/index.js';
import { forwardBatch, softmaxRows } from '../../../src/engine/adapt/forward.js';
import { knnAffinity, l2Rows, laplacianOptimization } from '../../../src/engine/adapt/methods/lame.js';
import { meanEntropy } from '../../../src/engine/adapt/methods/tent.js';
import { adaptedLogits, headLinear, trainAdapter } from '../../../src/engine/adapt/methods/label-shift.js';
import type { TtaContext, TtaMode, TtaSettings } from '../../../src/engine/adapt/types.js';
import { normalArray } from '../../../src/engine/random.js';
import { plan } from '../methods/helpers.js';

const dir = fixture('models', 'resnet');

function examples(n: number, seed: number, shift = 0): TokenExample[] {
  return Array.from({ length: n }, (_, i) => ({
    ids: new Int32Array(0), label: i % 3,
    pixels: normalArray(3 * 32 * 32, 1, seed * 1000 + i, shift + 0.3 * (i % 3)),
  }));
}

function batchOf(ex: TokenExample[]): Batch {
  return collate(ex, { padId: 0, pixelShape: [3, 32, 32] });
}

async function context(mode: TtaMode, settings: Partial<TtaSettings> = {}): Promise<TtaContext> {
  await useBackend();
  await ensureGradients();
  const { model } = loadBackbone(dir, { task: 'image-cls' });
  const peft = injectMethod(model, plan({ preset: 'head-only' }, 'image-cls'), 0);
  return {
    model, peft, mode, classes: 3, settings: { seed: 0, ...settings }, note: () => {},
    sourceData: async () => new Batcher(examples(48, 5), 16, 0, { padId: 0, pixelShape: [3, 32, 32] }, false),
  };
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

test('α-BN: α = 1 is the source model, α = 0 test-time batch statistics; restore leaves the source model', { skip: SKIP_NO_SHARED }, async () => {
  const ctx = await context('online');
  const b = batchOf(examples(8, 1, 0.5));
  const source = softmaxRows(forwardBatch(ctx, b).logits, 3);
  const run = async (name: string, s: Partial<TtaSettings>) => {
    ctx.settings = { seed: 0, ...s };
    const r = await ttaMethod(name)!.start(ctx);
    const p = r.predict(b);
    r.restore();
    return p;
  };
  assert.ok(maxDiff(await run('alpha-bn', { alpha: 1 }), source) < 1e-6);
  const batchStats = await run('bn-stats', {});
  assert.ok(maxDiff(batchStats, source) > 1e-3, 'the test batch\'s statistics differ from the source\'s');
  assert.ok(maxDiff(await run('alpha-bn', { alpha: 0 }), batchStats) < 1e-5);
  const mid = await run('alpha-bn', { alpha: 0.5 });
  assert.ok(maxDiff(mid, source) > 1e-4 && maxDiff(mid, batchStats) > 1e-4);
  assert.ok(maxDiff(softmaxRows(forwardBatch(ctx, b).logits, 3), source) < 1e-7, 'restored');
});

test('test-time batch statistics offline: gathered over the whole file, then used for every batch (one batch: its own)', { skip: SKIP_NO_SHARED }, async () => {
  const on = await context('online');
  const b = batchOf(examples(8, 2, 0.5));
  const r1 = await ttaMethod('bn-stats')!.start(on);
  const online = r1.predict(b);
  r1.restore();
  const off = await context('offline');
  const r2 = await ttaMethod('bn-stats')!.start(off);
  await r2.prepare!([b]);
  const offline = r2.predict(b);
  assert.ok(maxDiff(offline, online) < 1e-4, `${maxDiff(offline, online)}`);
  const before = Array.from(off.model.root.namedBuffers()[0][1].value.dataSync());
  r2.restore();
  assert.notDeepEqual(Array.from(off.model.root.namedBuffers()[0][1].value.dataSync()), before, 'the source statistics are back');
});

test('TENT: predicts with the pass that computes its update, lowers the entropy, trains only γ and β, restores them', { skip: SKIP_NO_SHARED }, async () => {
  const ctx = await context('online', { lr: 0.05 });
  const b = batchOf(examples(12, 3, 0.4));
  const bn = await ttaMethod('bn-stats')!.start(ctx);
  const batchStats = bn.predict(b);
  bn.restore();
  const gammas = () => ctx.model.root.namedParams().filter(([n]) => n.endsWith('normalization.weight')).map(([, p]) => Array.from(p.value.dataSync()));
  const conv = () => Array.from(ctx.model.root.namedParams().find(([n]) => n.endsWith('convolution.weight'))![1].value.dataSync());
  const g0 = gammas();
  const c0 = conv();
  const tent = await ttaMethod('tent')!.start(ctx);
  const first = tent.predict(b);
  assert.ok(maxDiff(first, batchStats) < 1e-5, 'the first prediction is the unadapted pass (with batch statistics)');
  const entropy = (p: Float32Array) => -p.reduce((s, v) => s + v * Math.log(v + 1e-12), 0);
  for (let i = 0; i < 5; i++) tent.predict(b);
  const later = tent.predict(b);
  assert.ok(entropy(later) < entropy(first), `entropy ${entropy(first)} → ${entropy(later)}`);
  assert.notDeepEqual(gammas(), g0);
  assert.deepEqual(conv(), c0, 'convolutions stay frozen');
  tent.restore();
  assert.deepEqual(gammas(), g0);
  assert.ok(ctx.model.root.namedParams().every(([, p]) => !p.trainable || p.tags.has('head')));
  const e = meanEntropy(tf.tensor2d([[0, 0], [100, 0]])).dataSync()[0];
  assert.ok(Math.abs(e - Math.log(2) / 2) < 1e-6);
});

test('LAME: the Laplacian optimisation over the batch\'s L2-normalised pooled features (k = 5)', { skip: SKIP_NO_SHARED }, async () => {
  const ctx = await context('online');
  const b = batchOf(examples(10, 4));
  const out = forwardBatch(ctx, b);
  const want = laplacianOptimization(softmaxRows(out.logits, 3), knnAffinity(l2Rows(out.features!, 10, out.dim), 10, out.dim, 5), 10, 3).Y;
  const r = await ttaMethod('lame')!.start(ctx);
  assert.ok(maxDiff(r.predict(b), want) < 1e-6);
});

test('label-shift adapter: trained on the source data, the head it generates follows the label distribution it is given', { skip: SKIP_NO_SHARED }, async () => {
  const notes: string[] = [];
  const ctx = await context('online');
  ctx.note = (m) => notes.push(m);
  const head = headLinear(ctx, 16);
  const { g, prior } = await trainAdapter(ctx, head, 16);
  assert.match(notes[0], /trained on 48 source examples/);
  assert.deepEqual(Array.from(prior, (v) => +v.toFixed(4)), [0.3333, 0.3333, 0.3333]);
  const b = batchOf(examples(12, 7));
  const f = tf.tensor2d(forwardBatch(ctx, b).features!, [12, 16]);
  const meanProb = (q: number[], c: number) => tf.tidy(() => tf.mean(tf.slice(tf.softmax(adaptedLogits(head, g, f, tf.tensor2d([q]))), [0, c], [-1, 1])).dataSync()[0]);
  for (const c of [0, 1, 2]) {
    const favoured = [0.1, 0.1, 0.1];
    favoured[c] = 0.8;
    const against = [0.45, 0.45, 0.45];
    against[c] = 0.1;
    assert.ok(meanProb(favoured, c) > meanProb(against, c), `class ${c}: p under q favouring it ${meanProb(favoured, c)} > against it ${meanProb(against, c)}`);
  }
  g.dispose();
  // the online runner: estimate → generated head, on top of nothing (base none)
  const r = await ttaMethod('label-shift')!.start(ctx);
  const p = r.predict(b);
  assert.equal(p.length, 36);
  for (let i = 0; i < 12; i++) assert.ok(Math.abs(p[i * 3] + p[i * 3 + 1] + p[i * 3 + 2] - 1) < 1e-5);
  r.restore();
});
