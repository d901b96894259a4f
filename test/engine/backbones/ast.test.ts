// The Audio Spectrogram Transformer against transformers (../shared/fixtures/models/ast): the
// overlapping-patch embedding over log-mel frames, the two tokens' mean as the head's input,
// logits on cpu and wasm; its sites; prompts after the two tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, toTensor, assertClose, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { loadBackbone, buildBackbone } from '../../../src/engine/backbones/index.js';
import { ForwardContext, type Attachment } from '../../../src/engine/nn/context.js';
import { listBackends } from '../../../src/engine/backend/index.js';

const dir = fixture('models', 'ast');
const inputs = () => ({ inputValues: toTensor(readJson(dir, 'inputs.json').input_values) as tf.Tensor3D });

for (const backend of ['cpu', 'wasm']) {
  test(`AST matches transformers on ${backend}: logits; the encoder output`, { skip: SKIP_NO_SHARED }, async (t) => {
    if (!(await listBackends()).find((s) => s.name === backend)?.available) return t.skip(`${backend} unavailable`);
    await useBackend(backend);
    const expected = readJson(dir, 'outputs.json');
    const { model, report } = loadBackbone(dir, { task: 'audio-cls' });
    assert.equal(model.architecture, 'ASTForAudioClassification');
    assert.deepEqual([report.unused, report.initialized], [[], []]);
    const out = model.forward(inputs(), ForwardContext.plain(false), { hiddenStates: true });
    assertClose(out.logits, expected.logits, 'logits');
    // the fixture's last_hidden_state is the last layer's output before ASTModel's final LayerNorm
    // (the logits, which go through that LayerNorm, match); our lastHidden is after it, as transformers returns
    assertClose(out.hiddenStates![out.hiddenStates!.length - 1], expected.last_hidden_state, 'last layer output');
  });
}

test('AST sites: ViT-style positions under audio_spectrogram_transformer, prompts after the CLS and distillation tokens', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model } = loadBackbone(dir, { task: 'audio-cls' });
  assert.deepEqual(model.sites.filter((s) => s.layer < 0).map((s) => s.path), ['audio_spectrogram_transformer.embeddings.output']);
  assert.ok(model.sites.some((s) => s.path === 'audio_spectrogram_transformer.encoder.layer.1.attention.attention.query' && s.position === 'self_attn.query'));
  const plain = model.forward(inputs(), ForwardContext.plain(false));
  // zero vectors prepended: the sequence grows, the head still reads the two tokens
  const ctx = new ForwardContext(new Map<string, Attachment[]>([['audio_spectrogram_transformer.embeddings.output', [{ prepend: (B) => tf.zeros([B, 3, 32]) as tf.Tensor3D }]]]), { training: false });
  const out = model.forward(inputs(), ctx);
  assert.deepEqual(out.lastHidden.shape, [2, 15, 32]);
  assert.notDeepEqual(Array.from(out.logits.dataSync()), Array.from(plain.logits.dataSync()));
  assert.throws(() => model.forward({ inputValues: tf.zeros([1, 32, 32]) as tf.Tensor3D }, ForwardContext.plain(false)), /expected 64 frames × 32 mel bins/);
  assert.throws(() => buildBackbone(dir, { task: 'image-cls' }), /not supported on ast/);
});
