// Method presets: each is data — a point (or a set of points) of the unified view's design
// space — never code. `peft methods` lists them; `peft methods NAME` prints the expansion.
import type { UnfreezeTarget } from './types.js';
import { VISION_PRESETS } from './presets-vision.js';

/** A module as a recipe writes it (every key optional; the planner decides the rest). */
export interface ModuleSpec {
  preset?: string;
  position?: string | string[];
  function?: string;
  insertion?: string;
  composition?: string;
  scale?: number | 'learned';
  heads?: string;
  layers?: unknown;
  init?: string;
  dropout?: number;
  /** The function's own options (rank, bottleneck, length, …), as its table entry names them. */
  [option: string]: unknown;
}

export interface Preset {
  name: string;
  summary: string;
  /** Where it comes from (paper). */
  source: string;
  /** Named modules (single-module presets use one, named after the preset). */
  modules: Record<string, ModuleSpec>;
  unfreeze?: UnfreezeTarget[];
}

const ATTN_QV = ['attn.query', 'attn.value'];

export const PRESETS: Preset[] = [
  {
    name: 'lora', summary: 'low-rank update of the query and value projections, scaled by α/r',
    source: 'Hu et al. 2021, LoRA: Low-Rank Adaptation of Large Language Models',
    modules: { lora: { position: ATTN_QV, function: 'lowrank', rank: 8, alpha: 8, insertion: 'parallel', composition: 'scaled', init: 'lora' } },
  },
  {
    name: 'rslora', summary: 'LoRA scaled by α/√r (rank-stabilised)',
    source: 'Kalajdzievski 2023, A Rank Stabilization Scaling Factor for Fine-Tuning with LoRA',
    modules: { lora: { position: ATTN_QV, function: 'lowrank', rank: 8, alpha: 8, rslora: true, insertion: 'parallel', composition: 'scaled', init: 'lora' } },
  },
  {
    name: 'dora', summary: 'LoRA on the direction of the weight with a learned magnitude per output',
    source: 'Liu et al. 2024, DoRA: Weight-Decomposed Low-Rank Adaptation',
    modules: { lora: { position: ATTN_QV, function: 'lowrank', rank: 8, alpha: 8, dora: true, insertion: 'parallel', composition: 'scaled', init: 'lora' } },
  },
  {
    name: 'adalora', summary: 'SVD-form low-rank update (PΛQ) whose rank budget is pruned during training',
    source: 'Zhang et al. 2023, Adaptive Budget Allocation for Parameter-Efficient Fine-Tuning',
    modules: { adalora: { position: ATTN_QV, function: 'svd', rank: 12, target_rank: 8, alpha: 8, insertion: 'parallel', composition: 'scaled' } },
  },
  {
    name: 'loha', summary: 'weight update as the Hadamard product of two low-rank products',
    source: 'Hyeon-Woo et al. 2022, FedPara: Low-Rank Hadamard Product for Communication-Efficient Federated Learning',
    modules: { loha: { position: ATTN_QV, function: 'hadamard', rank: 8, alpha: 8, insertion: 'parallel', composition: 'scaled' } },
  },
  {
    name: 'ia3', summary: 'learned rescaling of keys, values and the FFN activation',
    source: 'Liu et al. 2022, Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than In-Context Learning',
    modules: { ia3: { position: ['attn.key', 'attn.value', 'ffn.intermediate'], function: 'scaling', insertion: 'sequential', composition: 'add' } },
  },
  {
    name: 'prefix', summary: 'learned key/value prefixes in every attention (gated attention over them), MLP-reparameterised',
    source: 'Li & Liang 2021, Prefix-Tuning: Optimizing Continuous Prompts for Generation',
    modules: { prefix: { position: 'attn.heads', function: 'prefix', length: 30, reparam: { hidden: 512 }, heads: 'multi', insertion: 'parallel', composition: 'gated' } },
  },
  {
    name: 'prompt', summary: 'learned vectors prepended to the input embeddings',
    source: 'Lester et al. 2021, The Power of Scale for Parameter-Efficient Prompt Tuning',
    modules: { prompt: { position: 'embeddings', function: 'prompt', length: 20, init: 'vocab', insertion: 'sequential', composition: 'add' } },
  },
  {
    name: 'bitfit', summary: 'trains a bias on every projection (the existing bias where there is one)',
    source: 'Ben Zaken et al. 2022, BitFit: Simple Parameter-efficient Fine-tuning for Transformer-based Masked Language-models',
    modules: {
      bitfit: {
        position: ['attn.query', 'attn.key', 'attn.value', 'attn.out_proj', 'ffn.up_proj', 'ffn.down_proj'],
        function: 'bias', insertion: 'sequential', composition: 'add',
      },
    },
  },
  {
    name: 'ln-tuning', summary: 'trains the LayerNorm/RMSNorm weights only',
    source: 'Zhao et al. 2023, Tuning LayerNorm in Attention: Towards Efficient Multi-Modal LLM Finetuning',
    modules: {}, unfreeze: ['norms'],
  },
  {
    name: 'adapter-houlsby', summary: 'sequential bottleneck adapters after the attention and after the FFN',
    source: 'Houlsby et al. 2019, Parameter-Efficient Transfer Learning for NLP',
    modules: {
      adapter: {
        position: ['attn.output', 'ffn.output'], function: 'bottleneck', bottleneck: 64, nonlinearity: 'relu',
        insertion: 'sequential', composition: 'add', init: 'bert',
      },
    },
  },
  {
    name: 'adapter-pfeiffer', summary: 'one sequential bottleneck adapter after each block (after the FFN\'s add & norm)',
    source: 'Pfeiffer et al. 2021, AdapterFusion: Non-Destructive Task Composition for Transfer Learning',
    modules: {
      adapter: {
        position: 'block.output', function: 'bottleneck', bottleneck: 64, nonlinearity: 'relu',
        insertion: 'sequential', composition: 'add', init: 'bert',
      },
    },
  },
  {
    name: 'parallel-adapter', summary: 'bottleneck adapter computed from the FFN input, added to its output',
    source: 'He et al. 2022, Towards a Unified View of Parameter-Efficient Transfer Learning (Table 1)',
    modules: {
      adapter: {
        position: 'ffn.output', function: 'bottleneck', bottleneck: 64, nonlinearity: 'relu',
        insertion: 'parallel', composition: 'add', init: 'bert',
      },
    },
  },
  {
    name: 'scaled-parallel-adapter', summary: 'parallel adapter at the FFN with scaled addition (s = 4) and LoRA-style init',
    source: 'He et al. 2022, Towards a Unified View of Parameter-Efficient Transfer Learning (Table 1, Table 5)',
    modules: {
      adapter: {
        position: 'ffn.output', function: 'bottleneck', bottleneck: 64, nonlinearity: 'relu',
        insertion: 'parallel', composition: 'scaled', scale: 4, init: 'lora',
      },
    },
  },
  {
    name: 'mh-parallel-adapter', summary: 'per-head parallel adapter on each attention head\'s output, from that head\'s query',
    source: 'He et al. 2022, Towards a Unified View of Parameter-Efficient Transfer Learning (Table 1, Table 4)',
    modules: {
      adapter: {
        position: 'attn.heads', function: 'bottleneck', heads: 'multi', bottleneck: 30, nonlinearity: 'relu',
        insertion: 'parallel', composition: 'add', init: 'lora',
      },
    },
  },
  {
    name: 'mam', summary: 'Mix-And-Match: prefix tuning at every attention + scaled parallel adapter at every FFN',
    source: 'He et al. 2022, Towards a Unified View of Parameter-Efficient Transfer Learning (Sec. 4.6)',
    modules: {
      prefix: { position: 'attn.heads', function: 'prefix', length: 30, reparam: { hidden: 800 }, heads: 'multi', insertion: 'parallel', composition: 'gated' },
      adapter: {
        position: 'ffn.output', function: 'bottleneck', bottleneck: 512, nonlinearity: 'relu',
        insertion: 'parallel', composition: 'scaled', scale: 4, init: 'lora',
      },
    },
  },
  {
    name: 'full', summary: 'full fine-tuning: every backbone parameter trains',
    source: 'baseline (Devlin et al. 2019; Howard & Ruder 2018)',
    modules: {}, unfreeze: ['all'],
  },
  {
    name: 'head-only', summary: 'only the task head trains (linear probing)',
    source: 'baseline (linear probe)',
    modules: {}, unfreeze: ['head'],
  },
  ...VISION_PRESETS,
];

export function findPreset(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name);
}

export const PRESET_NAMES = PRESETS.map((p) => p.name);
