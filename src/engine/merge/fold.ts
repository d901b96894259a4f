// Folding PEFT modules into the backbone's weights (Python peft's merge_and_unload). Each module
// says how it folds (its `fold()`: a ΔW, a new W, a scale or a bias vector, or why it cannot);
// this file finds the projection a site belongs to and applies it. Low-rank-style updates (Δh
// linear in x) add ΔW, DoRA rescales W + s·ΔW row by row, scaling multiplies rows (output) or
// columns (input), a bias adds to the projection's bias; the rest is refused with its reason.
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import type { PeftModel } from '../methods/inject.js';
import type { SiteInfo } from '../backbones/types.js';
import type { ModulePlan } from '../../plan/index.js';
import type { Foldable, WeightFold } from '../methods/types.js';
import { PeftError } from '../../errors.js';
import type { Conv2d } from '../nn/conv.js';
import { convFoldProblem, foldIntoConv } from './fold-conv.js';

export interface MergeReport {
  /** `<module> → <projection path>` for every folded site. */
  merged: string[];
}

function refuse(plan: ModulePlan, site: SiteInfo, why: string): PeftError {
  return new PeftError('RECIPE', `${plan.name} (${plan.function} at ${site.position}) cannot be merged: ${why}`, {
    where: `method.modules.${plan.name}`,
    hint: 'mergeable: lowrank (LoRA and its family but routed experts), LoHa, svd (AdaLoRA, IncreLoRA), subspace, scaling (IA³) and bias at projections; keep the adapter unmerged otherwise',
  });
}

/** The projection a non-linear site's input belongs to: ffn.intermediate → down_proj, *.heads → out_proj. */
function consumer(peft: PeftModel, site: SiteInfo): SiteInfo | null {
  const want = site.position === 'ffn.intermediate' ? 'ffn.down_proj' : site.position.endsWith('.heads') ? site.position.replace(/heads$/, 'out_proj') : null;
  if (!want) return null;
  return peft.model.sites.find((s) => s.stack === site.stack && s.layer === site.layer && s.position === want && s.kind === 'linear') ?? null;
}

/** Folds every module into the backbone in place. Throws (before changing anything) if one cannot be. */
export function mergeIntoBackbone(peft: PeftModel): MergeReport {
  mergeOrCheck(peft, false);
  // a selection's trained entries are written into the tensors they belong to first (entries it
  // did not train keep the backbone's values bit for bit; its whole tensors were loaded in
  // place), so that the modules' updates then apply on top, as in the forward pass
  const selected = peft.selection?.foldIntoBackbone() ?? [];
  const report = mergeOrCheck(peft, true);
  report.merged.unshift(...selected);
  return report;
}

/** Where a site's Δh lands in a projection: the projection, and for a fused-q/k/v slice its output offset. */
interface Target {
  site: SiteInfo;
  linear: Linear;
  /** Output columns [offset, offset + width) of the projection (width = its out size unless a slice). */
  offset: number;
  width: number;
}

function targetOf(peft: PeftModel, modules: Map<string, Module>, site: SiteInfo, side: 'output' | 'input'): Target | null {
  const linearAt = (s: SiteInfo | null | undefined) => {
    const m = s ? modules.get(s.path) : undefined;
    return m instanceof Linear ? m : null;
  };
  if (side === 'output') {
    if (site.kind === 'linear') {
      const linear = linearAt(site);
      return linear ? { site, linear, offset: 0, width: linear.outFeatures } : null;
    }
    const slice = /^(self_attn|cross_attn)\.(query|key|value)$/.exec(site.position);
    if (!slice) return null;
    const fused = peft.model.sites.find((s) => s.stack === site.stack && s.layer === site.layer && s.position === `${slice[1]}.qkv`);
    const linear = linearAt(fused);
    if (!fused || !linear) return null;
    return { site: fused, linear, offset: ['query', 'key', 'value'].indexOf(slice[2]) * site.outDim, width: site.outDim };
  }
  const c = consumer(peft, site);
  const linear = linearAt(c);
  return c && linear ? { site: c, linear, offset: 0, width: linear.inFeatures } : null;
}

/** How an attachment folds (every module of engine/methods says; anything else is not a weight update). */
function foldOf(att: unknown): WeightFold {
  const f = (att as Partial<Foldable> | undefined)?.fold;
  return typeof f === 'function' ? f.call(att) : { kind: 'refuse', why: 'it is not a weight update' };
}

function mergeOrCheck(peft: PeftModel, apply: boolean): MergeReport {
  const modules = new Map<string, Module>(peft.model.root.namedModules());
  const store = new Map<string, Module>(peft.store.namedModules());
  const merged: string[] = [];
  const noWeights = 'it does not modify a projection\'s weights';
  for (const m of peft.modules) {
    for (const site of m.sites) {
      const f = foldOf(store.get(`${site.path}.${m.plan.name}`));
      if (site.kind === 'conv') {
        const conv = modules.get(site.path);
        const why = convFoldProblem(conv, f);
        if (why) throw refuse(m.plan, site, why);
        if (apply) foldIntoConv(conv as Conv2d, f);
        merged.push(`${m.plan.name} → ${site.path}`);
        continue;
      }
      let target: Target | null;
      switch (f.kind) {
        case 'refuse':
          throw refuse(m.plan, site, f.why);
        case 'filter-delta':
          throw refuse(m.plan, site, noWeights);
        case 'reweight':
          target = site.kind === 'linear' ? targetOf(peft, modules, site, 'output') : null;
          if (!target) throw refuse(m.plan, site, noWeights);
          if (apply) reweight(target.linear, f.weight);
          break;
        case 'delta':
          target = targetOf(peft, modules, site, 'output');
          if (!target || target.linear.inFeatures !== site.inDim) throw refuse(m.plan, site, noWeights);
          if (apply) foldLinearDelta(f.matrix(), target);
          break;
        case 'scale': {
          // a projection's output is scaled by its rows; an input (FFN activation, heads) by the consumer's columns
          const produced = targetOf(peft, modules, site, 'output');
          target = produced ?? targetOf(peft, modules, site, 'input');
          if (!target) throw refuse(m.plan, site, 'it scales a representation no projection produces or consumes alone');
          if (apply) foldScaling(f.vector(), target, produced ? 'rows' : 'columns');
          break;
        }
        case 'affine': {
          target = site.kind === 'linear' ? targetOf(peft, modules, site, 'output') : null;
          if (!target) throw refuse(m.plan, site, 'it reads the projection\'s own output, so it merges only at a projection with a weight of its own');
          const t = target;
          if (f.addsBias && !t.linear.bias) throw refuse(m.plan, site, `its biases would need ${t.site.path} to have a bias, which this architecture lacks`);
          if (apply) affine(t.linear, f.apply);
          break;
        }
        case 'bias': {
          target = targetOf(peft, modules, site, 'output');
          if (!target) throw refuse(m.plan, site, 'a bias merges into a projection only');
          const t = target;
          if (!t.linear.bias) throw refuse(m.plan, site, `${t.site.path} has no bias in this architecture`);
          if (apply) t.linear.bias.set(tf.tidy(() => tf.add(t.linear.bias!.value, padOut(f.vector(), t, 0))));
          break;
        }
      }
      merged.push(`${m.plan.name} → ${target.site.path}`);
    }
  }
  return { merged };
}

/** A vector over the target's slice, padded with `fill` to the projection's full output size. */
function padOut(v: tf.Tensor, t: Target, fill: number): tf.Tensor {
  const total = t.linear.outFeatures;
  if (t.width === total) return v;
  return tf.pad(tf.reshape(v, [-1]), [[t.offset, total - t.offset - t.width]], fill);
}

/** W (storage layout) ← W + ΔW, ΔWᵀ [in, width] given (the site's slice of a fused projection padded). */
function foldLinearDelta(deltaT: tf.Tensor2D, t: Target): void {
  const linear = t.linear;
  const next = tf.tidy(() => {
    let dT = deltaT;
    if (t.width !== linear.outFeatures) dT = tf.pad(dT, [[0, 0], [t.offset, linear.outFeatures - t.offset - t.width]]);
    return tf.add(linear.weight.value, linear.layout === 'out_in' ? tf.transpose(dT) : dT);
  });
  deltaT.dispose();
  linear.weight.set(next);
}

/** W, b ← f(W, b), W seen as [out, in] whatever the storage layout. */
function affine(linear: Linear, f: (w: tf.Tensor2D, b: tf.Tensor1D | null) => { w: tf.Tensor2D; b: tf.Tensor1D | null }): void {
  const w = tf.tidy(() => linear.weightOutIn());
  const { w: nw, b: nb } = f(w, (linear.bias?.value as tf.Tensor1D | undefined) ?? null);
  if (w !== linear.weight.value) w.dispose();
  linear.weight.set(linear.layout === 'out_in' ? nw : tf.tidy(() => tf.transpose(nw)));
  if (linear.layout !== 'out_in') nw.dispose();
  if (linear.bias && nb) linear.bias.set(nb);
}

/** W ← f(W), W seen as [out, in] whatever the storage layout. */
function reweight(linear: Linear, f: (w: tf.Tensor2D) => tf.Tensor2D): void {
  const next = tf.tidy(() => {
    const w = f(linear.weightOutIn());
    return linear.layout === 'out_in' ? w : tf.transpose(w);
  });
  linear.weight.set(next);
}

/** rows: scales the projection's output (and bias; a slice of it for fused q/k/v); columns: its input. */
function foldScaling(vector: tf.Tensor, t: Target, what: 'rows' | 'columns'): void {
  const linear = t.linear;
  const outFirst = linear.layout === 'out_in';
  const next = tf.tidy(() => {
    if (what === 'rows') {
      const l = padOut(vector, t, 1);
      return tf.mul(linear.weight.value, outFirst ? tf.reshape(l, [-1, 1]) : tf.reshape(l, [1, -1]));
    }
    return tf.mul(linear.weight.value, outFirst ? tf.reshape(vector, [1, -1]) : tf.reshape(vector, [-1, 1]));
  });
  linear.weight.set(next);
  if (what === 'rows' && linear.bias) linear.bias.set(tf.tidy(() => tf.mul(linear.bias!.value, padOut(vector, t, 1))));
}
