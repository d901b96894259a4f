// AdapterHub decides per layer (`leave_out`, a per-layer `reduction_factor`), numbering an
// encoder-decoder's decoder layers after its encoder's. Our modules select layers per stack with
// one `layers` selector, so the layers that share a decision become one module: unprefixed
// positions when every stack agrees, `encoder.` / `decoder.` positions when they do not.
import type { LayerSelector } from '../../../plan/index.js';
import type { TaskModel } from '../../backbones/types.js';
import { parsePosition, positionMatches } from '../../../plan/index.js';
import { hubLayerIndex } from './locations.js';

export interface LayerGroup<K> {
  /** The per-layer decision these layers share. */
  key: K;
  positions: string[];
  layers: LayerSelector;
}

/**
 * Groups the layers holding `roles` (`ffn.output`, `attn.query`, …) by `decide(hubLayer)`; null
 * leaves a layer out. Keys compare by their JSON text.
 */
export function groupLayers<K>(model: TaskModel, roles: string[], decide: (hubLayer: number) => K | null): LayerGroup<K>[] {
  const depth = new Map<string, number>();
  for (const s of model.sites) if (s.layer >= 0) depth.set(s.stack, Math.max(depth.get(s.stack) ?? 0, s.layer + 1));
  // key → stack → layers
  const byKey = new Map<string, { key: K; stacks: Map<string, number[]> }>();
  for (const [stack, d] of depth) {
    for (let l = 0; l < d; l++) {
      const key = decide(hubLayerIndex(model, stack as 'model' | 'encoder' | 'decoder', l));
      if (key === null) continue;
      const text = JSON.stringify(key);
      const e = byKey.get(text) ?? { key, stacks: new Map<string, number[]>() };
      e.stacks.set(stack, [...(e.stacks.get(stack) ?? []), l]);
      byKey.set(text, e);
    }
  }
  const out: LayerGroup<K>[] = [];
  for (const { key, stacks } of byKey.values()) {
    const lists = [...stacks.values()].map((ls) => ls.join(','));
    const full = [...stacks].every(([stack, ls]) => ls.length === depth.get(stack));
    if (full && stacks.size === depth.size) {
      out.push({ key, positions: roles, layers: 'all' });
    } else if (stacks.size === depth.size && new Set(lists).size === 1) {
      out.push({ key, positions: roles, layers: [...stacks.values()][0] });
    } else {
      for (const [stack, ls] of stacks) {
        const here = roles.filter((r) => model.sites.some((s) => s.stack === stack && positionMatches(parsePosition(r)!, s.stack, s.position)));
        if (here.length === 0) continue;
        const positions = stack === 'model' ? here : here.map((r) => `${stack}.${r}`);
        out.push({ key, positions, layers: ls.length === depth.get(stack) ? 'all' : ls });
      }
    }
  }
  return out;
}

/** AdapterHub's `leave_out` as a decision: true for kept layers. */
export function keepUnless(leaveOut: unknown): (hubLayer: number) => true | null {
  const out = new Set(Array.isArray(leaveOut) ? leaveOut.map(Number) : []);
  return (l) => (out.has(l) ? null : true);
}
