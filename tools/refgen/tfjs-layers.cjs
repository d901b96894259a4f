// Reference numbers for the layers-model loader: TensorFlow.js's own tf.loadLayersModel (tfjs 4.22,
// cpu backend) on ../shared/models/mobilenetv2-nsfwjs, for a deterministic input. Run outside the
// project, where @tensorflow/tfjs@4.22.0 is installed (it is not a dependency of peft):
//   npm install @tensorflow/tfjs@4.22.0 && node tools/refgen/tfjs-layers.cjs <model dir> <out.json>
const tf = require('@tensorflow/tfjs');
const fs = require('fs');
const dir = process.argv[2]; // the model directory (model.json + group1-shard1of1.bin)
(async () => {
  await tf.setBackend('cpu');
  const json = JSON.parse(fs.readFileSync(dir + '/model.json', 'utf8'));
  const bin = fs.readFileSync(dir + '/group1-shard1of1.bin');
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length) }));
  const B = 2, S = 224;
  const x = new Float32Array(B * S * S * 3);
  for (let b = 0; b < B; b++) for (let h = 0; h < S; h++) for (let w = 0; w < S; w++) for (let c = 0; c < 3; c++)
    x[((b * S + h) * S + w) * 3 + c] = 0.5 + 0.5 * Math.sin(0.05 * h * (c + 1) + 0.07 * w + 1.3 * b);
  const input = tf.tensor4d(x, [B, S, S, 3]);
  const sub = tf.model({ inputs: model.inputs, outputs: [model.getLayer('flatten_1').output, model.getLayer('dense_2').output, model.outputs[0]] });
  const [pooled, features, probs] = sub.predict(input);
  const r = (t) => ({ shape: t.shape, data: Array.from(t.dataSync()).map((v) => Number(v.toPrecision(7))) });
  fs.writeFileSync(process.argv[3], JSON.stringify({ input: 'x[b,h,w,c] = 0.5 + 0.5*sin(0.05*h*(c+1) + 0.07*w + 1.3*b), [2,224,224,3] NHWC in [0,1]', count_params: model.countParams(), probs: r(probs), features: r(features), pooled: r(pooled) }));
  console.log(model.countParams(), tf.version.tfjs);
})();
