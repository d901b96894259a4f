// The bench workload of ../shared/bench (torch_lora.py), built from the project's own blocks:
// word + position embeddings and their LayerNorm, post-LN encoder layers (the EncoderLayer BERT,
// RoBERTa and DistilBERT train with: Attention, Linear, LayerNorm, gelu_new), a Linear(hidden,
// labels) head on position 0. No token-type embeddings, no pooler, no padding mask: the BERT
// family has the first two, the reference has neither, so this is a TaskModel of its own with
// the reference's parameter names (`word.weight`, `layers.0.q.weight`, `head.bias`, …) and the
// same unified-view sites, so LoRA goes through the same injector as in training.
import * as tf from '@tensorflow/tfjs-core';
import { Container } from '../../src/engine/nn/module.js';
import { Linear } from '../../src/engine/nn/linear.js';
import { Embedding } from '../../src/engine/nn/embedding.js';
import { LayerNorm } from '../../src/engine/nn/norm.js';
import { activation } from '../../src/engine/nn/activations.js';
import type { ForwardContext } from '../../src/engine/nn/context.js';
import { Tree, EncoderLayer, runEncoder, type EncoderSpec } from '../../src/engine/backbones/encoder-block.js';
import { attentionSites, blockSite, ffnSites } from '../../src/engine/backbones/sites.js';
import { learnedPositions } from '../../src/engine/backbones/blocks.js';
import type { ModelDims, ModelInputs, ModelOutputs, SiteInfo, TaskModel } from '../../src/engine/backbones/index.js';
import { normalArray, seedFor, uniformStream } from '../../src/engine/random.js';

/** The workload's sizes (torch_lora.py's constants) and its LoRA and AdamW settings. */
export interface BenchConfig {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  seq: number;
  batch: number;
  labels: number;
  eps: number;
  rank: number;
  alpha: number;
  lr: number;
  weightDecay: number;
  adamEps: number;
}

export const BENCH_CONFIG: BenchConfig = {
  vocab: 8000, hidden: 256, layers: 4, heads: 4, intermediate: 1024, seq: 128, batch: 16, labels: 2, eps: 1e-12,
  rank: 8, alpha: 16, lr: 1e-3, weightDecay: 0.01, adamEps: 1e-8,
};

/** Matmul GFLOP per step as ../shared/bench/README.md counts them (2 per multiply-add). */
export const BENCH_GFLOP = { infer: 14.09, lora: 28.57, full: 41.88 } as const;

/** Parameter counts of BENCH_CONFIG (README: 33,282 trainable with LoRA; 5.24 M in full fine-tuning). */
export const BENCH_PARAMS = { lora: 33_282, full: 5_240_834 } as const;

/** Module names inside one layer, as torch_lora.py's `Layer` (q/k/v/o live in the layer itself). */
const LAYER_NAMES = { attn: '', q: 'q', k: 'k', v: 'v', o: 'o', attnNorm: 'ln1', up: 'fc1', down: 'fc2', ffnNorm: 'ln2' };

/** Builds the model (shapes only: `initBenchWeights` or a dump gives the values). */
export function buildBenchModel(cfg: BenchConfig = BENCH_CONFIG): TaskModel {
  const root = new Container();
  const tree = new Tree(root);
  const d = cfg.hidden;
  const word = root.add('word', new Embedding(cfg.vocab, d));
  const pos = root.add('pos', new Embedding(cfg.seq, d));
  const ln = root.add('ln', new LayerNorm(d, cfg.eps));
  const spec: EncoderSpec = {
    prefix: 'layers', layers: cfg.layers, hidden: d, heads: cfg.heads, intermediate: cfg.intermediate, eps: cfg.eps,
    act: activation('gelu_new'), norm: 'post', qkvBias: true, attnDropout: 0, hiddenDropout: 0,
    dropoutAfterAttention: true, names: LAYER_NAMES,
  };
  const sites: SiteInfo[] = [];
  const layers: EncoderLayer[] = [];
  for (let i = 0; i < cfg.layers; i++) {
    const path = `layers.${i}`;
    const at = attentionSites({
      path, names: { q: 'q', k: 'k', v: 'v', o: 'o' }, kind: 'self_attn', stack: 'model', layer: i,
      hidden: d, heads: cfg.heads, kvHeads: cfg.heads, headDim: d / cfg.heads, norm: `${path}.ln1`,
    });
    // the attention has no module path of its own here: its sublayer output needs a key apart from the block's
    const attnOutput = `${path}.attention.output`;
    at.infos.find((s) => s.path === at.keys.output)!.path = attnOutput;
    at.keys.output = attnOutput;
    const ff = ffnSites({
      path: `${path}.ffn`, up: `${path}.fc1`, down: `${path}.fc2`, stack: 'model', layer: i, hidden: d,
      intermediate: cfg.intermediate, norm: `${path}.ln2`,
    });
    const block = blockSite(path, 'model', i, d);
    sites.push(...at.infos, ...ff.infos, block);
    layers.push(tree.add(path, new EncoderLayer(spec, at.keys, ff.keys, block.path)));
  }
  const head = root.add('head', new Linear(d, cfg.labels, { tags: ['head'] }));
  root.nameTree();

  function forward(inputs: ModelInputs, ctx: ForwardContext): ModelOutputs {
    const ids = inputs.inputIds!;
    const [B, T] = ids.shape;
    const embeds = tf.add(word.forward(ids), learnedPositions(pos, 0, T, 'seq'));
    // no padding mask: an additive zero mask that broadcasts over [B, H, T, T]
    const mask = tf.zeros([1, 1, 1, 1]) as tf.Tensor4D;
    const x = runEncoder(layers, ln.forward(embeds) as tf.Tensor3D, mask, ctx);
    const first = tf.reshape(tf.slice(x, [0, 0, 0], [B, 1, d]), [B, d]);
    return { logits: head.forward(first), lastHidden: x };
  }

  const dims: ModelDims = {
    hidden: d, layers: cfg.layers, heads: cfg.heads, kvHeads: cfg.heads, headDim: d / cfg.heads,
    intermediate: cfg.intermediate, vocab: cfg.vocab, maxPositions: cfg.seq,
  };
  return {
    family: 'bench', architecture: 'BenchEncoder', task: 'seq-cls', config: { ...cfg }, dims, root, sites,
    headPrefixes: ['head'], tied: {}, basePrefix: '', forward,
  };
}

/**
 * Values as torch_lora.py initialises them (not its random stream): Linear and Embedding weights
 * N(0, 0.02²), biases 0, LayerNorm weight 1 and bias 0. Seeded by (seed, parameter name).
 */
export function initBenchWeights(model: TaskModel, seed = 0): void {
  for (const [name, p] of model.root.namedParams()) {
    let values: Float32Array;
    if (p.tags.has('norm')) values = new Float32Array(p.size).fill(name.endsWith('.weight') ? 1 : 0);
    else if (name.endsWith('.bias')) values = new Float32Array(p.size);
    else values = normalArray(p.size, 0.02, seedFor(seed, name));
    p.set(tf.tensor(values, [...p.shape]));
  }
}

/** A batch like the reference's: ids uniform in [0, vocab), labels uniform in [0, labels). */
export function benchBatch(cfg: BenchConfig = BENCH_CONFIG, seed = 1): { ids: Int32Array; labels: Int32Array } {
  const next = uniformStream(seed);
  const ids = Int32Array.from({ length: cfg.batch * cfg.seq }, () => Math.floor(next() * cfg.vocab));
  const labels = Int32Array.from({ length: cfg.batch }, () => Math.floor(next() * cfg.labels));
  return { ids, labels };
}

/** The batch as kept tensors: inputs [B, T] int32 and labels [B] int32 (the caller disposes them). */
export function benchTensors(cfg: BenchConfig, batch: { ids: Int32Array; labels: Int32Array }): { inputs: ModelInputs; labels: tf.Tensor1D } {
  return {
    inputs: { inputIds: tf.keep(tf.tensor2d(batch.ids, [cfg.batch, cfg.seq], 'int32')) },
    labels: tf.keep(tf.tensor1d(batch.labels, 'int32')),
  };
}
