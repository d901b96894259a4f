// The weights a selection chooses from: the projections its positions and layers select (the
// `linear` sites of the backbone), their biases when asked, and for HFT each layer's tensors by
// category (attention, FFN, norms).
import type { Param } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import type { SiteInfo, TaskModel } from '../backbones/types.js';
import type { SelectPlan } from '../../plan/index.js';
import { parsePosition, positionMatches, resolveLayers } from '../../plan/index.js';
import type { LayerTensors } from './half.js';
import { PeftError } from '../../errors.js';

/** One tensor a selection may train: a projection's weight or bias. */
export interface Candidate {
  site: SiteInfo;
  linear: Linear;
  tensor: 'weight' | 'bias';
  param: Param;
  /** The backbone parameter's full name (`model.layers.0.self_attn.q_proj.weight`). */
  name: string;
}

/** The layer a parameter or module path belongs to (`model.layers.3`), or null outside the layers. */
export function layerPath(name: string): string | null {
  const m = /^((?:.*?\.)?(?:layers|layer|h|block)\.\d+)\./.exec(name);
  return m ? m[1] : null;
}

/** The linear sites the plan's positions and layers select (default positions a backbone lacks are skipped). */
export function selectionSites(model: TaskModel, plan: SelectPlan): SiteInfo[] {
  const depth = new Map<string, number>();
  for (const s of model.sites) if (s.layer >= 0) depth.set(s.stack, Math.max(depth.get(s.stack) ?? 0, s.layer + 1));
  const layers = new Map([...depth].map(([stack, d]) => [stack, new Set(resolveLayers(plan.layers, d))]));
  const out: SiteInfo[] = [];
  for (const pos of plan.positions) {
    const parsed = parsePosition(pos);
    if (!parsed) throw new PeftError('RECIPE', `unknown position "${pos}"`, { where: 'method.select.position' });
    const found = model.sites.filter((s) => positionMatches(parsed, s.stack, s.position) && s.layer >= 0 && layers.get(s.stack)!.has(s.layer));
    const weights = found.filter((s) => s.kind === 'linear');
    if (!plan.defaultPositions) {
      if (found.length === 0) {
        throw new PeftError('RECIPE', `position "${pos}" selects no weight of this ${model.family} backbone`, {
          where: 'method.select.position', hint: `its projections: ${[...new Set(model.sites.filter((s) => s.kind === 'linear').map((s) => s.position))].join(', ')}`,
        });
      }
      if (weights.length < found.length) {
        throw new PeftError('RECIPE', `${pos} has no weight of its own in this ${model.family} backbone (it is a slice or an activation)`, {
          where: 'method.select.position', hint: 'select the projection that computes it (attn.qkv on fused-q/k/v backbones)',
        });
      }
    }
    for (const s of weights) if (!out.includes(s)) out.push(s);
  }
  if (out.length === 0) throw new PeftError('RECIPE', `the selection's positions and layers choose no weight of this ${model.family} backbone`, { where: 'method.select' });
  return out;
}

/** The candidate tensors: every selected projection's weight, and its bias when `biases` is set. */
export function selectionCandidates(model: TaskModel, plan: SelectPlan): Candidate[] {
  const modules = new Map(model.root.namedModules());
  const biases = 'biases' in plan.options && plan.options.biases === true;
  const out: Candidate[] = [];
  for (const site of selectionSites(model, plan)) {
    const linear = modules.get(site.path);
    if (!(linear instanceof Linear)) throw new PeftError('RECIPE', `${site.path} is not a linear layer of this backbone`, { where: 'method.select.position' });
    out.push({ site, linear, tensor: 'weight', param: linear.weight, name: linear.weight.fullName });
    if (biases && linear.bias) out.push({ site, linear, tensor: 'bias', param: linear.bias, name: linear.bias.fullName });
  }
  return out;
}

/** HFT's view: each selected layer's attention matrices, FFN matrices and norms (one unit per norm module). */
export function layerTensors(model: TaskModel, candidates: readonly Candidate[], norms: boolean): LayerTensors[] {
  const byLayer = new Map<string, LayerTensors>();
  const entry = (layer: string) => {
    let e = byLayer.get(layer);
    if (!e) byLayer.set(layer, (e = { layer, attention: [], ffn: [], norms: [] }));
    return e;
  };
  for (const c of candidates) {
    if (c.tensor !== 'weight') continue;
    const layer = layerPath(c.name);
    if (!layer) continue;
    const units = /(^|_)attn\./.test(c.site.position) ? entry(layer).attention : entry(layer).ffn;
    units.push([c.name]);
  }
  if (norms) {
    const units = new Map<string, string[]>();
    for (const [name, p] of model.root.namedParams()) {
      const layer = layerPath(name);
      if (!layer || !byLayer.has(layer) || !p.tags.has('norm')) continue;
      const unit = name.slice(0, name.lastIndexOf('.'));
      units.set(unit, [...(units.get(unit) ?? []), name]);
    }
    for (const [unit, names] of units) byLayer.get(layerPath(unit + '.x')!)!.norms.push(names);
  }
  return [...byLayer.values()];
}
