// Mixture-of-Domain-Adapters against the authors' RobertaOutput + MoeGating
// (test/fixtures/reference/mixda): gate weights from the last position, each domain adapter's
// output, the mixture with the FFN output as the last expert, the output LayerNorm on top, and
// the gradients of every adapter and gate parameter; then a domain stage's form (h + e_j).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose } from '../../helpers/fixtures.js';
import { reference } from '../../helpers/reference.js';
import { MixtureOfAdapters } from '../../../src/engine/methods/mixture.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';

const GATE_LINEARS = [1, 4, 7, 10];

/** Our parameter name → theirs. */
function theirName(ours: string): string {
  const e = /^experts\.(\d)\.(down|up)\.(weight|bias)$/.exec(ours);
  if (e) return `kas.${e[1]}.${e[2] === 'down' ? 'adapter_down.0' : 'adapter_up'}.${e[3]}`;
  const g = /^gate\.(\d)\.(weight|bias)$/.exec(ours)!;
  return `gating.linear.${GATE_LINEARS[Number(g[1])]}.${g[2]}`;
}

test('the gated mixture equals the authors\' MixDA layer: gate, experts, mixture, output and gradients', async () => {
  await useBackend();
  const ref = reference('mixda');
  const cfg = ref.case.config;
  const m = new MixtureOfAdapters(cfg.intermediate, cfg.hidden, {
    n_experts: cfg.num_domain_adapters, bottleneck: 16, nonlinearity: 'gelu', gate_hidden: cfg.gate_hidden, gate_layers: 3, gate_input: 'last', init: 'lora', dropout: 0,
  });
  const params = m.namedParams();
  for (const [name, p] of params) {
    p.set(ref.t(`param.${theirName(name)}`));
    p.makeTrainable();
  }
  const perAdapter = params.filter(([n]) => n.startsWith('experts.0.')).reduce((n, [, p]) => n + p.size, 0);
  assert.equal(perAdapter, ref.case.scalars.domain_adapter_params / cfg.num_domain_adapters);
  assert.equal(params.filter(([n]) => n.startsWith('gate.')).reduce((n, [, p]) => n + p.size, 0), ref.case.scalars.gate_params);
  const x = ref.t('h_intermediate');
  const dense = (u: tf.Tensor) => tf.add(tf.reshape(tf.matMul(tf.reshape(u, [-1, 16]) as tf.Tensor2D, ref.t('param.dense.weight') as tf.Tensor2D, false, true), [2, 3, 8]), ref.t('param.dense.bias'));
  const layerNorm = (u: tf.Tensor) => {
    const c = tf.sub(u, tf.mean(u, -1, true));
    return tf.add(tf.mul(tf.div(c, tf.sqrt(tf.add(tf.mean(tf.square(c), -1, true), cfg.layer_norm_eps))), ref.t('param.LayerNorm.weight')), ref.t('param.LayerNorm.bias'));
  };
  const forward = () => layerNorm(tf.add(m.mix(x, dense(x), null), ref.t('input_tensor')));
  assertClose(tf.reshape(m.gateWeights(x, null), [2, 1, 3]), ref.j('gate_weights'), 'gate weights');
  assertClose(m.expert(0, x), ref.j('expert0_output'), 'expert 0');
  assertClose(m.expert(1, x), ref.j('expert1_output'), 'expert 1');
  assertClose(tf.reshape(m.mix(x, dense(x), null), [2, 3, 8, 1]), ref.j('mixture'), 'mixture');
  assertClose(forward(), ref.j('final_output'), 'layer output');
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(forward(), ref.t('G'))) as tf.Scalar, params.map(([, p]) => p.variable));
  assertClose([value.dataSync()[0]], [ref.case.scalars.loss], 'loss');
  for (const [name, p] of params) assertClose(grads[p.variable.name], ref.j(`grad.${theirName(name)}`), `d/d ${theirName(name)}`);
});

test('a domain stage trains one adapter beside the FFN: h + e_j, and the gate is not used', async () => {
  await useBackend();
  const ref = reference('mixda');
  const m = new MixtureOfAdapters(16, 8, { n_experts: 2, bottleneck: 16, nonlinearity: 'gelu', gate_hidden: 8, gate_layers: 3, gate_input: 'last', init: 'lora', dropout: 0 });
  for (const [name, p] of m.namedParams()) p.set(ref.t(`param.${theirName(name)}`));
  const x = ref.t('h_intermediate');
  const h = ref.t('expert_ffn_output');
  m.setMode({ kind: 'expert', index: 1 });
  const ctx = new ForwardContext(new Map(), { training: false });
  assertClose(m.transform(x, h, ctx), { shape: [2, 3, 8], data: Array.from(tf.add(h, ref.t('expert1_output')).dataSync()) }, 'h + e_1');
});
