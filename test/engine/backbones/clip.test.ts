// CLIP against transformers (../shared/fixtures/models/clip): both towers, the projections and
// the contrastive logits on cpu and wasm; the zero-shot head (label prompts, template averaging)
// and the stacks `text` / `vision` of its sites.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, toTensor, assertClose, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { loadBackbone } from '../../../src/engine/backbones/index.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { listBackends } from '../../../src/engine/backend/index.js';
import { injectMethod } from '../../../src/engine/methods/index.js';
import { plan, randomize, maxDiff } from '../methods/helpers.js';

const dir = fixture('models', 'clip');
const raw = () => readJson(dir, 'inputs.json');
const pixels = () => toTensor(raw().pixel_values) as tf.Tensor4D;

for (const backend of ['cpu', 'wasm']) {
  test(`CLIP matches transformers on ${backend}: logits_per_image, text and image embeddings, text states, vision pooler`, { skip: SKIP_NO_SHARED }, async (t) => {
    if (!(await listBackends()).find((s) => s.name === backend)?.available) return t.skip(`${backend} unavailable`);
    await useBackend(backend);
    const expected = readJson(dir, 'outputs.json');
    const { model, report } = loadBackbone(dir, { task: 'clip-cls' });
    assert.deepEqual([report.unused, report.initialized], [[], []]);
    const r = raw();
    const out = model.forward({ pixelValues: pixels(), inputIds: toTensor(r.input_ids, 'int32') as tf.Tensor2D, attentionMask: toTensor(r.attention_mask, 'int32') as tf.Tensor2D }, ForwardContext.plain(false));
    assertClose(out.logits, expected.logits_per_image, 'logits_per_image');
    assertClose(out.towers!.textEmbeds, expected.text_embeds, 'text_embeds');
    assertClose(out.towers!.imageEmbeds, expected.image_embeds, 'image_embeds');
    assertClose(out.towers!.textLastHidden!, expected.text_last_hidden_state, 'text last_hidden_state');
    assertClose(out.towers!.visionPooled, expected.vision_pooler_output, 'vision pooler_output');
  });
}

test('clip-cls zero-shot head: each label\'s templates encoded, averaged, renormalised; modules in either tower change it', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model } = loadBackbone(dir, { task: 'clip-cls' });
  assert.throws(() => model.forward({ pixelValues: pixels() }, ForwardContext.plain(false)), /no label prompts/);
  // 2 labels × 2 templates, ids as a tokenizer would give them (bos 0 … eos 2, the highest id at the end)
  const rows = [[0, 10, 11, 2], [0, 12, 11, 2], [0, 10, 13, 2], [0, 12, 13, 2]].map((r) => r.map((v) => (v === 2 ? 99 : v)));
  model.setLabelPrompts!({ ids: tf.tensor2d(rows, [4, 4], 'int32'), mask: tf.ones([4, 4]) as tf.Tensor2D, labels: 2, templates: 2 });
  const ctx = ForwardContext.plain(false);
  const zero = model.forward({ pixelValues: pixels() }, ctx);
  const each = model.forward({ pixelValues: pixels(), inputIds: tf.tensor2d(rows, [4, 4], 'int32') }, ctx).towers!.textEmbeds;
  const mean = tf.mean(tf.reshape(each, [2, 2, 16]), 1);
  const label = tf.div(mean, tf.norm(mean, 2, 1, true));
  const want = tf.mul(tf.matMul(zero.towers!.imageEmbeds, label, false, true), tf.exp(model.root.namedParams().find(([n]) => n === 'logit_scale')![1].value));
  assertClose(zero.logits, Array.from(want.dataSync()), 'zero-shot logits');
  const stacks = new Set(model.sites.map((s) => s.stack));
  assert.deepEqual([...stacks].sort(), ['text', 'vision']);
  // prompt tuning on the text tower: vectors drawn from the token embeddings, prepended to every label prompt
  const prompt = injectMethod(model, plan({ preset: 'prompt', length: 3, position: 'text.embeddings' }, 'clip-cls'), 0);
  assert.ok(maxDiff(model.forward({ pixelValues: pixels() }, prompt.context({ training: false })).logits, zero.logits) > 1e-4, 'prompt');
  for (const position of ['text.attn.value', 'vision.attn.value']) {
    const peft = injectMethod(model, plan({ preset: 'lora', position, rank: 2 }, 'clip-cls'), 0);
    randomize(peft);
    assert.ok(peft.modules[0].sites.every((s) => s.stack === position.split('.')[0]));
    assert.ok(maxDiff(model.forward({ pixelValues: pixels() }, peft.context({ training: false })).logits, zero.logits) > 1e-4, position);
  }
});
