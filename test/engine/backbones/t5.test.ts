import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, assertClose, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { buildBackbone, familyFor, loadBackbone } from '../../../src/engine/backbones/index.js';
import { ForwardContext, type Attachment } from '../../../src/engine/nn/context.js';
import { relativeBucket, relativeBias } from '../../../src/engine/backbones/t5-relative.js';
import { checkParity, fixtureInputs, onWasm } from './parity.js';

const dir = fixture('models', 't5');

function withAttachments(entries: [string, Attachment][], positionOffset = 0): ForwardContext {
  const map = new Map<string, Attachment[]>();
  for (const [k, a] of entries) map.set(k, [...(map.get(k) ?? []), a]);
  return new ForwardContext(map, { training: false, positionOffset });
}

test('T5 matches transformers: relative buckets, RMS norms, scaled tied lm_head, hidden states, loss', { skip: SKIP_NO_SHARED }, async (t) => {
  await useBackend();
  const { model } = checkParity(t, 't5', 'seq2seq', 'T5ForConditionalGeneration');
  assert.deepEqual(model.tied, {
    'encoder.embed_tokens.weight': 'shared.weight', 'decoder.embed_tokens.weight': 'shared.weight', 'lm_head.weight': 'shared.weight',
  });
});

test('T5 on the wasm backend matches transformers', { skip: SKIP_NO_SHARED }, async (t) => {
  await onWasm(t, () => {
    checkParity(t, 't5', 'seq2seq', 'T5ForConditionalGeneration');
  });
});

test('T5 relative position buckets: exact near, log-spaced far, per direction in the encoder, one-sided in the decoder', () => {
  // encoder (bidirectional): 8 buckets = 4 per direction, 2 exact, max distance 20
  const enc = (r: number) => relativeBucket(r, true, 8, 20);
  assert.deepEqual([0, -1, 1, -2, 2, -7, 7, -20, 20, -100].map(enc), [0, 1, 5, 2, 6, 3, 7, 3, 7, 3]);
  // decoder: 8 one-sided buckets, 4 exact; keys after the query share bucket 0
  const dec = (r: number) => relativeBucket(r, false, 8, 20);
  assert.deepEqual([3, 0, -1, -3, -4, -5, -10, -19, -20, -500].map(dec), [0, 0, 1, 3, 4, 4, 6, 7, 7, 7]);
  // t5-base: 32 buckets, max distance 128
  assert.equal(relativeBucket(-100, false, 32, 128), 30);
  assert.equal(relativeBucket(100, true, 32, 128), 16 + 15);
});

test('T5 relative bias with a prefix: queries sit after the p prefix keys (the rows transformers keeps)', () => {
  const table = tf.randomNormal([8, 4], 0, 1, 'float32', 3);
  for (const bidirectional of [true, false]) {
    const full = relativeBias(table, 0, 11, 11, bidirectional, 8, 20);
    const withPrefix = relativeBias(table, 5, 6, 11, bidirectional, 8, 20);
    assert.deepEqual(withPrefix.shape, [1, 4, 6, 11]);
    const rows = tf.slice(full, [0, 0, 5, 0], [-1, -1, 6, -1]);
    assert.deepEqual(Array.from(withPrefix.dataSync()), Array.from(rows.dataSync()));
  }
});

test('T5 sites and tree: HF module paths, relative_attention_bias in block 0 only, cross-attention in the decoder', { skip: SKIP_NO_SHARED }, () => {
  const { model } = buildBackbone(dir, { task: 'seq2seq' });
  const names = model.root.namedParams().map(([n]) => n);
  assert.deepEqual(names.filter((n) => n.includes('relative_attention_bias')), [
    'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', 'decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight',
  ]);
  const modules = new Set(model.root.namedModules().map(([n]) => n));
  const linear = model.sites.filter((s) => s.kind === 'linear' && s.layer === 1);
  for (const s of linear) assert.ok(modules.has(s.path), `${s.path} is not a module`);
  assert.deepEqual(linear.filter((s) => s.stack === 'decoder').map((s) => `${s.position} ${s.path}`), [
    'self_attn.query decoder.block.1.layer.0.SelfAttention.q', 'self_attn.key decoder.block.1.layer.0.SelfAttention.k',
    'self_attn.value decoder.block.1.layer.0.SelfAttention.v', 'self_attn.out_proj decoder.block.1.layer.0.SelfAttention.o',
    'cross_attn.query decoder.block.1.layer.1.EncDecAttention.q', 'cross_attn.key decoder.block.1.layer.1.EncDecAttention.k',
    'cross_attn.value decoder.block.1.layer.1.EncDecAttention.v', 'cross_attn.out_proj decoder.block.1.layer.1.EncDecAttention.o',
    'ffn.up_proj decoder.block.1.layer.2.DenseReluDense.wi', 'ffn.down_proj decoder.block.1.layer.2.DenseReluDense.wo',
  ]);
  assert.ok(!model.sites.some((s) => s.stack === 'encoder' && s.position.startsWith('cross_attn')));
  assert.deepEqual(model.sites.filter((s) => s.layer < 0).map((s) => s.path),
    ['encoder.embeddings.input', 'encoder.embeddings.output', 'decoder.embeddings.input', 'decoder.embeddings.output']);
  assert.equal(new Set(model.sites.map((s) => s.path)).size, model.sites.length, 'site paths are unique');
});

test('T5 v1.1 layout: gated FFN (wi_0 gate, wi_1 up) and an untied lm_head', { skip: SKIP_NO_SHARED }, () => {
  const config = { ...readJson(dir, 'config.json'), feed_forward_proj: 'gated-gelu', tie_word_embeddings: false };
  const model = familyFor(config).build(config, { task: 'seq2seq' });
  const names = model.root.namedParams().map(([n]) => n);
  assert.ok(names.includes('lm_head.weight'));
  assert.ok(names.includes('encoder.block.0.layer.1.DenseReluDense.wi_0.weight'));
  assert.ok(names.includes('decoder.block.1.layer.2.DenseReluDense.wi_1.weight'));
  assert.ok(!names.some((n) => n.endsWith('DenseReluDense.wi.weight')));
  const gate = model.sites.find((s) => s.position === 'ffn.gate_proj' && s.stack === 'encoder' && s.layer === 0);
  assert.equal(gate?.path, 'encoder.block.0.layer.1.DenseReluDense.wi_0');
  assert.deepEqual(model.tied, { 'encoder.embed_tokens.weight': 'shared.weight', 'decoder.embed_tokens.weight': 'shared.weight' });
  assert.throws(() => familyFor(config).build(config, { task: 'seq-cls' }), /not supported on T5/);
  assertClose([model.dims.headDim], [8], 'd_kv');
});

test('T5 decoder prefix = a key/value cache: the relative bias counts the prefix keys, as transformers does with past keys', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model } = loadBackbone(dir, { task: 'seq2seq' });
  const { inputs } = fixtureInputs('t5');
  const kv = new Map<string, tf.Tensor>();
  // kept: in inference a layer's own tensors are freed when it ends (nn/layer-scope.ts)
  const record = (key: string): Attachment => ({ transform: (_x, h) => (kv.set(key, tf.keep(h)), h) });
  const selfSites = model.sites.filter((s) => s.stack === 'decoder' && s.position.startsWith('self_attn.') && s.kind === 'linear');
  const recorders = selfSites.filter((s) => /\.(key|value)$/.test(s.position)).map((s) => [s.path, record(s.path)] as [string, Attachment]);
  const full = model.forward(inputs, withAttachments(recorders)).logits;
  // the first 2 decoder tokens become a prefix of every decoder self-attention
  const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(tf.slice(t, [0, 0, 0], [-1, 2, -1]), [2, 2, 4, 8]), [0, 2, 1, 3]) as tf.Tensor4D;
  const prefixes: [string, Attachment][] = model.sites.filter((s) => s.stack === 'decoder' && s.position === 'self_attn.heads').map((s) => {
    const attn = s.path.replace(/\.heads$/, '');
    return [s.path, { prefix: () => ({ key: heads(kv.get(`${attn}.k`)!), value: heads(kv.get(`${attn}.v`)!) }) }];
  });
  const rest = model.forward({ ...inputs, decoderInputIds: tf.slice(inputs.decoderInputIds!, [0, 2], [-1, 4]) as tf.Tensor2D }, withAttachments(prefixes)).logits;
  const expected = tf.slice(full, [0, 2, 0], [-1, 4, -1]);
  assertClose(rest, { shape: expected.shape, data: Array.from(expected.dataSync()) }, 'logits after the prefix');
});
