// Writing a TensorFlow.js layers-model directory from a layers-model backbone (`peft merge` of a
// tfjs backbone): the source model.json's topology (the head Dense's units set to the label
// count it now has) and every weight in float32, one shard, in the source manifest's order and
// names — a directory tf.loadLayersModel and this project read back.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskModel } from '../backbones/types.js';
import { writeJsonAtomic } from './atomic.js';
import { PeftError } from '../../errors.js';

type Obj = Record<string, unknown>;

export function writeLayersModelDir(model: TaskModel, srcDir: string, outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const source = JSON.parse(readFileSync(join(srcDir, 'model.json'), 'utf8')) as Obj;
  const topology = JSON.parse(JSON.stringify(source.modelTopology)) as Obj;
  const mc = (topology.model_config ?? topology) as Obj;
  const layers = ((mc.config as Obj).layers as Obj[]);
  const tensors = new Map([...model.root.namedParams(), ...model.root.namedBuffers()]);
  const head = model.headPrefixes[0];
  const headLayer = layers.find((l) => l.name === head);
  const headKernel = tensors.get(`${head}.kernel`);
  if (headLayer && headKernel) (headLayer.config as Obj).units = headKernel.shape[1];
  const manifest = ((source.weightsManifest as Obj[]) ?? []).flatMap((g) => (g.weights as Obj[]) ?? []);
  const chunks: Buffer[] = [];
  const specs: Obj[] = [];
  for (const w of manifest) {
    const name = String(w.name);
    const t = tensors.get(name.replace(/\//g, '.'));
    if (!t) throw new PeftError('RUN', `no tensor for weight ${name}`, { where: join(srcDir, 'model.json'), hint: 'the model was built from another model.json' });
    const data = t.value.dataSync() as Float32Array;
    chunks.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    specs.push({ name, shape: [...t.shape], dtype: 'float32' });
  }
  const shard = 'group1-shard1of1.bin';
  writeFileSync(join(outDir, shard), Buffer.concat(chunks));
  writeJsonAtomic(join(outDir, 'model.json'), {
    format: 'layers-model', generatedBy: source.generatedBy ?? null, convertedBy: 'peft merge',
    modelTopology: topology, weightsManifest: [{ paths: [shard], weights: specs }],
  });
  return ['model.json', shard];
}
