// The low-rank family's presets (docs/recipes.md, "the low-rank family"): each is a point of the
// lowrank / svd / subspace dimensions, with the settings of the paper's own code where it has them.
import type { Preset } from './presets.js';

const ATTN_QV = ['attn.query', 'attn.value'];
/** Every projection a BERT-, RoBERTa- or LLaMA-style block has (LLaMA's gate_proj aside). */
const PROJECTIONS = ['attn.query', 'attn.key', 'attn.value', 'attn.out_proj', 'ffn.up_proj', 'ffn.down_proj'];

export const LOWRANK_FAMILY: Preset[] = [
  {
    name: 'vera', summary: 'frozen random A and B shared by every layer; trained scaling vectors λ_d (rank) and λ_b (output)',
    source: 'Kopiczko et al. 2024, VeRA: Vector-based Random Matrix Adaptation',
    modules: { vera: { position: ATTN_QV, function: 'lowrank', basis: 'shared', rank: 256, d_initial: 0.1, insertion: 'parallel', composition: 'add' } },
  },
  {
    name: 'nola', summary: 'A and B as linear combinations of frozen random bases regenerated from a seed; only the coefficients train',
    source: 'Koohpayegani et al. 2024, NOLA: Compressing LoRA using Linear Combination of Random Basis',
    modules: { nola: { position: ATTN_QV, function: 'lowrank', basis: 'combination', rank: 8, alpha: 8, num_basis: 512, insertion: 'parallel', composition: 'scaled' } },
  },
  {
    name: 'vblora', summary: 'A and B assembled from one shared vector bank by a top-k softmax admixture per sub-vector',
    source: 'Li et al. 2024, VB-LoRA: Extreme Parameter Efficient Fine-Tuning with Vector Banks',
    modules: { vblora: { position: ATTN_QV, function: 'lowrank', basis: 'bank', rank: 4, num_vectors: 256, vector_length: 256, top_k: 2, insertion: 'parallel', composition: 'add' } },
  },
  {
    name: 'mos', summary: 'A and B concatenated from shards of pools shared across layers (subset selection, pair dissociation, vector sharding, privatization)',
    source: 'Wang et al. 2025, MoS: Unleashing Parameter Efficiency of Low-Rank Adaptation with Mixture of Shards',
    modules: {
      mos: {
        position: ATTN_QV, function: 'lowrank', basis: 'shards', rank: 8, alpha: 16, pool_rank: 2, private_rank: 1, shards_per_vector: 2,
        insertion: 'parallel', composition: 'scaled',
      },
    },
  },
  {
    name: 'loldu', summary: 'the weight\'s LU factors, frozen: only the diagonal z (and a scale) of P·L·diag(z)·U train',
    source: 'Shi et al. 2024, LoLDU: Low-Rank Adaptation via Lower-Diag-Upper Decomposition for Parameter-Efficient Fine-Tuning',
    modules: { loldu: { position: ATTN_QV, function: 'lowrank', factorization: 'ldu', rank: 768, alpha: 1, insertion: 'parallel', composition: 'add' } },
  },
  {
    name: 'flora', summary: 'Tucker form: a trained core between trained factor matrices, ΔW = s·P1·Gᵀ·P0ᵀ (N-dimensional for kernels)',
    source: 'Si et al. 2024, FLoRA: Low-Rank Core Space for N-dimension',
    modules: { flora: { position: ATTN_QV, function: 'lowrank', factorization: 'tucker', rank: 8, insertion: 'parallel', composition: 'scaled', scale: 2 } },
  },
  {
    name: 'hydra', summary: 'a parallel low-rank branch from the projection\'s input and a sequential one from its output, summed',
    source: 'Kim et al. 2023, Hydra: Multi-head Low-rank Adaptation for Parameter Efficient Fine-tuning',
    modules: {
      hydra: {
        position: ['attn.out_proj', 'ffn.down_proj'], function: 'lowrank', branches: 'parallel+sequential', rank: 8, alpha: 16,
        insertion: 'parallel', composition: 'scaled',
      },
    },
  },
  {
    name: 'mola', summary: 'LoRA experts with a top-k router per projection, more experts in higher layers (2-4-6-8), load-balancing loss',
    source: 'Gao et al. 2024, Higher Layers Need More LoRA Experts (MoLA)',
    modules: {
      mola: {
        position: PROJECTIONS, function: 'lowrank', experts: [2, 4, 6, 8], top_k: 2, rank: 8, alpha: 16, balance_loss: 0.001,
        insertion: 'parallel', composition: 'scaled',
      },
    },
  },
  {
    name: 'increlora', summary: 'SVD-form update whose ranks grow, by importance, from 1 to a budget (each new rank pre-trained as a reserve)',
    source: 'Zhang et al. 2023, IncreLoRA: Incremental Parameter Allocation Method for Parameter-Efficient Fine-tuning',
    modules: {
      increlora: {
        position: PROJECTIONS, function: 'svd', rank_schedule: 'grow', rank: 1, target_rank: 2, grow_by: 1, grow_modules: 5, alpha: 32,
        orth_reg: 0.1, delta_t: 100, insertion: 'parallel', composition: 'scaled',
      },
    },
  },
  {
    name: 'triadaptlora', summary: 'B·C·A with a block-triangular C whose blocks are added by the normalised change of its norm',
    source: 'Liang et al. 2025, TriAdaptLoRA: Brain-Inspired Triangular Adaptive Low-Rank Adaptation for Parameter-Efficient Fine-Tuning',
    modules: {
      triadaptlora: {
        position: PROJECTIONS, function: 'lowrank', factorization: 'triangular', rank_schedule: 'grow', rank: 2, target_rank: 4, grow_by: 2,
        grow_modules: 'linear', delta_t: 100, insertion: 'parallel', composition: 'scaled', scale: 2,
      },
    },
  },
  {
    name: 'corda', summary: 'LoRA initialised from the SVD of W·C (C: covariance of the projection\'s inputs on sample batches); the rest of W stays frozen',
    source: 'Yang et al. 2024, CorDA: Context-Oriented Decomposition Adaptation of Large Language Models',
    modules: {
      corda: {
        position: PROJECTIONS, function: 'lowrank', init: 'corda', corda_mode: 'ipm', calibration_batches: 8, rank: 8, alpha: 8,
        insertion: 'parallel', composition: 'scaled',
      },
    },
  },
  {
    name: 'intrinsic-dim', summary: 'every projection moves as θ0 + P·d in a random d-dimensional subspace (Fastfood P from a seed)',
    source: 'Li et al. 2018, Measuring the Intrinsic Dimension of Objective Landscapes',
    modules: { subspace: { position: PROJECTIONS, function: 'subspace', dimension: 1000, projection: 'fastfood' } },
  },
];
