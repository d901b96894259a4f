// What a backbone family provides to the rest of the engine: a task model (the Hugging Face
// architecture class, e.g. LlamaForCausalLM, as a module tree with checkpoint names), the sites
// where PEFT modules may attach, and a forward pass.
import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import type { AttentionCache } from '../nn/attention.js';
import type { FamilyInfo, TaskType } from '../../plan/index.js';

export type SiteKind = 'linear' | 'sublayer' | 'heads' | 'embeddings' | 'activation' | 'conv';

/** A convolution's geometry at a `conv` site (what a module that convolves like it needs). */
export interface ConvGeometry {
  kernel: [number, number];
  stride: [number, number];
  padding: 'same' | 'valid' | { top: number; bottom: number; left: number; right: number };
  dilation: [number, number];
  /** 1, or the input channels (depthwise). */
  groups: number;
}

/** One place in the backbone where the unified view's modules attach (plain data). */
export interface SiteInfo {
  /** Unique key and naming path: the HF module path for linear sites (`model.layers.0.self_attn.q_proj`). */
  path: string;
  /** `model` for decoder-only/encoder-only stacks, `encoder`/`decoder` for encoder-decoders, `text`/`vision` for two towers (CLIP). */
  stack: 'model' | 'encoder' | 'decoder' | 'text' | 'vision';
  /** Layer index within its stack; -1 for embeddings. */
  layer: number;
  /** Canonical position: `self_attn.query`, `cross_attn.heads`, `ffn.output`, `embeddings`, … */
  position: string;
  kind: SiteKind;
  /** Size of x (the input a parallel module reads). */
  inDim: number;
  /** Size of h (the representation modified). */
  outDim: number;
  /** Attention geometry at `heads` sites. */
  heads?: { num: number; kv: number; dim: number };
  /**
   * Post-LN sublayer sites (`*.output` of BERT, BART, …): path of the sublayer's own LayerNorm,
   * which the layer applies to x + h right after this site. Absent where the family is pre-LN.
   */
  norm?: string;
  /** Convolution sites: the convolution's geometry (x and h are channels-last [B, H, W, C]). */
  conv?: ConvGeometry;
  /** Sites whose h has a coarser grid than x (a downsampling block or convolution): x cannot feed a parallel module there. */
  stride?: number;
}

export interface ModelInputs {
  inputIds?: tf.Tensor2D;
  attentionMask?: tf.Tensor2D;
  tokenTypeIds?: tf.Tensor2D;
  pixelValues?: tf.Tensor4D;
  /** Audio models: log-mel filterbank frames [B, T, mel] (AST's input_values). */
  inputValues?: tf.Tensor3D;
  decoderInputIds?: tf.Tensor2D;
  decoderAttentionMask?: tf.Tensor2D;
  /**
   * Positions of the input tokens [B, T] (transformers' position_ids; LLaMA and GPT-2): for
   * left-padded generation, the attention mask's cumulative sum − 1. Prompt vectors prepended by
   * prompt tuning take positions 0 … p − 1 and these shift by p. Default: 0 … T − 1 (after the cache).
   */
  positionIds?: tf.Tensor2D;
}

export interface ModelOutputs {
  /** Task logits: [B, T, V] for language models, [B, C] for sequence classification, … */
  logits: tf.Tensor;
  /** The base model's last hidden state (after its final norm where the family has one; the decoder's for encoder-decoders). */
  lastHidden: tf.Tensor3D;
  /** Embedding output plus one per layer (only when asked for). */
  hiddenStates?: tf.Tensor3D[];
  /** The vector the classification head reads (BERT's pooler output, a CNN's pooled features). */
  pooled?: tf.Tensor2D;
  /** Convolutional backbones: the last feature map, channels-last [B, H, W, C]. */
  featureMap?: tf.Tensor4D;
  encoderLastHidden?: tf.Tensor3D;
  encoderHiddenStates?: tf.Tensor3D[];
  /** Encoder-decoders: the decoder's embedding output plus one per layer (`hiddenStates` holds the same). */
  decoderHiddenStates?: tf.Tensor3D[];
  /** Effective attention mask after any prepended prompt [B, T'] (for losses over positions). */
  attentionMask?: tf.Tensor2D;
  /** Two-tower models (CLIP): each tower's normalised embeddings and what they come from. */
  towers?: { imageEmbeds: tf.Tensor2D; textEmbeds: tf.Tensor2D; visionPooled: tf.Tensor2D; textLastHidden?: tf.Tensor3D };
}

export interface ForwardRequest {
  hiddenStates?: boolean;
  /**
   * Generation with a KV cache: this pass continues the positions the cache holds. Its
   * attentionMask / decoderAttentionMask cover the new tokens only; the cache keeps the key mask
   * of earlier ones. Prompt vectors are prepended on the first pass only.
   */
  cache?: ForwardCache;
}

/** What a pass reads from and adds to when it continues earlier passes (causal LMs, decoders). */
export interface ForwardCache {
  /** Positions the self-attentions already hold (prompt vectors included); 0 before the first pass. */
  readonly length: number;
  /** Prompt vectors the first pass prepended (positions of later tokens count them). */
  readonly prepended: number;
  /** Key mask of the held positions [B, length] (null before the first pass). */
  readonly keyMask: tf.Tensor2D | null;
  /** Encoder-decoders: the encoder's output and key mask, kept from the first pass. */
  readonly encoder: { last: tf.Tensor3D; mask: tf.Tensor2D } | null;
  /** The slot of the attention whose heads site is `key`; `fixed` for cross-attention. */
  attention(key: string, fixed: boolean): AttentionCache;
  /** The backbone reports the pass it ran: the new positions' key mask and the prompt vectors prepended. */
  record(step: { keyMask: tf.Tensor2D; prepended: number }): void;
  /** The backbone hands over the encoder output of the first pass. */
  keepEncoder(encoder: { last: tf.Tensor3D; mask: tf.Tensor2D }): void;
}

/** Normalised dimensions every family reports (for inspect, methods and sizes). */
export interface ModelDims {
  hidden: number;
  layers: number;
  decoderLayers?: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  vocab: number;
  maxPositions: number;
}

export interface TaskModel {
  family: string;
  /** The HF architecture class this tree mirrors (`LlamaForCausalLM`). */
  architecture: string;
  task: TaskType;
  config: Record<string, unknown>;
  dims: ModelDims;
  root: Module;
  sites: SiteInfo[];
  /** Name prefixes of the task head's parameters (trained and saved as `modules_to_save`). */
  headPrefixes: string[];
  /** Parameters absent from files because they are tied: name → the name it shares storage with. */
  tied: Record<string, string>;
  /** Base-model prefix in checkpoint names (`model`, `bert`, `transformer`), for loading base-only files. */
  basePrefix: string;
  /**
   * Parameters of the family's base class with its defaults (transformers' XxxModel), when that
   * differs from this tree without its head: RobertaForSequenceClassification, BertForToken-
   * Classification and ViTForImageClassification leave out the pooler their XxxModel has.
   */
  baseModelParams?: number;
  /** clip-cls: the label prompts' token ids (label-major, one row per template) the zero-shot head encodes. */
  setLabelPrompts?(prompts: { ids: tf.Tensor2D; mask: tf.Tensor2D; labels: number; templates: number }): void;
  /** The layer a parameter belongs to, when the family numbers layers otherwise than `.layers.N.` in its names. */
  layerOf?(name: string): number | null;
  forward(inputs: ModelInputs, ctx: ForwardContext, req?: ForwardRequest): ModelOutputs;
}

export interface TaskOptions {
  task: TaskType;
  numLabels?: number;
  pooling?: 'last' | 'first' | 'mean' | null;
  /** Convolutional backbones: the input resolution (default: the model's own). */
  imageSize?: number;
  /** 'random': initialise every parameter from the seed instead of reading the weights. */
  init?: 'random';
}

/** A family: its catalog entry (src/plan/families.ts, shared with the planner) and its builder. */
export interface Family {
  info: FamilyInfo;
  build(config: Record<string, unknown>, opts: TaskOptions): TaskModel;
}
