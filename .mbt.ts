import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './src/engine/backend/index.ts';
import { loadBackbone } from './src/engine/backbones/index.ts';
import { injectMethod, selectTrainable } from './src/engine/methods/index.ts';
import { compileMethod } from './src/plan/index.ts';
const dir = 'assets/models/mobilenetv2-nsfwjs';
for (const be of ['native', 'wasm']) {
  await initBackend(be);
  for (const size of [64, 96]) {
    const { model } = loadBackbone(dir, { task: 'image-cls', numLabels: 10, imageSize: size });
    const method = compileMethod({ function: 'lowrank', position: ['conv.pointwise', 'dense'], rank: 4, layers: { top: 10 } }, { family: null, depth: null, task: 'image-cls' }, () => {});
    const peft = injectMethod(model, method, 0);
    const tr = selectTrainable(peft);
    const vars = [...tr.params.values()].map((p) => p.variable);
    const x = tf.randomUniform([32, 3, size, size]) as tf.Tensor4D;
    for (let i = 0; i < 3; i++) {
      const t = Date.now();
      const { value, grads } = tf.variableGrads(() => tf.sum(model.forward({ pixelValues: x }, peft.context({ training: true })).logits) as tf.Scalar, vars);
      value.dataSync(); tf.dispose([value, ...Object.values(grads)]);
      const t2 = Date.now();
      tf.tidy(() => model.forward({ pixelValues: x }, peft.context({ training: false })).logits.dataSync());
      console.log(be, size, 'train step', t2 - t, 'ms; forward', Date.now() - t2, 'ms');
    }
  }
}
