// What each family is, as plain data (no tensors) — the one catalog: the recipe planner reads it
// to check a recipe against its backbone before any compute, and each backbone family in
// src/engine/backbones registers its builder against its entry here.
import type { TaskType } from './types.js';
import type { StackName } from './positions.js';
import { VISION_CATALOG } from './families-vision.js';

export interface FamilyInfo {
  name: string;
  modelTypes: string[];
  tasks: TaskType[];
  /** Has encoder and decoder stacks (positions may be narrowed with encoder./decoder., cross_attn exists). */
  encoderDecoder: boolean;
  /** Fused q/k/v projection (GPT-2's c_attn): `attn.qkv` exists; q/k/v are slices of it. */
  fusedQkv: boolean;
  /** Gated FFN (SwiGLU): `ffn.gate_proj` exists. */
  gatedFfn: boolean;
  /** Has token embeddings (ViT has patch embeddings instead). */
  tokens: boolean;
  /** Post-LN layers (LN(x + f(x))): each sublayer has its own LayerNorm after the residual add. */
  postLn: boolean;
  /** A convolutional network: conv.*, dense and block.output sites, no attention or FFN positions. */
  convolutional?: boolean;
  /** Two towers a position may be narrowed to (CLIP: text., vision.). */
  towers?: readonly ('text' | 'vision')[];
}

export const CATALOG: FamilyInfo[] = [
  { name: 'llama', modelTypes: ['llama', 'mistral'], tasks: ['causal-lm', 'seq-cls', 'regression'], encoderDecoder: false, fusedQkv: false, gatedFfn: true, tokens: true, postLn: false },
  { name: 'bert', modelTypes: ['bert'], tasks: ['seq-cls', 'regression', 'token-cls'], encoderDecoder: false, fusedQkv: false, gatedFfn: false, tokens: true, postLn: true },
  { name: 'roberta', modelTypes: ['roberta'], tasks: ['seq-cls', 'regression', 'token-cls'], encoderDecoder: false, fusedQkv: false, gatedFfn: false, tokens: true, postLn: true },
  { name: 'distilbert', modelTypes: ['distilbert'], tasks: ['seq-cls', 'regression', 'token-cls'], encoderDecoder: false, fusedQkv: false, gatedFfn: false, tokens: true, postLn: true },
  { name: 'gpt2', modelTypes: ['gpt2'], tasks: ['causal-lm', 'seq-cls', 'regression', 'token-cls'], encoderDecoder: false, fusedQkv: true, gatedFfn: false, tokens: true, postLn: false },
  { name: 'vit', modelTypes: ['vit'], tasks: ['image-cls'], encoderDecoder: false, fusedQkv: false, gatedFfn: false, tokens: false, postLn: false },
  { name: 'bart', modelTypes: ['bart'], tasks: ['seq2seq', 'seq-cls', 'regression'], encoderDecoder: true, fusedQkv: false, gatedFfn: false, tokens: true, postLn: true },
  { name: 'mbart', modelTypes: ['mbart'], tasks: ['seq2seq', 'seq-cls', 'regression'], encoderDecoder: true, fusedQkv: false, gatedFfn: false, tokens: true, postLn: false },
  { name: 't5', modelTypes: ['t5'], tasks: ['seq2seq'], encoderDecoder: true, fusedQkv: false, gatedFfn: false, tokens: true, postLn: false },
  ...VISION_CATALOG,
];

/** A family's entry by its name (the backbones' builders are registered against it). */
export function familyInfo(name: string): FamilyInfo {
  const f = CATALOG.find((x) => x.name === name);
  if (!f) throw new Error(`no family ${name} in the catalog`);
  return f;
}

export function catalogEntry(modelType: string): FamilyInfo | null {
  return CATALOG.find((f) => f.modelTypes.includes(modelType)) ?? null;
}

/** Does a position role exist in this family (before layers are considered)? Null if yes, else why not. */
export function positionAbsence(f: FamilyInfo, stack: StackName | null, role: string): string | null {
  const towers: readonly string[] = f.towers ?? [];
  if (stack === 'text' || stack === 'vision') {
    if (!towers.includes(stack)) return `${f.name} has no ${stack} tower; drop the "${stack}." prefix`;
  } else if (stack && !f.encoderDecoder) return `${f.name} has one stack; drop the "${stack}." prefix`;
  const conv = role === 'conv' || role.startsWith('conv.') || role === 'dense';
  if (conv && !f.convolutional) return `${f.name} has no convolution or dense sites (it is a transformer: use attn.*, ffn.*, block.output)`;
  if (f.convolutional && !conv && role !== 'block.output') {
    return `${f.name} is a convolutional network: use conv, conv.pointwise, conv.depthwise, conv.spatial, dense or block.output`;
  }
  if (role.startsWith('cross_attn.') && !f.encoderDecoder) return `${f.name} has no cross-attention (only encoder-decoder models do)`;
  if (role.startsWith('cross_attn.') && stack === 'encoder') return 'the encoder has no cross-attention';
  if (role.endsWith('.qkv') && !f.fusedQkv) return `${f.name} has separate query/key/value projections: use attn.query, attn.key, attn.value`;
  if (role === 'ffn.gate_proj' && !f.gatedFfn) return `${f.name}'s FFN has no gate projection`;
  if (role.startsWith('embeddings') && !f.tokens && role === 'embeddings') return `${f.name} has no token embeddings: use embeddings.output`;
  return null;
}
