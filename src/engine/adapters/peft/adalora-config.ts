// Python peft's ADALORA type ↔ our `svd` function. Tensors `<path>.lora_A` [r, in],
// `<path>.lora_E` [r, 1], `<path>.lora_B` [out, r] (no `.weight`). The scale is α/(ranknum +
// 1e-5) with ranknum the initial rank init_r (peft keeps it when it prunes). We save every
// triplet with pruned singular values at 0 and rank_pattern null, which peft loads to the same
// outputs; a peft adapter saved with a rank_pattern holds only the kept triplets per module,
// and loads here with that rank per module and the same scale.
import type { ModulePlan } from '../../../plan/index.js';
import type { PeftModel } from '../../methods/inject.js';
import type { SiteInfo } from '../../backbones/types.js';
import { svdSettings } from '../../methods/svd.js';
import { adaloraScale } from '../../../plan/index.js';
import { PEFT_TASK_TYPES, type AdapterFormat } from './types.js';
import { modulesForSites, targetSitesOf, targetModulesFor } from './targets.js';
import { num, onlyHeadTrains, paramEntry, scaleIs, siteParams, uniformModules } from './entries.js';
import { headFromConfig, isGpt2Style, modulesToSave, rejectPatterns } from './lora-config.js';
import { peftSiteName } from './names.js';
import { PeftError } from '../../../errors.js';

export function isPeftAdalora(peft: PeftModel, backboneNames: string[] = []): boolean {
  const m = uniformModules(peft, 'svd');
  if (!m || !onlyHeadTrains(peft, backboneNames)) return false;
  const p = m.plan;
  if (p.insertion !== 'parallel' || p.options.rank_schedule !== 'prune' || m.sites.some((s) => s.kind !== 'linear')) return false;
  return scaleIs(p, adaloraScale(p.options));
}

/** Kept triplets per module path, from a peft rank_pattern (keys end in `lora_E[.<adapter>]`). */
function rankPattern(cfg: Record<string, unknown>): Map<string, number> | null {
  const rp = cfg.rank_pattern;
  if (!rp || typeof rp !== 'object' || Object.keys(rp).length === 0) return null;
  const out = new Map<string, number>();
  for (const [key, mask] of Object.entries(rp as Record<string, unknown>)) {
    if (!Array.isArray(mask)) throw new PeftError('FORMAT', 'rank_pattern entries must be lists of booleans', { where: `adapter_config.json: rank_pattern.${key}` });
    const path = key.replace(/^base_model\.model\./, '').replace(/\.lora_E(\.[^.]+)?$/, '');
    out.set(path, mask.filter(Boolean).length);
  }
  return out;
}

export const ADALORA_FORMAT: AdapterFormat = {
  type: 'ADALORA',
  promptLearning: false,
  keys: [
    'alpha_pattern', 'beta1', 'beta2', 'bias', 'deltaT', 'fan_in_fan_out', 'init_lora_weights', 'init_r', 'layers_pattern',
    'layers_to_transform', 'loftq_config', 'lora_alpha', 'lora_dropout', 'megatron_config', 'megatron_core', 'modules_to_save',
    'orth_reg_weight', 'r', 'rank_pattern', 'target_modules', 'target_r', 'tfinal', 'tinit', 'total_step', 'use_rslora', 'use_dora',
    'exclude_modules', 'lora_bias', 'eva_config', 'corda_config', 'layer_replication', 'runtime_config', 'trainable_token_indices',
    'target_parameters',
  ],
  expresses: (peft) => isPeftAdalora(peft, []),
  config(peft, baseModel) {
    const m = uniformModules(peft, 'svd')!;
    const o = m.plan.options;
    const s = svdSettings(o);
    const { target_modules, layers_to_transform } = targetModulesFor(peft.model, m.sites);
    return {
      alpha_pattern: {},
      auto_mapping: null,
      base_model_name_or_path: baseModel,
      beta1: s.beta1,
      beta2: s.beta2,
      bias: 'none',
      deltaT: s.deltaT,
      fan_in_fan_out: isGpt2Style(peft),
      inference_mode: true,
      init_lora_weights: true,
      init_r: s.initR,
      layers_pattern: null,
      layers_to_transform,
      loftq_config: {},
      lora_alpha: o.alpha,
      lora_dropout: o.dropout,
      megatron_config: null,
      megatron_core: 'megatron.core',
      modules_to_save: modulesToSave(peft),
      orth_reg_weight: s.orthReg,
      peft_type: 'ADALORA',
      // peft ignores `r` for AdaLoRA (init_r is the rank) and warns unless it is the default 8
      r: 8,
      rank_pattern: null,
      revision: null,
      target_modules,
      target_r: s.targetR,
      task_type: PEFT_TASK_TYPES[peft.model.task],
      tfinal: s.tfinal,
      tinit: s.tinit,
      total_step: null,
    };
  },
  method(model, cfg) {
    rejectPatterns(cfg, ['alpha_pattern']);
    const sites = targetSitesOf(model, cfg);
    const initR = num(cfg, 'init_r', 12);
    const alpha = num(cfg, 'lora_alpha', 8);
    const pattern = rankPattern(cfg);
    const byRank = new Map<number, SiteInfo[]>();
    for (const s of sites) {
      const r = pattern?.get(s.path) ?? initR;
      if (r > 0) byRank.set(r, [...(byRank.get(r) ?? []), s]);
    }
    const modules: ModulePlan[] = [];
    for (const [r, group] of byRank) {
      const name = byRank.size === 1 ? 'adalora' : `adalora_r${r}`;
      modules.push(...modulesForSites(group, name, {
        function: 'svd', insertion: 'parallel', composition: 'scaled', heads: 'single', dropout: num(cfg, 'lora_dropout', 0), init: 'lora',
        // every module keeps peft's scale α/(init_r + 1e-5) whatever rank its pattern left it
        scale: adaloraScale({ rank: initR, alpha }), rank: r, alpha, target_rank: num(cfg, 'target_r', 8),
        tinit: num(cfg, 'tinit', 0), tfinal: num(cfg, 'tfinal', 0), delta_t: num(cfg, 'deltaT', 1),
        beta1: num(cfg, 'beta1', 0.85), beta2: num(cfg, 'beta2', 0.85), orth_reg: num(cfg, 'orth_reg_weight', 0.5),
      }, 'adalora'));
    }
    return { method: { preset: 'adalora', modules, unfreeze: [], trainHead: headFromConfig(cfg) }, backboneNames: [] };
  },
  entries(peft) {
    return siteParams(peft).map((sp) => paramEntry(peftSiteName(sp.site.path, sp.local), sp.param));
  },
};
