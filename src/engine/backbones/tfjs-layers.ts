// A TensorFlow.js layers-model (a Keras functional model: model.json + weight shards) as a
// backbone. Its topology is wired node by node (layers-model/keras-layers.ts); every Conv2D,
// DepthwiseConv2D and hidden Dense layer is a site (`conv.*`, `dense`) at its layer name, every
// Add (a residual merge) a `block.output` site; the output Dense is the task head — its
// softmax dropped (the head gives logits), re-initialised when the recipe's labels differ in
// number. Layer indices (what `layers:` selects) count the weight layers in graph order.
import * as tf from '@tensorflow/tfjs-core';
import { Container } from '../nn/module.js';
import type { Conv2d } from '../nn/conv.js';
import { BatchNorm } from '../nn/batch-norm.js';
import { Linear } from '../nn/linear.js';
import type { ForwardContext } from '../nn/context.js';
import { kerasActivation, kerasNode, kerasOp, type KerasNode, type Shape } from './layers-model/keras-layers.js';
import { convSite, denseSite, residualBlockSite } from './conv-sites.js';
import { checkTask, numLabels } from './encoder-block.js';
import type { Family, ModelDims, ModelInputs, ModelOutputs, SiteInfo, TaskModel, TaskOptions } from './types.js';
import { familyInfo, kerasModelConfig, WEIGHT_LAYER_CLASSES, type TaskType } from '../../plan/index.js';
import { PeftError } from '../../errors.js';

const TASKS: TaskType[] = ['image-cls'];
type Obj = Record<string, unknown>;

/** Node 0 of each inbound layer (Keras 2's [[name, node, tensor, kwargs], …] per node). */
function inboundNames(layer: Obj): string[] {
  const nodes = layer.inbound_nodes as unknown[];
  if (!Array.isArray(nodes) || nodes.length === 0) return [];
  if (nodes.length > 1) throw new PeftError('BACKBONE', `layer ${String(layer.name)} is shared (called ${nodes.length} times)`, { hint: 'shared layers are not supported' });
  const first = nodes[0];
  if (!Array.isArray(first)) throw new PeftError('BACKBONE', `layer ${String(layer.name)}: inbound nodes in a format this reader does not know`, { hint: 'save the model with tfjs 4 or Keras 2' });
  return first.map((e) => String((e as unknown[])[0]));
}

function withInputSize(layer: Obj, size: number): Obj {
  const c = (layer.config ?? {}) as Obj;
  const shape = (c.batch_input_shape ?? c.batch_shape) as (number | null)[];
  return { ...layer, config: { ...c, batch_input_shape: [shape[0], size, size, shape[3]], batch_shape: undefined } };
}

function buildLayersModel(config: Obj, opts: TaskOptions): TaskModel {
  checkTask('tfjs-layers', TASKS, opts.task);
  const topo = kerasModelConfig({ modelTopology: config.topology });
  const inner = (topo?.config ?? {}) as Obj;
  const layers = (Array.isArray(inner.layers) ? inner.layers : []) as Obj[];
  const outputs = (inner.output_layers as unknown[][] | undefined)?.map((o) => String(o[0])) ?? [];
  if (outputs.length !== 1) throw new PeftError('BACKBONE', `the model has ${outputs.length} outputs`, { hint: 'a backbone here has one output (its classifier)' });
  const root = new Container();
  const nodes = new Map<string, KerasNode>();
  const size = opts.imageSize;
  for (const raw of layers) {
    // a resolution of the recipe's: the input layer takes it (the network is convolutional)
    const layer = size && raw.class_name === 'InputLayer' ? withInputSize(raw, size) : raw;
    const inputs = inboundNames(layer);
    const missing = inputs.find((n) => !nodes.has(n));
    if (missing) throw new PeftError('BACKBONE', `layer ${String(layer.name)} takes ${missing}, which comes later`, { hint: 'the topology is not in graph order' });
    const node = kerasNode(layer, inputs, inputs.map((n) => nodes.get(n)!.outShape));
    if (node.module) root.add(node.name, node.module);
    nodes.set(node.name, node);
  }
  const found = nodes.get(outputs[0]);
  if (!found || found.className !== 'Dense') throw new PeftError('BACKBONE', `the output layer ${outputs[0]} is not a Dense layer`, { hint: 'the last layer must be the classifier' });
  const head = found;
  const labels = numLabels(config, { ...opts, numLabels: opts.numLabels ?? (head.module as Linear).outFeatures });
  const headIn = (head.module as Linear).inFeatures;
  if (labels !== (head.module as Linear).outFeatures) {
    // a new label set: a new head (initialised from the seed when the weights load)
    head.module = root.add(head.name, new Linear(headIn, labels, { layout: 'in_out', names: { weight: 'kernel', bias: 'bias' }, tags: ['head'] }));
  }
  root.nameTree();

  // sites and layer numbers: weight layers in graph order; other layers take the last number
  const sites: SiteInfo[] = [];
  const layerIndex = new Map<string, number>();
  let index = -1;
  for (const node of nodes.values()) {
    if (WEIGHT_LAYER_CLASSES.includes(node.className)) index++;
    layerIndex.set(node.name, Math.max(index, 0));
    if (node === head) continue;
    if (node.className === 'Conv2D' || node.className === 'DepthwiseConv2D') sites.push(convSite(node.name, node.module as Conv2d, 'model', index));
    else if (node.className === 'Dense') sites.push(denseSite(node.name, (node.module as Linear).inFeatures, (node.module as Linear).outFeatures, 'model', index));
    else if (node.className === 'Add') {
      const ch = node.outShape[node.outShape.length - 1];
      sites.push(residualBlockSite(node.name, 'model', Math.max(index, 0), ch, ch));
    }
  }
  const input = [...nodes.values()].find((n) => n.className === 'InputLayer')!;
  const dims: ModelDims = { hidden: headIn, layers: index + 1, heads: 0, kvHeads: 0, headDim: 0, intermediate: 0, vocab: 0, maxPositions: 0 };

  function forward(inputs: ModelInputs, ctx: ForwardContext): ModelOutputs {
    const pixels = inputs.pixelValues;
    if (!pixels) throw new PeftError('RUN', 'this model needs pixel_values', { hint: 'the data pipeline gave no images' });
    const want: Shape = input.outShape;
    const [, C, H, W] = pixels.shape;
    if ((want[0] > 0 && H !== want[0]) || (want[1] > 0 && W !== want[1]) || C !== want[2]) {
      throw new PeftError('SHAPE', `expected images [${want[2]}, ${want[0]}, ${want[1]}], got [${C}, ${H}, ${W}]`, { where: 'pixel_values', hint: 'the model.json input size' });
    }
    const values = new Map<string, tf.Tensor>([[input.name, tf.transpose(pixels, [0, 2, 3, 1])]]);
    let pooled: tf.Tensor2D | undefined;
    let featureMap: tf.Tensor4D | undefined;
    for (const node of nodes.values()) {
      if (node === input) continue;
      const xs = node.inputs.map((n) => values.get(n)!);
      let y: tf.Tensor;
      if (node === head) {
        pooled = xs[0] as tf.Tensor2D;
        y = (node.module as Linear).forward(xs[0]);
      } else if (node.className === 'Conv2D' || node.className === 'DepthwiseConv2D') {
        const conv = node.module as Conv2d;
        y = kerasActivation(node.activation, node.name)(ctx.site(node.name, xs[0], (u) => conv.forward(u)));
      } else if (node.className === 'Dense') {
        y = kerasActivation(node.activation, node.name)(ctx.linear(node.name, xs[0], node.module as Linear));
      } else if (node.className === 'BatchNormalization') {
        y = (node.module as BatchNorm).forward(xs[0], ctx);
      } else if (node.className === 'Add') {
        y = ctx.site(`${node.name}.output`, xs[0], () => kerasOp(node, xs, (t, r) => ctx.dropout(t, r)));
      } else {
        y = kerasOp(node, xs, (t, r) => ctx.dropout(t, r));
      }
      if (y.shape.length === 4) featureMap = y as tf.Tensor4D;
      values.set(node.name, y);
    }
    const logits = values.get(head.name)!;
    return { logits, lastHidden: tf.expandDims(pooled!, 1) as tf.Tensor3D, pooled, featureMap };
  }

  const own = size ? { ...config, image_size: size } : config;
  return {
    family: 'tfjs-layers', architecture: String((config.architectures as string[] | undefined)?.[0] ?? 'LayersModel'), task: opts.task,
    config: own, dims, root, sites, headPrefixes: [head.name], tied: {}, basePrefix: '', forward,
    layerOf: (name) => layerIndex.get(name.split('.')[0]) ?? null,
  };
}

export const layersModelFamily: Family = {
  info: familyInfo('tfjs-layers'),
  build: buildLayersModel,
};
