// lowrank with factorization: tucker (FLoRA) against the authors' code (test/fixtures/reference/
// flora: their FLoRALayer on an nn.Linear(16, 12) and an nn.Conv2d(4, 6, 3, padding 1)): the
// assembled ΔW in the base weight's layout, the adapted output, the merged weight, the gradients
// of every core and factor, zero change at the authors' init, and the trainable count formula.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { REPO, assertClose, useBackend } from '../../helpers/fixtures.js';
import { ensureGradients } from '../../../src/engine/backend/index.js';
import { openSafetensors } from '../../../src/engine/io/safetensors.js';
import { Conv2d } from '../../../src/engine/nn/conv.js';
import { Linear } from '../../../src/engine/nn/linear.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { TuckerConv, TuckerLinear, coreRanks } from '../../../src/engine/methods/tucker-modules.js';
import { tuckerProduct } from '../../../src/engine/methods/tucker.js';
import { seededInit } from '../../../src/engine/methods/init.js';
import type { SiteInfo } from '../../../src/engine/backbones/types.js';
import { plan } from './helpers.js';

const ref = openSafetensors(join(REPO, 'test', 'fixtures', 'reference', 'flora', 'tensors.safetensors'));
const t = (name: string) => tf.tensor(ref.read(name), ref.info(name).shape);
const values = (x: tf.Tensor) => Array.from(x.dataSync());
const nchw = (x: tf.Tensor) => tf.transpose(x, [0, 3, 1, 2]);
const nhwc = (x: tf.Tensor) => tf.transpose(x, [0, 2, 3, 1]);

function tuckerPlan(scale: number, coreRanksGiven: number[]) {
  return plan({ function: 'lowrank', factorization: 'tucker', position: 'conv', rank: coreRanksGiven[0], core: coreRanksGiven, composition: 'scaled', scale }, 'image-cls').modules[0];
}

test('tuckerProduct is G ×₀ P0 ×₁ P1 ×₂ P2 ×₃ P3 (the authors\' tensordot chain)', async () => {
  await useBackend();
  const delta = tuckerProduct(t('conv.param_G'), [0, 1, 2, 3].map((i) => t(`conv.param_${i}`)));
  // [in, out, kh, kw] → the base layout [out, in, kh, kw]
  assertClose(tf.transpose(delta, [1, 0, 2, 3]).mul(4), values(t('conv.delta_w')), 'conv ΔW');
  const lin = tuckerProduct(t('linear.param_G'), [t('linear.param_0'), t('linear.param_1')]);
  assertClose(tf.transpose(lin).mul(2), values(t('linear.delta_w')), 'linear ΔW');
});

test('FLoRA at a convolution: output, merged kernel and gradients equal the authors\' Conv2D layer', async () => {
  await useBackend();
  await ensureGradients();
  const base = new Conv2d(4, 6, { kernel: 3, padding: 1, bias: true });
  base.nameTree();
  base.weight.set(t('conv.W'));
  base.bias!.set(t('conv.bias'));
  const site = { path: 'conv', conv: { kernel: [3, 3], stride: [1, 1], padding: base.padding, dilation: [1, 1], groups: 1 }, inDim: 4, outDim: 6 } as unknown as SiteInfo;
  assert.deepEqual(coreRanks(site, 3, [3, 4, 2, 2]), [3, 4, 2, 2]);
  const m = new TuckerConv(site.conv!, [4, 6, 3, 3], [3, 4, 2, 2]);
  m.configureComposition(tuckerPlan(4, [3, 4, 2, 2]), 4);
  m.nameTree();
  assert.equal(m.namedParams().reduce((n, [, p]) => n + p.size, 0), 96, 'prod(r) + Σ dims·r');
  m.core.set(t('conv.param_G'));
  m.factors.forEach((f, i) => f.set(t(`conv.param_${i}`)));
  const ctx = new ForwardContext(new Map([['conv', [m]]]), { training: false });
  const x = nhwc(t('conv.x'));
  const y = ctx.site('conv', x, (u) => base.forward(u));
  assertClose(nchw(y), values(t('conv.y')), 'y');

  for (const p of [m.core, ...m.factors]) p.makeTrainable();
  const G = nhwc(t('conv.G'));
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(ctx.site('conv', x, (u) => base.forward(u)), G)) as tf.Scalar,
    [m.core, ...m.factors].map((p) => p.variable));
  assertClose(grads[m.core.variable.name], values(t('conv.grad_G')), 'dL/dG', 1e-4, 1e-4);
  m.factors.forEach((f, i) => assertClose(grads[f.variable.name], values(t(`conv.grad_param_${i}`)), `dL/dparam_${i}`, 1e-4, 1e-4));

  const fold = m.fold();
  assert.equal(fold.kind, 'filter-delta');
  if (fold.kind === 'filter-delta') assertClose(tf.add(base.weight.value, base.fromFilter(fold.filter())), values(t('conv.merged_w')), 'merged W');
});

test('FLoRA at a projection: output and gradients equal the authors\' Linear layer; zero core = base output', async () => {
  await useBackend();
  await ensureGradients();
  const base = new Linear(16, 12);
  base.nameTree();
  base.weight.set(t('linear.W'));
  base.bias!.set(t('linear.bias'));
  const m = new TuckerLinear([16, 12], [4, 3]);
  m.configureComposition(plan({ function: 'lowrank', factorization: 'tucker', position: 'attn.query', rank: 4, core: [4, 3], composition: 'scaled', scale: 2 }).modules[0], 16);
  m.nameTree();
  assert.equal(m.namedParams().reduce((n, [, p]) => n + p.size, 0), 112);
  m.factors.forEach((f, i) => f.set(t(`linear.param_${i}`)));
  const ctx = new ForwardContext(new Map([['lin', [m]]]), { training: false });
  const x = t('linear.x');
  m.core.set(tf.zeros([4, 3]));
  assertClose(ctx.linear('lin', x, base), values(t('linear.y_init')), 'y with G = 0');
  m.core.set(t('linear.param_G'));
  assertClose(ctx.linear('lin', x, base), values(t('linear.y')), 'y');
  for (const p of [m.core, ...m.factors]) p.makeTrainable();
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(ctx.linear('lin', x, base), t('linear.G'))) as tf.Scalar, [m.core, ...m.factors].map((p) => p.variable));
  assertClose(grads[m.core.variable.name], values(t('linear.grad_G')), 'dL/dG', 1e-4, 1e-4);
  m.factors.forEach((f, i) => assertClose(grads[f.variable.name], values(t(`linear.grad_param_${i}`)), `dL/dparam_${i}`, 1e-4, 1e-4));
  const fold = m.fold();
  if (fold.kind !== 'delta') assert.fail('a projection\'s Tucker update folds as a ΔW');
  assertClose(tf.add(base.weight.value, tf.transpose(fold.matrix())), values(t('linear.merged_w')), 'merged W');
});

test('FLoRA init: zero core (no change at first), factors N(0, 1/(2·r_i))', async () => {
  await useBackend();
  const m = new TuckerLinear([64, 48], [8, 8]);
  m.nameTree();
  m.init(seededInit(3), false);
  assert.equal(tf.max(tf.abs(m.core.value)).dataSync()[0], 0);
  const std = Math.sqrt(tf.moments(m.factors[0].value).variance.dataSync()[0]);
  assert.ok(Math.abs(std - Math.sqrt(1 / 16)) < 0.03, `factor std ${std}`);
});
