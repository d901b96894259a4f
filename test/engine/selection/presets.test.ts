// Every selective preset trains on stories260K (sequence classification on a tiny batch) through
// the same hooks the training loop calls (gradient adjustment, after-step), and then: the loss
// fell; the optimizer holds state for the selected entries only; the backbone's tensors were never
// written (whole tensors of HFT aside); the adapter file holds sparse deltas (indices + values),
// reloads onto a fresh backbone to the same logits, and merges into weights whose entries outside
// the selection are bit for bit the pretrained ones; the selection is the seed's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { REPO, assertClose, useBackend } from '../../helpers/fixtures.js';
import { loadBackbone, type TaskModel } from '../../../src/engine/backbones/index.js';
import { injectMethod, selectTrainable, type PeftModel } from '../../../src/engine/methods/index.js';
import { AdamW } from '../../../src/engine/train/optim/index.js';
import { taskLoss, batchInputs } from '../../../src/engine/train/task-loss.js';
import { measureSensitivity } from '../../../src/engine/selection/index.js';
import { saveAdapter } from '../../../src/engine/adapters/peft/save.js';
import { loadAdapter } from '../../../src/engine/adapters/peft/load.js';
import { mergeIntoBackbone } from '../../../src/engine/merge/fold.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { openSafetensors } from '../../../src/engine/io/safetensors.js';
import { loadTokenizer } from '../../../src/engine/tokenizers/index.js';
import { compileMethod, type MethodPlan, type TaskPlan } from '../../../src/plan/index.js';
import type { Batch } from '../../../src/engine/data/batches.js';

const STORIES = join(REPO, 'assets', 'models', 'stories260K');
const TASK: TaskPlan = { type: 'seq-cls', numLabels: 2, labels: null, pooling: null, labelSmoothing: 0 };
const STEPS = 12;
const TEXTS = ['a gripping , beautiful film', 'dull and lifeless , a waste of time', 'the actors shine in every scene', 'it never finds its footing'];

/** The presets with what a recipe would set for this tiny backbone (learning rate, MoSA's width). */
const CASES: { preset: string; method: Record<string, unknown>; lr: number }[] = [
  { preset: 'sara', method: { preset: 'sara' }, lr: 1e-2 },
  { preset: 'hft', method: { preset: 'hft' }, lr: 2e-3 },
  { preset: 'mask-tuning', method: { preset: 'mask-tuning' }, lr: 1e-3 },
  { preset: 'spt', method: { preset: 'spt' }, lr: 1e-2 },
  { preset: 'mosa', method: { preset: 'mosa', modules: { adapter: { bottleneck: 8 } } }, lr: 1e-2 },
  // a selection combined with an additive module at the same projections
  { preset: 'lora + magnitude', method: { preset: 'lora', select: { criterion: 'magnitude', budget: 0.05 } }, lr: 1e-2 },
];

async function batch(): Promise<Batch> {
  const tok = await loadTokenizer(STORIES);
  const rows = TEXTS.map((s) => tok.encode(s));
  const T = Math.max(...rows.map((r) => r.length));
  const inputIds = new Int32Array(rows.length * T);
  const attentionMask = new Float32Array(rows.length * T);
  rows.forEach((r, b) => r.forEach((id, t) => {
    inputIds[b * T + t] = id;
    attentionMask[b * T + t] = 1;
  }));
  return { size: rows.length, seqLen: T, inputIds, attentionMask, labels: new Float32Array([1, 0, 1, 0]), tokens: T * rows.length };
}

function plan(words: Record<string, unknown>): MethodPlan {
  const issues: string[] = [];
  const m = compileMethod(words, { family: null, depth: null, task: 'seq-cls' }, (p, msg) => issues.push(`${p.join('.')}: ${msg}`));
  assert.deepEqual(issues, []);
  return m;
}

const backbone = (): TaskModel => loadBackbone(STORIES, { task: 'seq-cls', numLabels: 2, seed: 0 }).model;
const logits = (model: TaskModel, peft: PeftModel | null, b: Batch) =>
  tf.tidy(() => model.forward(batchInputs(b), peft ? peft.context({ training: false }) : ForwardContext.plain(false)).logits.dataSync() as Float32Array);

for (const c of CASES) {
  test(`selective preset ${c.preset}: trains, keeps the rest of the backbone bit for bit, saves a sparse update, reloads and merges`, async (t) => {
    await useBackend();
    const b = await batch();
    const method = plan(c.method);
    const model = backbone();
    const pretrained = new Map(model.root.namedParams().map(([n, p]) => [n, Float32Array.from(p.value.dataSync())]));
    const peft = injectMethod(model, method, 0);
    if (peft.selection?.needsData) peft.selection.prepareFromSensitivity(measureSensitivity(peft, TASK, [b, b], 2, 0));
    const trainable = selectTrainable(peft);
    const vars = new Map([...trainable.params].map(([n, p]) => [n, p.variable]));
    const nameOf = new Map([...vars].map(([n, v]) => [v.name, n]));
    const opt = new AdamW(vars, { lr: c.lr, weightDecay: 0 });
    const lossNow = () => tf.tidy(() => taskLoss(model, TASK, b, peft.context({ training: false })).dataSync()[0]);
    const before = lossNow();
    assertClose(logits(model, peft, b), Array.from(logits(model, null, b)), `${c.preset}: the model is unchanged at step 0`, 0, 1e-6);
    for (let step = 0; step < STEPS; step++) {
      const seed = 1000 + step;
      const { value, grads } = tf.variableGrads(() => {
        const loss = taskLoss(model, TASK, b, peft.context({ training: true, seed }));
        const extra = peft.extraLoss();
        return extra ? tf.add(loss, extra) : loss;
      }, [...vars.values()]);
      value.dispose();
      const named = peft.adjustGrads(new Map(Object.entries(grads).map(([k, g]) => [nameOf.get(k)!, g])), {
        step, totalSteps: STEPS, micro: 0, batch: b, task: TASK, context: () => peft.context({ training: true, seed }),
      });
      opt.step(named);
      peft.afterStep({ step, totalSteps: STEPS, grads: named });
      named.forEach((g) => g.dispose());
    }
    const after = lossNow();
    t.diagnostic(`${c.preset}: loss ${before.toFixed(4)} → ${after.toFixed(4)}, ${[...trainable.params.values()].reduce((n, p) => n + p.size, 0)} trainable`);
    assert.ok(after < before, `loss fell (${before} → ${after})`);

    // the optimizer's state is as large as the trainable set: the selected entries, not their matrices
    const state = opt.state();
    const stateSize = Object.values(state.params).reduce((n, p) => n + p.buffers.exp_avg.data.length, 0);
    assert.equal(stateSize, [...trainable.params.values()].reduce((n, p) => n + p.size, 0));
    const sel = peft.selection;
    if (sel && c.preset !== 'hft') {
      const selected = sel.slotLayouts.filter((x) => x.form === 'sparse').reduce((n, x) => n + x.count, 0);
      const own = [...trainable.params].filter(([n]) => sel.owns(n) && n.endsWith('.values')).reduce((n, [, p]) => n + p.size, 0);
      assert.equal(own, selected, 'one trainable value (and its optimizer state) per selected entry');
    }
    opt.dispose();

    // training never writes the backbone's tensors (HFT trains its half in place)
    const whole = new Set(sel?.whole ?? []);
    for (const [n, p] of model.root.namedParams()) {
      if (whole.has(n) || trainable.backboneNames.includes(n)) continue;
      assert.deepEqual(p.value.dataSync(), pretrained.get(n), `${n} is the pretrained tensor`);
    }

    // the adapter: sparse deltas, reloaded to the same logits
    const trained = logits(model, peft, b);
    const dir = mkdtempSync(join(tmpdir(), `peft-select-${c.preset}-`));
    saveAdapter(peft, dir, { baseModel: STORIES, backboneNames: trainable.backboneNames });
    const file = openSafetensors(join(dir, 'adapter_model.safetensors'));
    for (const name of file.names()) {
      if (name.endsWith('_indices')) {
        assert.equal(file.info(name).dtype, 'I32', name);
        assert.equal(file.info(name.replace(/_indices$/, '_values')).shape.join(), file.info(name).shape.join(), `${name}: one value per index`);
      }
      if (name.includes('.select.') && name.endsWith('_values')) assert.equal(file.info(name).shape.length, 1, `${name} is a vector of selected entries, not a matrix`);
    }
    const fresh = backbone();
    const loaded = loadAdapter(dir, fresh);
    assert.deepEqual(loaded.warnings, []);
    assertClose(logits(fresh, loaded.peft, b), Array.from(trained), `${c.preset}: reloaded logits`, 1e-5, 1e-6);

    if (c.preset === 'mosa') return; // a nonlinear adapter does not merge into weights
    // merged: every entry outside the selection is the pretrained value, bit for bit
    mergeIntoBackbone(loaded.peft);
    assertClose(logits(fresh, null, b), Array.from(trained), `${c.preset}: merged logits`, 1e-4, 1e-5);
    const lsel = loaded.peft.selection!;
    // the weights an additive module merged into change everywhere (LoRA's ΔW)
    const moduleWeights = new Set(loaded.peft.modules.flatMap((m) => m.sites.map((x) => `${x.path}.weight`)));
    for (const [n, p] of fresh.root.namedParams()) {
      const now = p.value.dataSync();
      const was = pretrained.get(n);
      if (!was || whole.has(n) || trainable.backboneNames.includes(n) || moduleWeights.has(n)) continue;
      const slot = lsel.slotLayouts.find((s) => `${s.site}.${s.tensor}` === n);
      const changed = new Set<number>(slot?.form === 'sparse' ? lsel.layout().indices.get(`${slot.site}.${slot.tensor}`) ?? [] : slot ? Array.from(now.keys()) : []);
      for (let i = 0; i < now.length; i++) {
        if (!changed.has(i) && !Object.is(now[i], was[i])) assert.fail(`${n}[${i}] changed outside the selection: ${was[i]} → ${now[i]}`);
      }
    }
  });
}

test('a selection is the seed\'s: random masks repeat with the seed and differ with another', async () => {
  await useBackend();
  const model = backbone();
  const words = { select: { criterion: 'random', budget: 0.05 }, train_head: false };
  const a = injectMethod(model, plan(words), 3).selection!.layout().indices;
  const b = injectMethod(model, plan(words), 3).selection!.layout().indices;
  const c = injectMethod(model, plan(words), 4).selection!.layout().indices;
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [k, v] of a) assert.deepEqual([...v], [...b.get(k)!], k);
  assert.ok([...a].some(([k, v]) => v.join() !== c.get(k)!.join()));
  // budgets: 5% of every matrix (scope matrix), or 5% of all of them together (scope global)
  for (const [k, v] of a) {
    const n = model.root.namedParams().find(([x]) => x === k)![1].size;
    assert.equal(v.length, Math.round(0.05 * n), k);
  }
  const g = injectMethod(model, plan({ select: { criterion: 'magnitude', budget: { count: 1000 }, scope: 'global' }, train_head: false }), 0).selection!.layout().indices;
  assert.equal([...g.values()].reduce((n, v) => n + v.length, 0), 1000);
});
