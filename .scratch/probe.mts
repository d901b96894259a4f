import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { join } from 'node:path';
import { initBackend } from '../src/engine/backend/index.js';
import { loadBackbone } from '../src/engine/backbones/index.js';
import { injectMethod, selectTrainable } from '../src/engine/methods/index.js';
import { compileMethod } from '../src/plan/index.js';
import { taskLoss } from '../src/engine/train/task-loss.js';
await initBackend(process.argv[2] ?? 'cpu');
const t0 = Date.now();
const model = loadBackbone('/work/wt-selective/assets/models/stories260K', { task: 'seq-cls', numLabels: 2, seed: 0 }).model;
console.log('load', Date.now() - t0);
const method = compileMethod({ preset: 'sara' }, { family: null, depth: null, task: 'seq-cls' }, (p, m) => console.log(p, m));
const peft = injectMethod(model, method, 0);
console.log('inject', Date.now() - t0);
const tr = selectTrainable(peft);
const T = 8;
const b = { size: 4, seqLen: T, inputIds: new Int32Array(32).fill(5), attentionMask: new Float32Array(32).fill(1), labels: new Float32Array([1,0,1,0]), tokens: 32 };
const task = { type: 'seq-cls', numLabels: 2, labels: null, pooling: null, labelSmoothing: 0 } as const;
for (let i = 0; i < 3; i++) {
  const t1 = Date.now();
  const { value, grads } = tf.variableGrads(() => { const l = taskLoss(model, task, b as any, peft.context({ training: true, seed: i })); const e = peft.extraLoss(); return e ? tf.add(l, e) : l; }, [...tr.params.values()].map((p) => p.variable));
  value.dataSync(); Object.values(grads).forEach((g) => g.dispose());
  console.log('step', Date.now() - t1);
  const t2 = Date.now(); const e = peft.extraLoss(); e?.dataSync(); console.log('extra', Date.now() - t2);
}
