// ResNet as transformers' ResNetForImageClassification: a 7×7 stride-2 stem (conv, batch norm,
// activation) and a 3×3 stride-2 max pool, stages of basic (two 3×3) or bottleneck (1×1, 3×3,
// 1×1 with a 4× reduction) residual layers with a 1×1 projection shortcut where the shape
// changes, a global average pool, and `classifier.1` (a Linear after a Flatten). Computed
// channels-last; the checkpoint's Conv2d weights keep torch's layout.
import * as tf from '@tensorflow/tfjs-core';
import { Container, ModuleList } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Conv2d } from '../nn/conv.js';
import { BatchNorm } from '../nn/batch-norm.js';
import { ConvNorm } from '../nn/conv-norm.js';
import { maxPool, globalAvgPool } from '../nn/pool.js';
import { activation, type Activation } from '../nn/activations.js';
import type { ForwardContext } from '../nn/context.js';
import { ConfigReader } from './config.js';
import { Tree, checkTask, numLabels, paramsOutside } from './encoder-block.js';
import { convSite, residualBlockSite } from './conv-sites.js';
import type { Family, ModelDims, ModelInputs, ModelOutputs, SiteInfo, TaskModel, TaskOptions } from './types.js';
import { familyInfo, type TaskType } from '../../plan/index.js';
import { PeftError } from '../../errors.js';

const TASKS: TaskType[] = ['image-cls'];
const BN = { eps: 1e-5, momentum: 0.1 };

/** transformers' ResNetConvLayer: Conv2d(k, stride, padding k/2, no bias) → BatchNorm2d → activation. */
function convLayer(path: string, inC: number, outC: number, k: number, stride: number, act: Activation | null, sites: SiteInfo[], layer: number): ConvNorm {
  const conv = new Conv2d(inC, outC, { kernel: k, stride, padding: Math.floor(k / 2) });
  sites.push(convSite(`${path}.convolution`, conv, 'model', layer));
  return new ConvNorm(conv, new BatchNorm(outC, BN), act, `${path}.convolution`);
}

/** One residual layer (basic or bottleneck); `shortcut` projects the input when its shape changes. */
class ResidualLayer extends Container {
  readonly convs: ConvNorm[];
  readonly shortcut: ConvNorm | null;

  constructor(readonly path: string, spec: { inC: number; outC: number; stride: number; bottleneck: boolean; downsampleInBottleneck: boolean },
    readonly act: Activation, sites: SiteInfo[], readonly layer: number) {
    super();
    const { inC, outC, stride } = spec;
    this.shortcut = inC !== outC || stride !== 1 ? this.add('shortcut', convLayer(`${path}.shortcut`, inC, outC, 1, stride, null, sites, layer)) : null;
    const mid = Math.floor(outC / 4);
    const plan: [number, number, number, number, Activation | null][] = spec.bottleneck
      ? [
        [inC, mid, 1, spec.downsampleInBottleneck ? stride : 1, act],
        [mid, mid, 3, spec.downsampleInBottleneck ? 1 : stride, act],
        [mid, outC, 1, 1, null],
      ]
      : [[inC, outC, 3, stride, act], [outC, outC, 3, 1, null]];
    const convs = plan.map(([i, o, k, s, a], j) => convLayer(`${path}.layer.${j}`, i, o, k, s, a, sites, layer));
    this.convs = this.add('layer', new ModuleList(convs)).items;
    sites.push(residualBlockSite(path, 'model', layer, inC, outC, stride));
  }

  forward(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return ctx.site(`${this.path}.output`, x, (u) => {
      let h = u;
      for (const c of this.convs) h = c.forward(h, ctx);
      const residual = this.shortcut ? this.shortcut.forward(u, ctx) : u;
      return this.act(tf.add(h, residual));
    });
  }
}

function buildResnet(config: Record<string, unknown>, opts: TaskOptions): TaskModel {
  checkTask('resnet', TASKS, opts.task);
  const c = new ConfigReader(config, 'config.json');
  const channels = c.int('num_channels', 3);
  const embedding = c.int('embedding_size', 64);
  const hiddenSizes = intList(config, 'hidden_sizes', [256, 512, 1024, 2048]);
  const depths = intList(config, 'depths', [3, 4, 6, 3]);
  if (hiddenSizes.length !== depths.length) {
    throw new PeftError('BACKBONE', `hidden_sizes has ${hiddenSizes.length} stages but depths ${depths.length}`, { where: 'config.json' });
  }
  const layerType = c.str('layer_type', 'bottleneck');
  if (layerType !== 'basic' && layerType !== 'bottleneck') {
    throw new PeftError('BACKBONE', `layer_type "${layerType}" is not basic or bottleneck`, { where: 'config.json' });
  }
  const act = activation(c.str('hidden_act', 'relu'));
  const root = new Container();
  const tree = new Tree(root);
  const sites: SiteInfo[] = [];
  const stemPath = 'resnet.embedder.embedder';
  const stem = tree.add(stemPath, convLayer(stemPath, channels, embedding, 7, 2, act, sites, -1));
  const layers: ResidualLayer[] = [];
  let inC = embedding;
  hiddenSizes.forEach((outC, s) => {
    const stride = s === 0 && !c.bool('downsample_in_first_stage', false) ? 1 : 2;
    for (let l = 0; l < depths[s]; l++) {
      const path = `resnet.encoder.stages.${s}.layers.${l}`;
      layers.push(tree.add(path, new ResidualLayer(path, {
        inC: l === 0 ? inC : outC, outC, stride: l === 0 ? stride : 1, bottleneck: layerType === 'bottleneck',
        downsampleInBottleneck: c.bool('downsample_in_bottleneck', false),
      }, act, sites, layers.length)));
    }
    inC = outC;
  });
  const hidden = hiddenSizes[hiddenSizes.length - 1];
  const classifier = tree.add('classifier.1', new Linear(hidden, numLabels(config, opts), { tags: ['head'] }));
  root.nameTree();
  const dims: ModelDims = {
    hidden, layers: layers.length, heads: 0, kvHeads: 0, headDim: 0, intermediate: 0, vocab: 0, maxPositions: 0,
  };
  // parameter name → its residual layer's global index (names count layers within a stage)
  const layerIndex = new Map(layers.map((l, i) => [l.path + '.', i]));

  function forward(inputs: ModelInputs, ctx: ForwardContext, req: { hiddenStates?: boolean } = {}): ModelOutputs {
    const pixels = inputs.pixelValues;
    if (!pixels) throw new PeftError('RUN', 'ResNet needs pixel_values', { hint: 'the data pipeline gave no images' });
    if (pixels.shape[1] !== channels) {
      throw new PeftError('SHAPE', `expected images with ${channels} channels, got ${pixels.shape[1]}`, { where: 'pixel_values', hint: 'num_channels in config.json' });
    }
    let x: tf.Tensor = tf.transpose(pixels, [0, 2, 3, 1]);
    x = maxPool(stem.forward(x, ctx) as tf.Tensor4D, 3, 2, 1);
    const states: tf.Tensor3D[] | undefined = req.hiddenStates ? [tokens(x)] : undefined;
    for (const layer of layers) {
      x = layer.forward(x, ctx);
      states?.push(tokens(x));
    }
    const pooled = globalAvgPool(x);
    return { logits: classifier.forward(pooled), lastHidden: tokens(x), hiddenStates: states, pooled, featureMap: x as tf.Tensor4D };
  }

  // any resolution runs (the pooling is adaptive); the data pipeline reads it from the config
  const own = opts.imageSize ? { ...config, image_size: opts.imageSize } : config;
  return {
    family: 'resnet', architecture: 'ResNetForImageClassification', task: opts.task, config: own, dims, root, sites,
    headPrefixes: ['classifier'], tied: {}, basePrefix: 'resnet', forward,
    baseModelParams: paramsOutside(root, ['classifier']),
    layerOf: (name) => {
      for (const [prefix, i] of layerIndex) if (name.startsWith(prefix)) return i;
      return null;
    },
  };
}

/** [B, H, W, C] → [B, H·W, C]: a feature map as a sequence (the shape hidden states have). */
function tokens(x: tf.Tensor): tf.Tensor3D {
  const [B, H, W, C] = x.shape;
  return tf.reshape(x, [B, H * W, C]) as tf.Tensor3D;
}

function intList(config: Record<string, unknown>, key: string, fallback: number[]): number[] {
  const v = config[key];
  if (v === undefined || v === null) return fallback;
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => Number.isInteger(x) && x > 0)) {
    throw new PeftError('BACKBONE', `config key "${key}" must be a list of positive integers (got ${JSON.stringify(v)})`, { where: 'config.json' });
  }
  return v as number[];
}

export const resnetFamily: Family = {
  info: familyInfo('resnet'),
  build: buildResnet,
};
