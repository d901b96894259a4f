// Position rules several functions share.
import type { PositionFit } from './spec.js';

/** A function that reparameterises a weight matrix goes at a projection that has its own weight. */
export function weightOnly(name: string, what: string, p: PositionFit<unknown>): string | null {
  if (p.sliced) {
    return `${p.role} is a slice of a fused q/k/v projection here, with no weight matrix of its own: put ${name} at attn.qkv, or use an additive function (lowrank, bottleneck, scaling, bias) at ${p.role}`;
  }
  return p.kind === 'linear' ? null : `${name} ${what}, so it only goes at a projection (attn.query, ffn.down_proj, …)`;
}

/** Functions computed from an input x need one: not at the embeddings, and per head at attn.heads. */
export function needsInput(what: string, p: PositionFit<unknown>): string | null {
  if (p.kind === 'embeddings') return `${what} needs an input x; at embeddings use bias, scaling or prompt`;
  if (p.kind === 'heads' && p.heads !== 'multi') return 'at attn.heads a function works per head: set heads: multi';
  return null;
}
