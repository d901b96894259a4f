// The bench model against the PyTorch reference on the active backend: the reference's weights
// and batch loaded by name, then its logits and loss before training, and the losses of 3 AdamW
// steps (and after them), compared.
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy } from '../../src/engine/train/losses.js';
import { BENCH_CONFIG, benchTensors, buildBenchModel } from './workload.js';
import { loadTorchDump, type TorchDump } from './dump.js';
import { makeStepper } from './trainer.js';

export interface ParityValue {
  ref: number;
  got: number;
  absDiff: number;
  relDiff: number;
}

export interface ParityResult {
  backend: string;
  logitsMaxAbsDiff: number;
  loss0: ParityValue;
  /** Losses of the AdamW steps run (each before its update), then after them; empty when steps = 0. */
  losses: ParityValue[];
  maxAbsDiff: number;
  maxRelDiff: number;
}

function compare(ref: number, got: number): ParityValue {
  const absDiff = Math.abs(got - ref);
  return { ref, got, absDiff, relDiff: absDiff / Math.max(Math.abs(ref), 1e-30) };
}

/** `steps` 0 checks the forward pass alone (logits and loss0); otherwise up to the dump's 3 steps. */
export function checkParity(dump: TorchDump, steps = 3): ParityResult {
  const cfg = BENCH_CONFIG;
  const { inputs, labels } = benchTensors(cfg, dump);
  const model = buildBenchModel(cfg);
  const s = makeStepper(model, {
    mode: 'lora', task: 'seq-cls', method: cfg, optim: cfg, inputs,
    lossOf: (out) => crossEntropy(out.logits as tf.Tensor2D, labels),
    beforeTrainable: (peft) => loadTorchDump(model, peft, dump),
  });
  try {
    const logits = tf.tidy(() => model.forward(inputs, s.peft.context({ training: false })).logits);
    const got = logits.dataSync();
    logits.dispose();
    let logitsMaxAbsDiff = 0;
    dump.logits0.forEach((v, i) => (logitsMaxAbsDiff = Math.max(logitsMaxAbsDiff, Math.abs(got[i] - v))));
    const loss0 = compare(dump.loss0, s.loss());
    const losses: ParityValue[] = [];
    const n = Math.min(steps, dump.losses.length - 1);
    for (let i = 0; i < n; i++) losses.push(compare(dump.losses[i], s.run()));
    if (n > 0) losses.push(compare(dump.losses[n], s.loss()));
    const all = [loss0, ...losses];
    return {
      backend: tf.getBackend(), logitsMaxAbsDiff, loss0, losses,
      maxAbsDiff: Math.max(...all.map((v) => v.absDiff)), maxRelDiff: Math.max(...all.map((v) => v.relDiff)),
    };
  } finally {
    s.dispose();
    tf.dispose([inputs.inputIds!, labels]);
  }
}
