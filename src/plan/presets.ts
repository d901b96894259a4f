// Method presets: each is data — a point (or a set of points) of the unified view's design
// space — never code. `peft methods` lists them; `peft methods NAME` prints the expansion.
import type { UnfreezeTarget } from './types.js';
import { LOWRANK_FAMILY } from './presets-lowrank.js';
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

/** A selection as a recipe writes it (`method.select`): criterion, budget, positions and the criterion's options. */
export interface SelectSpec {
  criterion: string;
  [key: string]: unknown;
}

export interface Preset {
  name: string;
  summary: string;
  /** Where it comes from (paper). */
  source: string;
  /** Named modules (single-module presets use one, named after the preset). */
  modules: Record<string, ModuleSpec>;
  unfreeze?: UnfreezeTarget[];
  /** Which backbone weights (entries) train, for selective methods. */
  select?: SelectSpec;
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
  ...LOWRANK_FAMILY,
  {
    name: 'sara', summary: 'trains the 10% smallest-|w| entries of every projection, re-selected once halfway, with a nuclear-norm penalty',
    source: 'Hu et al. 2024, SaRA: High-Efficient Diffusion Model Fine-tuning with Progressive Sparse Low-Rank Adaptation',
    modules: {}, select: { criterion: 'magnitude', budget: 0.1, reselect: { every: 0.5, times: 1 }, nuclear: 5e-4 },
  },
  {
    name: 'hft', summary: 'trains half of every block (2 of 4 attention matrices, half the FFN, 1 of 2 norms per layer), the rest frozen',
    source: 'Hui et al. 2024, HFT: Half Fine-Tuning for Large Language Models',
    modules: {}, select: { criterion: 'half' },
  },
  {
    name: 'mask-tuning', summary: 'learns a binary mask over the attention weights (straight-through), with gradient-dropout regularity',
    source: 'Zheng et al. 2023, Regularized Mask Tuning: Uncovering Hidden Knowledge in Pre-trained Vision-Language Models',
    modules: {}, select: { criterion: 'learned', position: ['attn.query', 'attn.key', 'attn.value', 'attn.qkv', 'attn.out_proj'] },
  },
  {
    name: 'spt', summary: 'trains the most gradient-sensitive 1% of entries, with LoRA on matrices that hold many of them',
    source: 'He et al. 2023, Sensitivity-Aware Visual Parameter-Efficient Fine-Tuning',
    modules: {}, select: { criterion: 'sensitivity', budget: 0.01, batches: 8, lora_rank: 8, lora_factor: 10 },
  },
  {
    name: 'mosa', summary: 'parallel adapter at the FFN split into 4 disjoint sparse sub-adapters trained stochastically, merged at the end',
    source: 'Zhang et al. 2023, Split & Merge: Unlocking the Potential of Visual Adapters via Sparse Training (MoSA)',
    modules: {
      adapter: {
        position: 'ffn.output', function: 'bottleneck', bottleneck: 64, nonlinearity: 'gelu', layernorm: 'before',
        insertion: 'parallel', composition: 'scaled', scale: 0.1, init: 'lora', subadapters: { count: 4, share: 'down' },
      },
    },
  },
  {
    name: 'poly', summary: 'an inventory of LoRA skills mixed per task by learned routing logits (task ids route)',
    source: 'Ponti et al. 2023, Combining Parameter-efficient Modules for Task-level Generalisation (Polytropon)',
    modules: { poly: { position: ATTN_QV, function: 'poly', rank: 8, n_skills: 4, n_splits: 1, insertion: 'parallel', composition: 'scaled', init: 'lora' } },
  },
  {
    name: 'mhr', summary: 'Poly with each block of the features routed separately (multi-head routing, n_splits blocks)',
    source: 'Caccia et al. 2023, Multi-Head Adapter Routing for Cross-Task Generalization',
    modules: { poly: { position: ATTN_QV, function: 'poly', rank: 8, n_skills: 4, n_splits: 4, insertion: 'parallel', composition: 'scaled', init: 'lora' } },
  },
  {
    name: 'mtlora', summary: 'a task-agnostic low-rank update everywhere, task-specific ones in the top layer (task ids route)',
    source: 'Agiza et al. 2024, MTLoRA: A Low-Rank Adaptation Approach for Efficient Multi-Task Learning',
    modules: {
      mtlora: {
        position: ['attn.query', 'attn.value', 'attn.out_proj', 'ffn.up_proj', 'ffn.down_proj'], function: 'mtlora',
        rank: 8, task_rank: 4, shared_scale: 4, task_scale: 4, shared_mode: 'matrix', task_layers: 1, insertion: 'parallel', composition: 'add',
      },
    },
  },
  {
    name: 'mixda', summary: 'domain adapters beside every FFN, trained on domain text, then mixed with the FFN by a gate (a stream: strategy mixda)',
    source: 'Diao et al. 2023, Mixture-of-Domain-Adapters: Decoupling and Injecting Domain Knowledge to Pre-trained Language Models\' Memories',
    modules: {
      mixda: { position: 'ffn.down_proj', function: 'mixture', n_experts: 1, bottleneck: 64, nonlinearity: 'gelu', gate_hidden: 64, gate_layers: 3, insertion: 'parallel', composition: 'add' },
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
