// The bench model computes what it claims: on a tiny configuration, its logits, loss, gradients
// (LoRA and full fine-tuning, the embedding gather's included) and AdamW steps agree with the
// workload written out by hand in float64 (./reference.ts), on every backend that loads (native
// runs LayerNorm and GELU as fused kernels, the others as tfjs ops); on the real configuration,
// its parameter names are torch_lora.py's and its parameter counts the README's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, listBackends } from '../../src/engine/backend/index.js';
import { crossEntropy } from '../../src/engine/train/losses.js';
import { normalArray } from '../../src/engine/random.js';
import { countParams } from '../../src/engine/backbones/index.js';
import { injectMethod } from '../../src/engine/methods/index.js';
import {
  BENCH_CONFIG, BENCH_PARAMS, benchBatch, benchTensors, buildBenchModel, initBenchWeights, type BenchConfig,
} from '../../bench/harness/workload.js';
import { benchMethod, makeStepper, type BenchMode, type Stepper } from '../../bench/harness/trainer.js';
import { referenceAdamW, referenceForward, referenceGradients, type Params } from './reference.js';

const BACKENDS = (await listBackends()).filter((s) => s.available).map((s) => s.name);
await initBackend('cpu');

const TINY: BenchConfig = {
  vocab: 11, hidden: 8, layers: 2, heads: 2, intermediate: 16, seq: 5, batch: 3, labels: 2, eps: 1e-12,
  rank: 2, alpha: 4, lr: 1e-2, weightDecay: 0.01, adamEps: 1e-8,
};

/** A tiny stepper with random weights (LoRA B too, so that LoRA changes the output). */
function tiny(mode: BenchMode): { s: Stepper; batch: { ids: Int32Array; labels: Int32Array }; dispose: () => void } {
  const batch = benchBatch(TINY, 7);
  const { inputs, labels } = benchTensors(TINY, batch);
  const model = buildBenchModel(TINY);
  const s = makeStepper(model, {
    mode, task: 'seq-cls', method: TINY, optim: TINY, inputs, lossOf: (out) => crossEntropy(out.logits as tf.Tensor2D, labels),
    beforeTrainable: (peft) => {
      const all = [...model.root.namedParams(), ...peft.store.namedParams()];
      all.forEach(([name, p], i) => {
        const mean = p.tags.has('norm') && name.endsWith('.weight') ? 1 : 0;
        p.set(tf.tensor(normalArray(p.size, 0.3, 100 + i, mean), [...p.shape]));
      });
    },
  });
  return { s, batch, dispose: () => { s.dispose(); tf.dispose([inputs.inputIds!, labels]); } };
}

/** The stepper's parameters by the reference's names (`layers.0.q.lora_A` for the LoRA module's). */
function paramsOf(s: Stepper): { params: Params; trainable: string[] } {
  const params: Params = new Map();
  const ours = new Map<string, string>();
  for (const [name, p] of s.peft.model.root.namedParams()) {
    params.set(name, Float64Array.from(p.value.dataSync()));
    ours.set(name, name);
  }
  for (const [name, p] of s.peft.store.namedParams()) {
    const ref = name.replace(/\.[^.]+\.(lora_[AB])$/, '.$1');
    params.set(ref, Float64Array.from(p.value.dataSync()));
    ours.set(name, ref);
  }
  const trainable = s.trainable ? [...s.trainable.params.keys()].map((n) => ours.get(n)!) : [];
  return { params, trainable };
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) {
    const tol = atol + rtol * Math.abs(want[i]);
    assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: ${got[i]} vs ${want[i]} (tolerance ${tol.toExponential(1)})`);
  }
}

test('parameter names are torch_lora.py\'s; LoRA trains 33,282 and full fine-tuning 5,240,834 parameters', () => {
  const model = buildBenchModel(BENCH_CONFIG);
  const want = ['word.weight', 'pos.weight', 'ln.weight', 'ln.bias'];
  for (let i = 0; i < BENCH_CONFIG.layers; i++) {
    for (const m of ['q', 'k', 'v', 'o', 'ln1', 'fc1', 'fc2', 'ln2']) want.push(`layers.${i}.${m}.weight`, `layers.${i}.${m}.bias`);
  }
  want.push('head.weight', 'head.bias');
  assert.deepEqual(model.root.namedParams().map(([n]) => n).sort(), want.sort());
  assert.equal(countParams(model), BENCH_PARAMS.full);
  const peft = injectMethod(model, benchMethod('lora', 'seq-cls', BENCH_CONFIG), 0, { shapesOnly: true });
  const lora = peft.store.namedParams();
  assert.deepEqual(lora.map(([n]) => n).sort(), [0, 1, 2, 3].flatMap((i) => ['q', 'v'].flatMap((m) => [
    `layers.${i}.${m}.lora.lora_A`, `layers.${i}.${m}.lora.lora_B`])).sort());
  const head = model.root.namedParams().filter(([n]) => n.startsWith('head.'));
  assert.equal([...lora, ...head].reduce((n, [, p]) => n + p.size, 0), BENCH_PARAMS.lora);
});

test('the trainable sets: LoRA A/B and the head; everything in full fine-tuning', () => {
  const cfg = { ...BENCH_CONFIG, vocab: 50, layers: 2, hidden: 16, heads: 2, intermediate: 32 };
  for (const mode of ['lora', 'full'] as const) {
    const model = buildBenchModel(cfg);
    initBenchWeights(model);
    const { inputs, labels } = benchTensors({ ...cfg, batch: 1, seq: 4 }, { ids: new Int32Array(4), labels: new Int32Array(1) });
    const s = makeStepper(model, { mode, task: 'seq-cls', method: cfg, optim: cfg, inputs, lossOf: (o) => crossEntropy(o.logits as tf.Tensor2D, labels) });
    const names = [...s.trainable!.params.keys()];
    if (mode === 'lora') {
      assert.equal(names.length, 2 * 2 * 2 + 2);
      assert.ok(names.every((n) => /lora_[AB]$/.test(n) || n.startsWith('head.')), names.join());
    } else assert.equal(names.length, model.root.namedParams().length);
    s.dispose();
    tf.dispose([inputs.inputIds!, labels]);
  }
});

test('LoRA initialisation: A kaiming-uniform U(±1/√in), B zero', () => {
  const model = buildBenchModel(BENCH_CONFIG);
  const peft = injectMethod(model, benchMethod('lora', 'seq-cls', BENCH_CONFIG), 0);
  for (const [name, p] of peft.store.namedParams()) {
    const v = p.value.dataSync();
    if (name.endsWith('lora_B')) assert.ok(v.every((x) => x === 0), name);
    else {
      const bound = 1 / Math.sqrt(BENCH_CONFIG.hidden);
      assert.ok(v.every((x) => Math.abs(x) <= bound), name);
      assert.ok(Math.max(...v) > 0.9 * bound, name);
    }
  }
  peft.store.dispose();
});

for (const backend of BACKENDS) {
  test(`${backend}: forward: logits and loss equal the hand-derived reference (LoRA attached)`, async () => {
    await initBackend(backend);
    const { s, batch, dispose } = tiny('infer');
    try {
      const { params } = paramsOf(s);
      const ref = referenceForward(TINY, params, batch.ids, batch.labels);
      const { inputs } = benchTensors(TINY, batch);
      const logits = tf.tidy(() => s.peft.model.forward(inputs, s.peft.context({ training: false })).logits);
      close(logits.dataSync(), ref.logits.flat(), 1e-5, 1e-5, 'logits');
      close([s.loss()], [ref.loss], 1e-6, 1e-5, 'loss');
      tf.dispose([logits, inputs.inputIds!]);
    } finally {
      dispose();
    }
  });

  for (const mode of ['lora', 'full'] as const) {
    test(`${backend}: ${mode}: gradients equal the reference's central differences`, async () => {
      await initBackend(backend);
      const { s, batch, dispose } = tiny(mode);
      try {
        const { params, trainable } = paramsOf(s);
        const ref = referenceGradients(TINY, params, trainable, batch.ids, batch.labels);
        const { loss, grads } = s.gradients();
        close([loss], [referenceForward(TINY, params, batch.ids, batch.labels).loss], 1e-6, 1e-5, 'loss');
        const refNames = paramsOf(s).trainable;
        [...s.trainable!.params.keys()].forEach((name, i) => {
          close(grads.get(name)!.dataSync(), ref.get(refNames[i])!, 2e-6, 1e-3, `d loss / d ${name}`);
        });
        if (mode === 'full') {
          // the embedding gather's gradient: rows of ids the batch lacks get exactly zero
          const used = new Set(batch.ids);
          const g = grads.get('word.weight')!.dataSync();
          for (let id = 0; id < TINY.vocab; id++) {
            const row = g.slice(id * TINY.hidden, (id + 1) * TINY.hidden);
            if (!used.has(id)) assert.ok(row.every((x) => x === 0), `row ${id}`);
            else assert.ok(row.some((x) => x !== 0), `row ${id}`);
          }
        }
        tf.dispose([...grads.values()]);
      } finally {
        dispose();
      }
    });

    test(`${backend}: ${mode}: three AdamW steps give the reference's losses and parameters`, async () => {
      await initBackend(backend);
      const { s, batch, dispose } = tiny(mode);
      try {
        const { params, trainable } = paramsOf(s);
        const want = referenceAdamW(TINY, params, trainable, batch.ids, batch.labels, 3);
        const got = [s.run(), s.run(), s.run(), s.loss()];
        close(got, want, 1e-6, 2e-5, 'losses');
        const after = paramsOf(s).params;
        // the key bias's gradient is zero in exact arithmetic (softmax ignores a per-query shift of the
        // scores), so AdamW turns float32 rounding noise into steps of full size: left out
        for (const name of trainable.filter((n) => !n.endsWith('.k.bias'))) close(after.get(name)!, params.get(name)!, 1e-5, 1e-4, name);
      } finally {
        dispose();
      }
    });
  }
}
