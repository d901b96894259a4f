// Folding mergeable PEFT modules into the backbone's weights (Python peft's merge_and_unload):
// low-rank-style updates (lowrank, LoHa, AdaLoRA: Δh linear in x) add s·ΔW to the projection,
// DoRA rescales W + s·ΔW row by row, scaling multiplies rows (output) or columns (input), a
// bias adds to the projection's bias. Anything whose Δh is not a fixed linear map of the
// projection's input (bottleneck nonlinearity, prefixes, prompts, gates) is refused with the reason.
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from './nn/module.js';
import { Linear } from './nn/linear.js';
import type { PeftModel } from './methods/inject.js';
import type { SiteInfo } from './backbones/types.js';
import type { ModulePlan } from '../recipes/types.js';
import { SiteModule } from './methods/compose.js';
import { LowRank } from './methods/lowrank.js';
import { Hadamard } from './methods/hadamard.js';
import { SvdLowRank } from './methods/svd.js';
import { DoraLinear } from './methods/dora.js';
import { Scaling } from './methods/scaling.js';
import { AddedBias } from './methods/bias.js';
import { PeftError } from '../errors.js';

export interface MergeReport {
  /** `<module> → <projection path>` for every folded site. */
  merged: string[];
}

function refuse(plan: ModulePlan, site: SiteInfo, why: string): PeftError {
  return new PeftError('RECIPE', `${plan.name} (${plan.function} at ${site.position}) cannot be merged: ${why}`, {
    where: `method.modules.${plan.name}`,
    hint: 'mergeable: lowrank (LoRA, rsLoRA, DoRA), LoHa, AdaLoRA, scaling (IA³) and bias at projections; keep the adapter unmerged otherwise',
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
  return mergeOrCheck(peft, true);
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

function mergeOrCheck(peft: PeftModel, apply: boolean): MergeReport {
  const modules = new Map<string, Module>(peft.model.root.namedModules());
  const store = new Map<string, Module>(peft.store.namedModules());
  const merged: string[] = [];
  for (const m of peft.modules) {
    for (const site of m.sites) {
      const att = store.get(`${site.path}.${m.plan.name}`);
      const noWeights = 'it does not modify a projection\'s weights';
      let target: Target | null;
      if (att instanceof DoraLinear) {
        target = site.kind === 'linear' ? targetOf(peft, modules, site, 'output') : null;
        if (!target) throw refuse(m.plan, site, noWeights);
        if (apply) foldDora(att, target.linear);
      } else if (att instanceof LowRank || att instanceof Hadamard || att instanceof SvdLowRank) {
        if (m.plan.insertion !== 'parallel') throw refuse(m.plan, site, 'sequential insertion multiplies the projection\'s output, not its input');
        if (m.plan.composition === 'gated') throw refuse(m.plan, site, 'a gate depends on the input');
        target = targetOf(peft, modules, site, 'output');
        if (!target || target.linear.inFeatures !== site.inDim) throw refuse(m.plan, site, noWeights);
        if (apply) foldLinearDelta(att, target);
      } else if (att instanceof Scaling) {
        // a projection's output is scaled by its rows; an input (FFN activation, heads) by the consumer's columns
        const produced = targetOf(peft, modules, site, 'output');
        target = produced ?? targetOf(peft, modules, site, 'input');
        if (!target) throw refuse(m.plan, site, 'it scales a representation no projection produces or consumes alone');
        if (apply) foldScaling(att, target, produced ? 'rows' : 'columns');
      } else if (att instanceof AddedBias) {
        target = targetOf(peft, modules, site, 'output');
        if (!target) throw refuse(m.plan, site, 'a bias merges into a projection only');
        if (!target.linear.bias) throw refuse(m.plan, site, `${target.site.path} has no bias in this architecture`);
        if (apply) {
          const t = target;
          t.linear.bias!.set(tf.tidy(() => tf.add(t.linear.bias!.value, padOut(att.bias.value, t, 0))));
        }
      } else if (att instanceof SiteModule) {
        throw refuse(m.plan, site, m.plan.function === 'bottleneck' ? 'its Δh passes through a nonlinearity' : 'its Δh is not a fixed linear map of the input');
      } else {
        throw refuse(m.plan, site, m.plan.function === 'prefix' || m.plan.function === 'prompt'
          ? 'it adds positions to the sequence, not weights' : 'it is not a weight update');
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

/** W (storage layout) ← W + s·ΔW, with ΔWᵀ = Δ(I): Δ is linear in its input, so its matrix is its image of the identity. */
function foldLinearDelta(att: LowRank | Hadamard | SvdLowRank, t: Target): void {
  const linear = t.linear;
  const next = tf.tidy(() => {
    let dT = tf.mul(att.delta(tf.eye(linear.inFeatures), null as never), att.scaleValue()) as tf.Tensor2D; // [in, width]
    if (t.width !== linear.outFeatures) dT = tf.pad(dT, [[0, 0], [t.offset, linear.outFeatures - t.offset - t.width]]);
    return tf.add(linear.weight.value, linear.layout === 'out_in' ? tf.transpose(dT) : dT);
  });
  linear.weight.set(next);
}

function foldDora(att: DoraLinear, linear: Linear): void {
  const next = tf.tidy(() => {
    const w = tf.add(linear.weightOutIn(), tf.mul(tf.matMul(att.B.value as tf.Tensor2D, att.A.value as tf.Tensor2D), att.scale));
    const rowNorm = tf.sqrt(tf.sum(tf.square(w), 1, true));
    const merged = tf.mul(w, tf.div(tf.reshape(att.magnitude.value, [-1, 1]), rowNorm));
    return linear.layout === 'out_in' ? merged : tf.transpose(merged);
  });
  linear.weight.set(next);
}

/** rows: scales the projection's output (and bias; a slice of it for fused q/k/v); columns: its input. */
function foldScaling(att: Scaling, t: Target, what: 'rows' | 'columns'): void {
  const linear = t.linear;
  const outFirst = linear.layout === 'out_in';
  const next = tf.tidy(() => {
    if (what === 'rows') {
      const l = padOut(att.vector.value, t, 1);
      return tf.mul(linear.weight.value, outFirst ? tf.reshape(l, [-1, 1]) : tf.reshape(l, [1, -1]));
    }
    return tf.mul(linear.weight.value, outFirst ? tf.reshape(att.vector.value, [1, -1]) : tf.reshape(att.vector.value, [-1, 1]));
  });
  linear.weight.set(next);
  if (what === 'rows' && linear.bias) linear.bias.set(tf.tidy(() => tf.mul(linear.bias!.value, padOut(att.vector.value, t, 1))));
}
