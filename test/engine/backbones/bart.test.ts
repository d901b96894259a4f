import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, assertClose, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { loadBackbone, buildBackbone, countParams, type TaskModel } from '../../../src/engine/backbones/index.js';
import { ForwardContext, type Attachment } from '../../../src/engine/nn/context.js';
import { openSafetensors } from '../../../src/engine/io/safetensors.js';
import { shiftRight } from '../../../src/engine/backbones/seq2seq.js';
import { checkParity, fixtureInputs, onWasm } from './parity.js';

const dir = fixture('models', 'bart');

function withAttachments(entries: [string, Attachment][]): ForwardContext {
  const map = new Map<string, Attachment[]>();
  for (const [k, a] of entries) map.set(k, [...(map.get(k) ?? []), a]);
  return new ForwardContext(map, { training: false });
}

function param(model: TaskModel, name: string): tf.Tensor {
  return model.root.namedParams().find(([n]) => n === name)![1].value;
}

test('BART matches transformers: logits (+ final_logits_bias), encoder and decoder hidden states, seq2seq loss', { skip: SKIP_NO_SHARED }, async (t) => {
  await useBackend();
  const { model } = checkParity(t, 'bart', 'seq2seq', 'BartForConditionalGeneration');
  assert.deepEqual(model.tied, {
    'model.encoder.embed_tokens.weight': 'model.shared.weight',
    'model.decoder.embed_tokens.weight': 'model.shared.weight',
    'lm_head.weight': 'model.shared.weight',
  });
});

test('BART on the wasm backend matches transformers', { skip: SKIP_NO_SHARED }, async (t) => {
  await onWasm(t, () => {
    checkParity(t, 'bart', 'seq2seq', 'BartForConditionalGeneration');
  });
});

test('BART final_logits_bias is a loaded buffer, not a parameter', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model } = loadBackbone(dir, { task: 'seq2seq' });
  assert.ok(!model.root.namedParams().some(([n]) => n === 'final_logits_bias'));
  const [[name, bias]] = model.root.namedBuffers();
  assert.equal(name, 'final_logits_bias');
  assert.deepEqual(bias.shape, [1, 100]);
  const file = openSafetensors(`${dir}/model.safetensors`).read('final_logits_bias');
  assert.deepEqual(Array.from(bias.value.dataSync()), Array.from(file));
  const total = model.root.namedParams().reduce((n, [, p]) => n + p.size, 0);
  assert.equal(countParams(model), total);
});

test('BART sites: both stacks, cross-attention in the decoder only, linear sites at HF module paths', { skip: SKIP_NO_SHARED }, () => {
  const { model } = buildBackbone(dir, { task: 'seq2seq' });
  const modules = new Set(model.root.namedModules().map(([n]) => n));
  for (const stack of ['encoder', 'decoder'] as const) {
    const sites = model.sites.filter((s) => s.stack === stack);
    const positions = new Set(sites.map((s) => s.position));
    for (const p of ['embeddings', 'embeddings.output', 'self_attn.query', 'self_attn.key', 'self_attn.value', 'self_attn.heads',
      'self_attn.out_proj', 'self_attn.output', 'ffn.input', 'ffn.up_proj', 'ffn.intermediate', 'ffn.down_proj', 'ffn.output', 'block.output']) {
      assert.ok(positions.has(p), `${stack} misses ${p}`);
    }
    const cross = ['cross_attn.query', 'cross_attn.key', 'cross_attn.value', 'cross_attn.heads', 'cross_attn.out_proj', 'cross_attn.output'];
    for (const p of cross) assert.equal(positions.has(p), stack === 'decoder', `${stack} ${p}`);
    for (const s of sites.filter((s) => s.kind === 'linear')) assert.ok(modules.has(s.path), `${s.path} is not a module`);
    assert.deepEqual(sites.filter((s) => s.layer < 0).map((s) => s.path), [`model.${stack}.embeddings.input`, `model.${stack}.embeddings.output`]);
  }
  assert.deepEqual(model.sites.filter((s) => s.stack === 'decoder' && s.layer === 0 && s.kind === 'linear').map((s) => s.path), [
    'model.decoder.layers.0.self_attn.q_proj', 'model.decoder.layers.0.self_attn.k_proj', 'model.decoder.layers.0.self_attn.v_proj',
    'model.decoder.layers.0.self_attn.out_proj', 'model.decoder.layers.0.encoder_attn.q_proj', 'model.decoder.layers.0.encoder_attn.k_proj',
    'model.decoder.layers.0.encoder_attn.v_proj', 'model.decoder.layers.0.encoder_attn.out_proj', 'model.decoder.layers.0.fc1',
    'model.decoder.layers.0.fc2',
  ]);
  assert.equal(new Set(model.sites.map((s) => s.path)).size, model.sites.length, 'site paths are unique');
  assert.equal(model.dims.decoderLayers, 2);
});

// ---- AdapterHub adapters on BART: the sites mean what the library computes ----

type St = ReturnType<typeof openSafetensors>;
const tensor = (st: St, n: string) => tf.tensor(st.read(n), st.info(n).shape);
const dense = (v: tf.Tensor, w: tf.Tensor, b?: tf.Tensor) => {
  const y = tf.matMul(tf.reshape(v, [-1, w.shape[1]!]) as tf.Tensor2D, w as tf.Tensor2D, false, true);
  return tf.reshape(b ? tf.add(y, b) : y, [...v.shape.slice(0, -1), w.shape[0]!]);
};

/** AdapterHub's `Up(act(Down(v)))` for `<layer>.<slot>_adapters`. */
function bottleneck(st: St, layer: string, slot: string, act: (t: tf.Tensor) => tf.Tensor) {
  const base = `${layer}.${slot}_adapters.adapters.fixture`;
  const [dw, db, uw, ub] = ['adapter_down.0.weight', 'adapter_down.0.bias', 'adapter_up.weight', 'adapter_up.bias'].map((n) => tensor(st, `${base}.${n}`));
  return (v: tf.Tensor) => dense(act(dense(v, dw, db)), uw, ub);
}

function adapterRun(name: string, entries: (model: TaskModel, st: St) => [string, Attachment][], count: number) {
  return async () => {
    await useBackend();
    const adir = fixture('adapters', `bart-${name}`);
    const st = openSafetensors(`${adir}/adapter.safetensors`);
    const { model } = loadBackbone(dir, { task: 'seq2seq' });
    const e = entries(model, st);
    assert.equal(e.length, count);
    const out = model.forward(fixtureInputs('bart').inputs, withAttachments(e));
    assertClose(out.logits, readJson(adir, 'outputs.json').logits, 'logits');
  };
}

const layerOf = (path: string) => path.replace(/\.(self_attn|encoder_attn|ffn)\..*$/, '');
const swish = (t: tf.Tensor) => tf.mul(t, tf.sigmoid(t));

test('BART `self_attn.output` and `ffn.output` (sequential, h before residual + LN) match AdapterHub double_seq_bn', { skip: SKIP_NO_SHARED },
  adapterRun('double_seq_bn', (model, st) => model.sites.filter((s) => s.position === 'self_attn.output' || s.position === 'ffn.output').map((s) => {
    const f = bottleneck(st, layerOf(s.path), s.position === 'ffn.output' ? 'output' : 'attention', swish);
    return [s.path, { transform: (_x, h) => tf.add(h, f(h)) }];
  }), 8));

test('BART `ffn.output` parallel (x = the FFN input) matches AdapterHub par_bn', { skip: SKIP_NO_SHARED },
  adapterRun('par_bn', (model, st) => model.sites.filter((s) => s.position === 'ffn.output').map((s) => {
    const f = bottleneck(st, layerOf(s.path), 'output', (t) => tf.relu(t));
    return [s.path, { transform: (x, h) => tf.add(h, tf.mul(f(x), 4)) }];
  }), 4));

test('BART `ffn.output` with the layer\'s own LayerNorm (original_ln_before) matches AdapterHub seq_bn', { skip: SKIP_NO_SHARED },
  adapterRun('seq_bn', (model, st) => model.sites.filter((s) => s.position === 'ffn.output').map((s) => {
    const layer = layerOf(s.path);
    const f = bottleneck(st, layer, 'output', (t) => tf.relu(t));
    const [w, b] = [param(model, `${layer}.final_layer_norm.weight`), param(model, `${layer}.final_layer_norm.bias`)];
    const ln = (v: tf.Tensor) => {
      const m = tf.moments(v, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(v, m.mean), tf.sqrt(tf.add(m.variance, 1e-5))), w), b);
    };
    // post-LN: the layer computes LN(x + h'); h' = h + f(LN(h + x)) gives AdapterHub's formula
    return [s.path, { transform: (x, h) => tf.add(h, f(ln(tf.add(h, x)))) }];
  }), 4));

test('BART `attn.query` / `attn.value` of every attention (cross included) match AdapterHub LoRA', { skip: SKIP_NO_SHARED },
  adapterRun('lora', (model, st) => model.sites.filter((s) => /attn\.(query|value)$/.test(s.position)).map((s) => {
    const [A, B] = ['lora_A', 'lora_B'].map((n) => tensor(st, `${s.path}.loras.fixture.${n}`));
    return [s.path, { transform: (x, h) => tf.add(h, dense(dense(x, A), B)) }];
  }), 12));

test('BART `attn.key` / `attn.value` and `ffn.up_proj` scaled by a vector match AdapterHub (IA)³', { skip: SKIP_NO_SHARED },
  adapterRun('ia3', (model, st) => model.sites.filter((s) => /attn\.(key|value)$/.test(s.position) || s.position === 'ffn.up_proj').map((s) => {
    const l = tf.reshape(tensor(st, `${s.path}.loras.fixture.lora_B`), [-1]);
    return [s.path, { transform: (_x, h) => tf.mul(h, l) }];
  }), 16));

test('BART `self_attn.heads` (both stacks) and `cross_attn.heads` take AdapterHub prefix tuning\'s keys and values', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const adir = fixture('adapters', 'bart-prefix_tuning');
  const expected = readJson(adir, 'outputs.json');
  const { model } = loadBackbone(dir, { task: 'seq2seq' });
  const where: Record<string, string> = { 'encoder:self_attn.heads': 'encoder_prefix', 'decoder:self_attn.heads': 'self_prefix', 'decoder:cross_attn.heads': 'cross_prefix' };
  const entries: [string, Attachment][] = [];
  for (const s of model.sites.filter((s) => s.kind === 'heads')) {
    const kv = expected.prefix_key_values[where[`${s.stack}:${s.position}`]];
    const all = tf.tensor(kv.data, kv.shape); // [layers, 2, H, P, d]
    const pick = (i: number, B: number) => tf.tile(tf.reshape(tf.slice(all, [s.layer, i, 0, 0, 0], [1, 1, -1, -1, -1]), [1, 4, 5, 8]), [B, 1, 1, 1]) as tf.Tensor4D;
    entries.push([s.path, { prefix: (B) => ({ key: pick(0, B), value: pick(1, B) }) }]);
  }
  assert.equal(entries.length, 6);
  assertClose(model.forward(fixtureInputs('bart').inputs, withAttachments(entries)).logits, expected.logits, 'logits');
});

test('BART sequence classification: classification_head on the decoder state at the last eos, decoder inputs shifted right', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model, report } = loadBackbone(dir, { task: 'seq-cls', numLabels: 3 });
  assert.equal(model.architecture, 'BartForSequenceClassification');
  assert.deepEqual(model.headPrefixes, ['classification_head']);
  assert.deepEqual(report.initialized.sort(), ['classification_head.dense.bias', 'classification_head.dense.weight', 'classification_head.out_proj.bias', 'classification_head.out_proj.weight']);
  assert.deepEqual(report.unused, ['final_logits_bias']);
  const { inputIds, attentionMask } = fixtureInputs('bart').inputs;
  const inputs = { inputIds, attentionMask };
  const out = model.forward(inputs, ForwardContext.plain(false));
  assert.deepEqual(out.logits.shape, [2, 3]);
  // eos (2) is at position 7 in row 0 and 4 in row 1
  const at = (b: number, t: number) => tf.reshape(tf.slice(out.lastHidden, [b, t, 0], [1, 1, -1]), [32]);
  assertClose(out.pooled!, { shape: [2, 32], data: [...at(0, 7).dataSync(), ...at(1, 4).dataSync()] }, 'pooled');
  // the decoder saw the ids shifted right after decoder_start_token_id
  const shifted = shiftRight(inputs.inputIds!, 1, 2);
  assert.deepEqual(Array.from(shifted.dataSync()), [2, 0, 15, 37, 8, 91, 23, 44, 2, 0, 63, 27, 81, 2, 1, 1]);
  const explicit = model.forward({ ...inputs, decoderInputIds: shifted }, ForwardContext.plain(false));
  assert.deepEqual(explicit.logits.dataSync(), out.logits.dataSync());
});

test('BART decoder prefix + position offset = a key/value cache (Python peft prefix tuning shifts decoder positions only)', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model } = loadBackbone(dir, { task: 'seq2seq' });
  const { inputs } = fixtureInputs('bart');
  const kv = new Map<string, tf.Tensor>();
  const recorders: [string, Attachment][] = model.sites
    .filter((s) => s.stack === 'decoder' && /^self_attn\.(key|value)$/.test(s.position))
    // kept: in inference a layer's own tensors are freed when it ends (nn/layer-scope.ts)
    .map((s) => [s.path, { transform: (_x, h) => (kv.set(s.path, tf.keep(h)), h) }]);
  const full = model.forward(inputs, withAttachments(recorders)).logits;
  const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(tf.slice(t, [0, 0, 0], [-1, 2, -1]), [2, 2, 4, 8]), [0, 2, 1, 3]) as tf.Tensor4D;
  const prefixes: [string, Attachment][] = model.sites.filter((s) => s.stack === 'decoder' && s.position === 'self_attn.heads').map((s) => {
    const attn = s.path.replace(/\.heads$/, '');
    return [s.path, { prefix: () => ({ key: heads(kv.get(`${attn}.k_proj`)!), value: heads(kv.get(`${attn}.v_proj`)!) }) }];
  });
  const map = new Map(prefixes.map(([k, a]) => [k, [a]]));
  const ctx = new ForwardContext(map, { training: false, positionOffset: 2 });
  const rest = model.forward({ ...inputs, decoderInputIds: tf.slice(inputs.decoderInputIds!, [0, 2], [-1, 4]) as tf.Tensor2D }, ctx);
  const expected = tf.slice(full, [0, 2, 0], [-1, 4, -1]);
  assertClose(rest.logits, { shape: expected.shape, data: Array.from(expected.dataSync()) }, 'logits after the prefix');
  // the encoder is not shifted
  const plain = model.forward(inputs, ForwardContext.plain(false));
  assert.deepEqual(rest.encoderLastHidden!.dataSync(), plain.encoderLastHidden!.dataSync());
});
