// Shared by the GPT-2, BART, mBART and T5 parity tests: the fixture's inputs as model inputs,
// the comparison of every output against outputs.json with the fixtures' tolerance (and the
// worst relative error, reported as a test diagnostic), and running a check on the wasm backend.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, toTensor, assertClose, useBackend, type JsonTensor } from '../../helpers/fixtures.js';
import { loadBackbone, type ModelInputs, type ModelOutputs, type TaskModel } from '../../../src/engine/backbones/index.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { initBackend } from '../../../src/engine/backend/index.js';
import { causalLmLoss, seq2seqLoss } from '../../../src/engine/train/losses.js';
import type { TaskType } from '../../../src/plan/index.js';

export function fixtureInputs(name: string): { inputs: ModelInputs; labels: tf.Tensor2D } {
  const raw = readJson(fixture('models', name), 'inputs.json');
  const inputs: ModelInputs = {
    inputIds: toTensor(raw.input_ids, 'int32') as tf.Tensor2D,
    attentionMask: toTensor(raw.attention_mask, 'int32') as tf.Tensor2D,
  };
  if (raw.decoder_input_ids) inputs.decoderInputIds = toTensor(raw.decoder_input_ids, 'int32') as tf.Tensor2D;
  return { inputs, labels: toTensor(raw.labels, 'int32') as tf.Tensor2D };
}

/**
 * Largest |a − b| / |b| over elements with |b| ≥ `floor` (smaller ones only have the absolute
 * bound), and the largest error as a fraction of the fixtures' tolerance 1e-4·|b| + 1e-5.
 */
export function errors(a: tf.Tensor | number[], e: JsonTensor | number[], floor = 1e-2): { relative: number; ofTolerance: number } {
  const x = a instanceof tf.Tensor ? a.dataSync() : a;
  const y = Array.isArray(e) ? e : e.data;
  let relative = 0;
  let ofTolerance = 0;
  for (let i = 0; i < y.length; i++) {
    const err = Math.abs(x[i] - y[i]);
    if (Math.abs(y[i]) >= floor) relative = Math.max(relative, err / Math.abs(y[i]));
    ofTolerance = Math.max(ofTolerance, err / (1e-4 * Math.abs(y[i]) + 1e-5));
  }
  return { relative, ofTolerance };
}

/** Compares and remembers the worst errors. */
export class Comparer {
  relative = 0;
  relativeAt = '';
  ofTolerance = 0;
  ofToleranceAt = '';
  check(actual: tf.Tensor | number[], expected: JsonTensor | number[], what: string): void {
    assertClose(actual, expected, what);
    const r = errors(actual, expected);
    if (r.relative > this.relative) [this.relative, this.relativeAt] = [r.relative, what];
    if (r.ofTolerance > this.ofTolerance) [this.ofTolerance, this.ofToleranceAt] = [r.ofTolerance, what];
  }

  report(t: TestContext): void {
    t.diagnostic(`${tf.getBackend()}: worst relative error ${this.relative.toExponential(2)} where |expected| ≥ 1e-2 (${this.relativeAt}); `
      + `worst error ${this.ofTolerance.toFixed(2)}× the tolerance (${this.ofToleranceAt})`);
  }
}

/** Loads models/<name>, runs it on its inputs with hidden states, and checks every output there is. */
export function checkParity(t: TestContext, name: string, task: TaskType, architecture: string): { model: TaskModel; out: ModelOutputs } {
  const dir = fixture('models', name);
  const expected = readJson(dir, 'outputs.json');
  const { model, report } = loadBackbone(dir, { task });
  assert.equal(model.architecture, architecture);
  assert.deepEqual(report.unused, [], 'every tensor of the checkpoint is used');
  assert.deepEqual(report.initialized, [], 'nothing is missing from the checkpoint');
  const { inputs, labels } = fixtureInputs(name);
  const out = model.forward(inputs, ForwardContext.plain(false), { hiddenStates: true });
  const c = new Comparer();
  c.check(out.logits, expected.logits, 'logits');
  if (expected.last_hidden_state) c.check(out.lastHidden, expected.last_hidden_state, 'last_hidden_state');
  if (expected.hidden_states) {
    assert.equal(out.hiddenStates!.length, expected.hidden_states.length);
    out.hiddenStates!.forEach((h, i) => c.check(h, expected.hidden_states[i], `hidden_states[${i}]`));
  }
  if (expected.encoder_last_hidden_state) c.check(out.encoderLastHidden!, expected.encoder_last_hidden_state, 'encoder_last_hidden_state');
  for (const key of ['encoder_hidden_states', 'decoder_hidden_states'] as const) {
    if (!expected[key]) continue;
    const ours = key === 'encoder_hidden_states' ? out.encoderHiddenStates! : out.decoderHiddenStates!;
    assert.equal(ours.length, expected[key].length, key);
    ours.forEach((h, i) => c.check(h, expected[key][i], `${key}[${i}]`));
  }
  const loss = task === 'seq2seq'
    ? seq2seqLoss(out.logits as tf.Tensor3D, labels)
    : causalLmLoss(out.logits as tf.Tensor3D, labels);
  c.check([loss.dataSync()[0]], [expected.loss_with_labels], 'loss_with_labels');
  c.report(t);
  return { model, out };
}

/** Runs `fn` on the wasm backend (as the engine initialises it), or skips when wasm does not load. */
export async function onWasm(t: TestContext, fn: () => void): Promise<void> {
  try {
    await initBackend('wasm');
  } catch (e) {
    t.skip(`wasm backend unavailable: ${(e as Error).message}`);
    return;
  }
  try {
    fn();
  } finally {
    await useBackend('cpu');
  }
}
