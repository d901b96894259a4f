// The position vocabulary of the unified view. Pure data and string matching: the planner uses it
// to reject impossible recipes before any compute, the engine to find the sites a module attaches
// to. Which function fits where is each function's own rule (functions/<kind>.ts).
import type { ModulePlan } from './types.js';
import { functionSpec, type LayerSelector, type PositionKind } from './functions/index.js';

/** Canonical positions a family may expose (see docs/recipes.md). `attn.*` stands for both
 *  `self_attn.*` and `cross_attn.*`. */
export const ATTN_ROLES = ['query', 'key', 'value', 'qkv', 'heads', 'out_proj', 'output'] as const;
export const FFN_ROLES = ['input', 'up_proj', 'gate_proj', 'intermediate', 'down_proj', 'output'] as const;
export const OTHER_POSITIONS = ['block.output', 'embeddings', 'embeddings.output'] as const;
/** Convolutional networks: every convolution (`conv`) or one kind — 1×1 (`conv.pointwise`),
 *  depthwise, k×k full (`conv.spatial`) — and dense layers outside attention (`dense`). */
export const CONV_POSITIONS = ['conv', 'conv.pointwise', 'conv.depthwise', 'conv.spatial', 'dense'] as const;
/** Stacks a position may be narrowed to: encoder-decoders' and two-tower models' (CLIP). */
export const STACKS = ['encoder', 'decoder', 'text', 'vision'] as const;
export type StackName = (typeof STACKS)[number];

export const USER_POSITIONS: string[] = [
  ...ATTN_ROLES.map((r) => `attn.${r}`),
  ...ATTN_ROLES.map((r) => `self_attn.${r}`),
  ...ATTN_ROLES.map((r) => `cross_attn.${r}`),
  ...FFN_ROLES.map((r) => `ffn.${r}`),
  ...OTHER_POSITIONS,
  ...CONV_POSITIONS,
];

export interface ParsedPosition {
  stack: StackName | null;
  /** Canonical role: `attn.query` (any attention), `self_attn.query`, `ffn.output`, `embeddings`… */
  role: string;
}

/** `decoder.cross_attn.heads` → {stack: 'decoder', role: 'cross_attn.heads'}; null if not a position. */
export function parsePosition(p: string): ParsedPosition | null {
  let stack: ParsedPosition['stack'] = null;
  let rest = p;
  const m = /^(encoder|decoder|text|vision)\.(.*)$/.exec(p);
  if (m) {
    stack = m[1] as StackName;
    rest = m[2];
  }
  if (!USER_POSITIONS.includes(rest)) return null;
  return { stack, role: rest };
}

/** Does a user position select a site (its stack and canonical position)? */
export function positionMatches(user: ParsedPosition, siteStack: string, sitePosition: string): boolean {
  if (user.stack && user.stack !== siteStack) return false;
  if (user.role === sitePosition) return true;
  if (user.role === 'conv') return sitePosition.startsWith('conv.');
  if (user.role.startsWith('attn.')) {
    const role = user.role.slice(5);
    return sitePosition === `self_attn.${role}` || sitePosition === `cross_attn.${role}`;
  }
  return false;
}

/** The position's kind, from its role (what families' sites report). */
export function positionKind(role: string): PositionKind {
  const last = role.split('.').pop()!;
  if (role.startsWith('embeddings')) return 'embeddings';
  if (role === 'conv' || role.startsWith('conv.')) return 'conv';
  if (role === 'dense') return 'linear';
  if (last === 'heads') return 'heads';
  if (['query', 'key', 'value', 'qkv', 'out_proj', 'up_proj', 'gate_proj', 'down_proj'].includes(last)) return 'linear';
  if (last === 'output') return 'sublayer';
  return 'activation';
}

/**
 * Why a module cannot go at a position of this role, or null when it can: the function's own
 * rule (its table entry). `kind` is the site's own kind when known: a backbone with a fused
 * q/k/v projection (GPT-2) exposes attn.query/key/value as slices of its output (kind
 * 'activation'), where weight-level functions have no weight.
 */
export function functionMisfit(m: Pick<ModulePlan, 'function' | 'heads' | 'options'>, role: string, kind?: PositionKind): string | null {
  const spec = functionSpec(m.function)!;
  const own = kind ?? positionKind(role);
  const sliced = own !== 'linear' && positionKind(role) === 'linear';
  return spec.misfit({ role, kind: own, sliced, heads: m.heads, options: m.options });
}

/** The layer indices a selector picks in a stack of `depth` layers (out-of-range ones dropped). */
export function resolveLayers(sel: LayerSelector, depth: number): number[] {
  const all = Array.from({ length: depth }, (_, i) => i);
  if (sel === 'all') return all;
  if (Array.isArray(sel)) return all.filter((i) => sel.includes(i) || sel.includes(i - depth));
  if ('top' in sel) return all.slice(Math.max(0, depth - sel.top));
  if ('bottom' in sel) return all.slice(0, sel.bottom);
  return all.filter((i) => i >= sel.from && i <= sel.to);
}
