// Site tables for the standard sublayers, so every family names its unified-view positions the
// same way. Linear sites are keyed by the HF module path of the projection (that is also where
// Python peft puts `lora_A`/`lora_B`); the others by `<sublayer path>.<role>`.
import type { AttentionSites } from '../nn/attention.js';
import type { SiteInfo } from './types.js';

type Stack = SiteInfo['stack'];

export interface AttentionSiteSpec {
  /** Path of the attention module (`model.layers.0.self_attn`). */
  path: string;
  /** Projection module names inside it (`q_proj`…), or full paths when they live elsewhere. */
  names: { q: string; k: string; v: string; o: string };
  /** `self_attn` or `cross_attn`. */
  kind: 'self_attn' | 'cross_attn';
  stack: Stack;
  layer: number;
  hidden: number;
  kvHidden?: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Where the output projection lives when it is not under `path` (BERT's attention.output.dense). */
  outPath?: string;
  /** Post-LN: path of the LayerNorm applied to x + h after the sublayer (SiteInfo.norm). */
  norm?: string;
}

export interface AttentionSiteKeys extends AttentionSites {
  /** The attention sublayer: x = its input, h = its output before the residual. */
  output: string;
}

export function attentionSites(s: AttentionSiteSpec): { keys: AttentionSiteKeys; infos: SiteInfo[] } {
  const inner = s.heads * s.headDim;
  const kvOut = s.kvHeads * s.headDim;
  const kvIn = s.kvHidden ?? s.hidden;
  const keys: AttentionSiteKeys = {
    query: `${s.path}.${s.names.q}`,
    key: `${s.path}.${s.names.k}`,
    value: `${s.path}.${s.names.v}`,
    heads: `${s.path}.heads`,
    outProj: s.outPath ?? `${s.path}.${s.names.o}`,
    output: `${s.path}.output`,
  };
  const base = { stack: s.stack, layer: s.layer };
  const p = s.kind;
  const infos: SiteInfo[] = [
    { ...base, path: keys.query, position: `${p}.query`, kind: 'linear', inDim: s.hidden, outDim: inner },
    { ...base, path: keys.key, position: `${p}.key`, kind: 'linear', inDim: kvIn, outDim: kvOut },
    { ...base, path: keys.value, position: `${p}.value`, kind: 'linear', inDim: kvIn, outDim: kvOut },
    {
      ...base, path: keys.heads, position: `${p}.heads`, kind: 'heads', inDim: inner, outDim: inner,
      heads: { num: s.heads, kv: s.kvHeads, dim: s.headDim },
    },
    { ...base, path: keys.outProj, position: `${p}.out_proj`, kind: 'linear', inDim: inner, outDim: s.hidden },
    {
      ...base, path: keys.output, position: `${p}.output`, kind: 'sublayer', inDim: s.hidden, outDim: s.hidden,
      ...(s.norm ? { norm: s.norm } : {}),
    },
  ];
  return { keys, infos };
}

export interface FfnSiteSpec {
  /** Path of the FFN module (`model.layers.0.mlp`). */
  path: string;
  /** Full paths of its projections (they may live in different HF modules, as in BERT). */
  up: string;
  down: string;
  gate?: string;
  stack: Stack;
  layer: number;
  hidden: number;
  intermediate: number;
  /** Post-LN: path of the LayerNorm applied to x + h after the FFN (SiteInfo.norm). */
  norm?: string;
}

export interface FfnSiteKeys {
  input: string;
  up: string;
  gate: string | null;
  intermediate: string;
  down: string;
  output: string;
}

export function ffnSites(s: FfnSiteSpec): { keys: FfnSiteKeys; infos: SiteInfo[] } {
  const keys: FfnSiteKeys = {
    input: `${s.path}.input`,
    up: s.up,
    gate: s.gate ?? null,
    intermediate: `${s.path}.intermediate`,
    down: s.down,
    output: `${s.path}.output`,
  };
  const base = { stack: s.stack, layer: s.layer };
  const d = s.hidden;
  const m = s.intermediate;
  const infos: SiteInfo[] = [
    { ...base, path: keys.input, position: 'ffn.input', kind: 'activation', inDim: d, outDim: d },
    { ...base, path: keys.up, position: 'ffn.up_proj', kind: 'linear', inDim: d, outDim: m },
  ];
  if (keys.gate) infos.push({ ...base, path: keys.gate, position: 'ffn.gate_proj', kind: 'linear', inDim: d, outDim: m });
  infos.push(
    { ...base, path: keys.intermediate, position: 'ffn.intermediate', kind: 'activation', inDim: d, outDim: m },
    { ...base, path: keys.down, position: 'ffn.down_proj', kind: 'linear', inDim: m, outDim: d },
    { ...base, path: keys.output, position: 'ffn.output', kind: 'sublayer', inDim: d, outDim: d, ...(s.norm ? { norm: s.norm } : {}) },
  );
  return { keys, infos };
}

export function blockSite(path: string, stack: Stack, layer: number, hidden: number): SiteInfo {
  return { path: `${path}.output`, stack, layer, position: 'block.output', kind: 'sublayer', inDim: hidden, outDim: hidden };
}

/** `embeddings`: the input (word) embeddings, where Python peft's prompt tuning prepends;
 *  `embeddings.output`: after the embedding module (positions, LayerNorm), where AdapterHub's does. */
export function embeddingSites(path: string, stack: Stack, hidden: number): SiteInfo[] {
  return [
    { path: `${path}.input`, stack, layer: -1, position: 'embeddings', kind: 'embeddings', inDim: hidden, outDim: hidden },
    { path: `${path}.output`, stack, layer: -1, position: 'embeddings.output', kind: 'embeddings', inDim: hidden, outDim: hidden },
  ];
}
