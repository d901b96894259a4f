// The sizes a backbone's config.json declares, checked before anything is built from them: every
// size key a family reads must be a positive integer under a sane bound (a config saying
// `num_hidden_layers: 1e9` is refused here, not after the engine has built a billion layers).
// Both sides use it: the planner reports a problem as a recipe issue, the engine throws it.
import type { FamilyInfo } from './families.js';

/** Bounds far above any real model (the largest have ~100 layers, hidden 16k–25k, vocabularies of 256k). */
const LAYERS = 1024;
const WIDTH = 65536;
const HEADS = 1024;
const FFN = 1 << 20;
const VOCAB = 1 << 22;
const POSITIONS = 1 << 21;

/** Size keys of the families' config.json files, with their upper bound and smallest value. */
const SIZE_KEYS: Record<string, { max: number; min?: number }> = {
  num_hidden_layers: { max: LAYERS }, n_layer: { max: LAYERS }, num_layers: { max: LAYERS }, n_layers: { max: LAYERS },
  encoder_layers: { max: LAYERS }, decoder_layers: { max: LAYERS }, num_decoder_layers: { max: LAYERS },
  hidden_size: { max: WIDTH }, n_embd: { max: WIDTH }, d_model: { max: WIDTH }, dim: { max: WIDTH },
  num_attention_heads: { max: HEADS }, n_head: { max: HEADS }, num_heads: { max: HEADS }, n_heads: { max: HEADS },
  encoder_attention_heads: { max: HEADS }, decoder_attention_heads: { max: HEADS }, num_key_value_heads: { max: HEADS },
  head_dim: { max: WIDTH }, d_kv: { max: WIDTH },
  intermediate_size: { max: FFN }, n_inner: { max: FFN }, d_ff: { max: FFN }, hidden_dim: { max: FFN },
  encoder_ffn_dim: { max: FFN }, decoder_ffn_dim: { max: FFN },
  vocab_size: { max: VOCAB },
  max_position_embeddings: { max: POSITIONS }, n_positions: { max: POSITIONS }, n_ctx: { max: POSITIONS },
  type_vocab_size: { max: WIDTH, min: 0 },
  image_size: { max: 16384 }, patch_size: { max: 16384 }, num_channels: { max: 64 },
  relative_attention_num_buckets: { max: WIDTH }, relative_attention_max_distance: { max: POSITIONS },
};

/** What the planner needs of a backbone's geometry (null: the config does not say). */
export interface ModelSizes {
  hidden: number | null;
  layers: number | null;
  heads: number | null;
  kvHeads: number | null;
  headDim: number | null;
  intermediate: number | null;
  vocab: number | null;
  /** Token positions the model can take (null: relative positions, images, or not stated). */
  maxPositions: number | null;
  /** The config key maxPositions comes from (for messages). */
  positionsKey: string | null;
}

export interface ConfigProblem {
  /** The config.json key at fault. */
  key: string;
  message: string;
  hint: string;
}

const HINT = 'config.json is damaged, or not a model this tool builds: compare it with the model\'s original config.json';

function first(cfg: Record<string, unknown>, keys: string[]): number | null {
  for (const k of keys) {
    const v = cfg[k];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return null;
}

/** Positions a family's embeddings hold, and the key that says so (defaults as transformers'). */
function positionsOf(cfg: Record<string, unknown>, family: FamilyInfo | null): { n: number | null; key: string | null } {
  const name = family?.name ?? null;
  if (name === 't5' || name === 'vit') return { n: null, key: null }; // relative positions / patches
  const key = ['max_position_embeddings', 'n_positions', 'n_ctx'].find((k) => typeof cfg[k] === 'number') ?? null;
  const declared = key ? (cfg[key] as number) : null;
  const fallback = name === 'llama' ? 2048 : name === 'bert' || name === 'roberta' || name === 'distilbert' ? 512 : null;
  let n = declared ?? fallback;
  // RoBERTa counts positions from padding_idx + 1: two of its table's rows are never a token's
  if (n !== null && name === 'roberta') n -= 2;
  return { n: n !== null && n > 0 ? n : null, key: key ?? (fallback !== null ? 'max_position_embeddings' : null) };
}

/** Problems with the config's sizes (in key order) and the sizes the planner uses. */
export function readModelSizes(cfg: Record<string, unknown>, family: FamilyInfo | null): { sizes: ModelSizes; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  for (const [key, bound] of Object.entries(SIZE_KEYS)) {
    const v = cfg[key];
    if (v === undefined || v === null) continue;
    const min = bound.min ?? 1;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      problems.push({ key, message: `config.json: ${key} must be an integer (got ${JSON.stringify(v).slice(0, 40)})`, hint: HINT });
    } else if (v < min) {
      problems.push({ key, message: `config.json: ${key} is ${v}; a size must be at least ${min}`, hint: HINT });
    } else if (v > bound.max) {
      problems.push({ key, message: `config.json: ${key} is ${v}, more than ${bound.max} (no real model is this large)`, hint: HINT });
    }
  }
  const hidden = first(cfg, ['hidden_size', 'n_embd', 'd_model', 'dim']);
  const heads = first(cfg, ['num_attention_heads', 'n_head', 'num_heads', 'n_heads', 'encoder_attention_heads']);
  const explicitHeadDim = first(cfg, ['head_dim', 'd_kv']);
  if (problems.length === 0 && hidden !== null && heads !== null && explicitHeadDim === null && hidden % heads !== 0) {
    problems.push({ key: 'num_attention_heads', message: `config.json: the hidden size ${hidden} is not divisible by ${heads} attention heads`, hint: HINT });
  }
  const kvHeads = first(cfg, ['num_key_value_heads']) ?? heads;
  if (problems.length === 0 && heads !== null && kvHeads !== null && heads % kvHeads !== 0) {
    problems.push({ key: 'num_key_value_heads', message: `config.json: ${heads} attention heads cannot share ${kvHeads} key/value heads evenly`, hint: HINT });
  }
  const positions = positionsOf(cfg, family);
  const sizes: ModelSizes = {
    hidden,
    layers: first(cfg, ['num_hidden_layers', 'n_layer', 'num_layers', 'n_layers', 'encoder_layers']),
    heads,
    kvHeads,
    headDim: explicitHeadDim ?? (hidden !== null && heads !== null ? Math.floor(hidden / heads) : null),
    intermediate: first(cfg, ['intermediate_size', 'n_inner', 'd_ff', 'ffn_dim', 'hidden_dim', 'encoder_ffn_dim']) ?? (family?.name === 'gpt2' && hidden !== null ? 4 * hidden : null),
    vocab: first(cfg, ['vocab_size']),
    maxPositions: positions.n,
    positionsKey: positions.key,
  };
  return { sizes, problems };
}

/** Input and output sizes of the projection (or representation) at a position role, when the sizes say. */
export function siteDims(role: string, s: ModelSizes): { in: number; out: number } | null {
  const h = s.hidden;
  if (h === null) return null;
  const last = role.split('.').pop();
  const attn = s.heads !== null && s.headDim !== null ? s.heads * s.headDim : h;
  const kv = s.kvHeads !== null && s.headDim !== null ? s.kvHeads * s.headDim : attn;
  const ffn = s.intermediate;
  switch (last) {
    case 'query': return { in: h, out: attn };
    case 'key': case 'value': return { in: h, out: role.startsWith('cross_') ? attn : kv };
    case 'qkv': return { in: h, out: 3 * attn };
    case 'out_proj': return { in: attn, out: h };
    case 'up_proj': case 'gate_proj': return ffn === null ? null : { in: h, out: ffn };
    case 'down_proj': return ffn === null ? null : { in: ffn, out: h };
    case 'intermediate': return ffn === null ? null : { in: h, out: ffn };
    default: return { in: h, out: h };
  }
}
