// Every preset trains on LLaMA (stories260K) on the wasm backend: ~20 AdamW steps on a tiny
// causal-LM batch (seq-cls for head-only) lower the loss, the frozen backbone does not move by a
// single bit, and the adapter saved with saveAdapter reloads onto a fresh backbone to the
// trained model's logits.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { REPO, assertClose } from '../../helpers/fixtures.js';
import { initBackend } from '../../../src/engine/backend/index.js';
import { loadBackbone, type TaskModel } from '../../../src/engine/backbones/index.js';
import { injectMethod, selectTrainable } from '../../../src/engine/methods/index.js';
import { compileMethod } from '../../../src/plan/index.js';
import { PRESET_NAMES } from '../../../src/plan/index.js';
import { createOptimizer } from '../../../src/engine/train/optim/index.js';
import { taskLoss, batchInputs } from '../../../src/engine/train/task-loss.js';
import type { Batch } from '../../../src/engine/data/batches.js';
import type { TaskPlan } from '../../../src/plan/index.js';
import { loadTokenizer } from '../../../src/engine/tokenizers/index.js';
import { saveAdapter } from '../../../src/engine/adapters/peft/save.js';
import { measureSensitivity } from '../../../src/engine/selection/index.js';
import { loadAdapter } from '../../../src/engine/adapters/peft/load.js';

const STORIES = join(REPO, 'assets', 'models', 'stories260K');
const STEPS = 20;
/** Learning rates a few presets need to move visibly in 20 steps (AdamW default otherwise). */
const LR: Record<string, number> = { full: 2e-3, prompt: 5e-2, prefix: 5e-3, mam: 1e-3, hft: 2e-3, 'mask-tuning': 1e-3 };

const TEXTS = [
  'Once upon a time, there was a little girl named Lily. She loved to play in the park with her ball.',
  'One day, a big dog came to the park. Lily was scared, but the dog was kind.',
];

/** Two stories' first tokens, the second row right-padded: a tiny causal-LM (or seq-cls) batch. */
async function tinyBatch(task: TaskPlan['type']): Promise<Batch> {
  const tok = await loadTokenizer(STORIES);
  const rows = TEXTS.map((s) => tok.encode(s).slice(0, 16));
  const T = Math.max(...rows.map((r) => r.length));
  const inputIds = new Int32Array(rows.length * T);
  const attentionMask = new Float32Array(rows.length * T);
  rows.forEach((r, b) => r.forEach((id, t) => {
    inputIds[b * T + t] = id;
    attentionMask[b * T + t] = 1;
  }));
  const batch: Batch = { size: rows.length, seqLen: T, inputIds, attentionMask, tokens: rows.reduce((n, r) => n + r.length, 0) };
  if (task === 'seq-cls') batch.labels = new Float32Array([0, 1]);
  return batch;
}

function taskPlan(type: TaskPlan['type']): TaskPlan {
  return { type, numLabels: type === 'seq-cls' ? 2 : null, labels: null, pooling: null, labelSmoothing: 0 };
}

function backbone(task: TaskPlan): TaskModel {
  return loadBackbone(STORIES, { task: task.type, numLabels: task.numLabels ?? undefined, seed: 0 }).model;
}

function logitsOf(model: TaskModel, peft: ReturnType<typeof injectMethod>, batch: Batch): Float32Array {
  return tf.tidy(() => model.forward(batchInputs(batch), peft.context({ training: false })).logits.dataSync() as Float32Array);
}

before(async () => {
  await import('@tensorflow/tfjs-backend-wasm');
  await initBackend('wasm');
});

/**
 * Presets that need what this plain causal-LM batch on stories260K lacks; each trains in its own
 * tests, named here.
 */
const ELSEWHERE: Record<string, string> = {
  'conv-lora': 'convolution sites (a vision backbone): test/engine/backbones/resnet.test.ts',
  'conv-flora': 'convolution sites (a vision backbone): test/engine/backbones/resnet.test.ts, tucker-modules.test.ts',
  mtlora: 'task ids of a multi-task recipe: test/engine/multitask/',
  vblora: 'sub-vectors of 256, wider than stories260K\'s 64-wide projections: test/cli/lowrank-family.test.ts, vector-bank.test.ts',
  mos: 'a shard pool larger than stories260K\'s default draws: test/cli/lowrank-family.test.ts, shard-pool.test.ts',
};

for (const preset of PRESET_NAMES) {
  test(`preset ${preset} trains on stories260K (wasm)`, { skip: ELSEWHERE[preset] ? `trained elsewhere: ${ELSEWHERE[preset]}` : false }, async (t) => {
    assert.equal(tf.getBackend(), 'wasm');
    const task = taskPlan(preset === 'head-only' ? 'seq-cls' : 'causal-lm');
    const issues: string[] = [];
    const method = compileMethod({ preset }, { family: null, depth: null, task: task.type }, (p, m) => issues.push(`${p.join('.')}: ${m}`));
    assert.deepEqual(issues, []);
    const model = backbone(task);
    const peft = injectMethod(model, method, 0);
    // a selection that ranks entries by their gradients (SPT) measures them on the batch first
    if (peft.selection?.needsData) peft.selection.prepareFromSensitivity(measureSensitivity(peft, task, [await tinyBatch(task.type)], 1, 0));
    const trainable = selectTrainable(peft);
    assert.ok(trainable.params.size > 0, 'something trains');
    const frozen = model.root.namedParams().filter(([n]) => !trainable.params.has(n));
    const snapshot = new Map(frozen.map(([n, p]) => [n, Float32Array.from(p.value.dataSync())]));

    const vars = new Map([...trainable.params].map(([n, p]) => [n, p.variable]));
    const nameOfVar = new Map([...vars].map(([n, v]) => [v.name, n]));
    const opt = createOptimizer({ name: 'adamw', lr: LR[preset] ?? 1e-2, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentum: 0, groups: [] }, vars);
    const batch = await tinyBatch(task.type);
    const lossNow = () => tf.tidy(() => taskLoss(model, task, batch, peft.context({ training: false })).dataSync()[0]);
    const before = lossNow();
    for (let step = 0; step < STEPS; step++) {
      const ctx = peft.context({ training: true, seed: step });
      const { value, grads } = tf.variableGrads(() => {
        const loss = taskLoss(model, task, batch, ctx);
        const extra = peft.extraLoss();
        return extra ? tf.add(loss, extra) : loss;
      }, [...vars.values()]);
      const byName = new Map(Object.entries(grads).map(([k, g]) => [nameOfVar.get(k)!, g]));
      opt.step(byName);
      peft.afterStep({ step, totalSteps: STEPS, grads: byName });
      value.dispose();
      byName.forEach((g) => g.dispose());
    }
    const after = lossNow();
    t.diagnostic(`${preset}: loss ${before.toFixed(4)} → ${after.toFixed(4)} (${trainable.params.size} trainable tensors)`);
    assert.ok(after < before, `loss fell (${before} → ${after})`);
    for (const [n, p] of frozen) assert.deepEqual(p.value.dataSync(), snapshot.get(n), `${n} changed`);

    const trained = logitsOf(model, peft, batch);
    const dir = mkdtempSync(join(tmpdir(), `peft-preset-${preset}-`));
    const { type } = saveAdapter(peft, dir, { baseModel: STORIES, backboneNames: trainable.backboneNames });
    t.diagnostic(`${preset}: saved as ${type}`);
    const fresh = backbone(task);
    const loaded = loadAdapter(dir, fresh);
    assert.deepEqual(loaded.warnings, []);
    assertClose(logitsOf(fresh, loaded.peft, batch), Array.from(trained), `${preset} reloaded logits`, 1e-5, 1e-6);
    opt.dispose();
  });
}
