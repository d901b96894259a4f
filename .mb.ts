import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './src/engine/backend/index.ts';
import { loadBackbone } from './src/engine/backbones/index.ts';
import { ForwardContext } from './src/engine/nn/context.ts';
const dir = '../shared/models/mobilenetv2-nsfwjs';
for (const be of ['wasm', 'native']) {
  await initBackend(be);
  const t0 = Date.now();
  const { model, report } = loadBackbone(dir, { task: 'image-cls', numLabels: 5 });
  console.log(be, 'load ms', Date.now() - t0, report.loaded, report.initialized, report.unused.length, model.sites.length, model.dims);
  const x = tf.randomUniform([2, 3, 224, 224], 0, 1, 'float32', 1) as tf.Tensor4D;
  for (let i = 0; i < 2; i++) {
    const t1 = Date.now();
    const o = model.forward({ pixelValues: x }, ForwardContext.plain(false));
    console.log(be, 'fwd ms', Date.now() - t1, Array.from(tf.softmax(o.logits).dataSync()).map((v) => v.toFixed(4)).join(' '));
  }
}
