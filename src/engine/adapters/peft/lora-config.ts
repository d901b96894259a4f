// Python peft's LORA type ↔ our method plan. A plan is written as LORA when peft computes the
// same thing: one lowrank module at projections, parallel, scaled by α/r (α/√r with rsLoRA),
// DoRA included (use_dora: lora_magnitude_vector), optionally with the task head as
// modules_to_save. Tensors: `<path>.lora_A.weight` [r, in], `<path>.lora_B.weight` [out, r],
// `<path>.lora_magnitude_vector.weight` [out] (`….lora_magnitude_vector` before peft 0.12).
// Modules of different ranks or alphas are one LORA adapter with rank_pattern / alpha_pattern.
import { FUNCTIONS, type MethodPlan, type ModulePlan, type ModulePlanOf, type OptionsOf } from '../../../plan/index.js';
import type { PeftModel } from '../../methods/inject.js';
import type { SiteInfo, TaskModel } from '../../backbones/types.js';
import { HEAD_TASK_TYPES, PEFT_TASK_TYPES, type AdapterFormat } from './types.js';
import { modulesForSites, targetSitesOf, targetModulesFor } from './targets.js';
import { num, onlyHeadTrains, paramEntry, scaleIs, siteParams } from './entries.js';
import { patternsFor, rankAlphaOf, type RankAlpha } from './lora-patterns.js';
import { peftSiteName } from './names.js';
import { PeftError } from '../../../errors.js';

/**
 * The modules of a method that peft's LORA type holds as one adapter: all lowrank, parallel,
 * single-head, at projections, scaled by their own α/r (α/√r), alike in everything but rank and
 * alpha — a representative plan, every site and each site's (r, alpha); else null.
 */
function loraModules(peft: PeftModel, plain: (o: OptionsOf<'lowrank'>) => boolean = isPlainLowRank): { plan: ModulePlanOf<'lowrank'>; sites: SiteInfo[]; of: (s: SiteInfo) => RankAlpha } | null {
  if (peft.modules.length === 0 || peft.modules.some((m) => m.plan.function !== 'lowrank')) return null;
  const plans = peft.modules.map((m) => m.plan as ModulePlanOf<'lowrank'>);
  const alike = (p: ModulePlanOf<'lowrank'>) => JSON.stringify([p.insertion, p.composition, p.heads, p.options.rslora, p.options.dora, p.options.dropout]);
  if (plans.some((p) => alike(p) !== alike(plans[0]))) return null;
  if (plans.some((p) => p.insertion !== 'parallel' || p.heads !== 'single' || !scaleIs(p, FUNCTIONS.lowrank.scale(p.options)))) return null;
  // fake-quantised LoRA computes with quantised weights that peft would not: our own type keeps that
  if (plans.some((p) => p.options.quantize_bits)) return null;
  // bases, cores, branches, experts and growing ranks are our own types (VERA, VBLORA or UNIFIED_VIEW)
  if (plans.some((p) => !plain(p.options))) return null;
  const bySite = new Map<SiteInfo, RankAlpha>();
  for (const m of peft.modules) {
    const o = (m.plan as ModulePlanOf<'lowrank'>).options;
    for (const s of m.sites) {
      // peft's Linear and Conv2d LoRA layers (a depthwise convolution has no LoRA in peft)
      if ((s.kind !== 'linear' && !(s.kind === 'conv' && s.conv?.groups === 1)) || bySite.has(s)) return null;
      bySite.set(s, { r: o.rank, alpha: o.alpha });
    }
  }
  return { plan: plans[0], sites: [...bySite.keys()], of: (s) => bySite.get(s)! };
}

/** Whether peft's LORA type expresses this method exactly. */
export function isPeftLora(peft: PeftModel, backboneNames: string[] = []): boolean {
  return loraModules(peft) !== null && onlyHeadTrains(peft, backboneNames);
}

/** LoRA as Python peft's LORA type has it: learned A/B, no core, one branch, no router, a fixed rank. */
export function isPlainLowRank(o: OptionsOf<'lowrank'>): boolean {
  return o.basis === 'learned' && o.factorization === 'ab' && o.branches === 'single' && o.experts === 1
    && o.rank_schedule === 'fixed' && !o.bias && o.init !== 'corda';
}

/** modules_to_save for a Python peft config: the task head when it trains. */
export function modulesToSave(peft: PeftModel): string[] | null {
  return peft.method.trainHead && peft.model.headPrefixes.length > 0 ? [...peft.model.headPrefixes] : null;
}

/** Training head for a loaded config: listed in modules_to_save, or implied by the task type. */
export function headFromConfig(cfg: Record<string, unknown>): boolean {
  const mts = Array.isArray(cfg.modules_to_save) ? cfg.modules_to_save : [];
  return mts.length > 0 || HEAD_TASK_TYPES.includes(String(cfg.task_type));
}

/** Patterns per module (rank_pattern, alpha_pattern) are not supported: an error names them. */
export function rejectPatterns(cfg: Record<string, unknown>, keys: string[]): void {
  for (const k of keys) {
    const v = cfg[k];
    if (v && typeof v === 'object' && Object.keys(v).length > 0) {
      throw new PeftError('FORMAT', `${k} is not supported yet`, { where: `adapter_config.json: ${k}`, hint: 'use one rank and alpha for all modules' });
    }
  }
}

export function isGpt2Style(peft: PeftModel): boolean {
  return peft.model.family === 'gpt2';
}

export const LORA_FORMAT: AdapterFormat = {
  type: 'LORA',
  promptLearning: false,
  keys: [
    'alpha_pattern', 'bias', 'fan_in_fan_out', 'init_lora_weights', 'layers_pattern', 'layers_to_transform', 'loftq_config',
    'lora_alpha', 'lora_dropout', 'megatron_config', 'megatron_core', 'modules_to_save', 'r', 'rank_pattern', 'target_modules',
    'use_rslora', 'use_dora', 'exclude_modules', 'lora_bias', 'eva_config', 'corda_config', 'layer_replication',
    'runtime_config', 'trainable_token_indices', 'target_parameters',
  ],
  expresses: (peft) => isPeftLora(peft, []),
  config(peft, baseModel) {
    // CorDA's adapter is written as LoRA too (corda-config.ts): its modules are LoRA's but for the init
    const m = (loraModules(peft) ?? loraModules(peft, (o) => isPlainLowRank({ ...o, init: 'lora' })))!;
    const o = m.plan.options;
    const { target_modules, layers_to_transform } = targetModulesFor(peft.model, m.sites);
    const { r, alpha, rank_pattern, alpha_pattern } = patternsFor(m.sites, m.of);
    const cfg: Record<string, unknown> = {
      alpha_pattern,
      auto_mapping: null,
      base_model_name_or_path: baseModel,
      bias: 'none',
      fan_in_fan_out: isGpt2Style(peft),
      inference_mode: true,
      init_lora_weights: true,
      layers_pattern: null,
      layers_to_transform,
      loftq_config: {},
      lora_alpha: alpha,
      lora_dropout: o.dropout,
      megatron_config: null,
      megatron_core: 'megatron.core',
      modules_to_save: modulesToSave(peft),
      peft_type: 'LORA',
      r,
      rank_pattern,
      revision: null,
      target_modules,
      task_type: PEFT_TASK_TYPES[peft.model.task],
    };
    if (o.rslora) cfg.use_rslora = true;
    if (o.dora) cfg.use_dora = true;
    return cfg;
  },
  method(model: TaskModel, cfg) {
    if (cfg.bias !== undefined && cfg.bias !== 'none') {
      throw new PeftError('FORMAT', `bias: ${JSON.stringify(cfg.bias)} is not supported yet`, { where: 'adapter_config.json: bias', hint: 'LoRA adapters with bias "none" load' });
    }
    const sites = targetSitesOf(model, cfg);
    const defaults = { r: num(cfg, 'r', 8), alpha: num(cfg, 'lora_alpha', 8) };
    const rslora = Boolean(cfg.use_rslora);
    // sites grouped by their (r, alpha): one module each (the most common first, named `lora`)
    const groups = new Map<string, { ra: RankAlpha; sites: SiteInfo[] }>();
    for (const s of sites) {
      const ra = rankAlphaOf(cfg, s.path, defaults);
      const key = JSON.stringify(ra);
      groups.set(key, { ra, sites: [...(groups.get(key)?.sites ?? []), s] });
    }
    const ordered = [...groups.values()].sort((a, b) => b.sites.length - a.sites.length);
    const modules: ModulePlan[] = ordered.flatMap((g, i) => modulesForSites(g.sites, i === 0 ? 'lora' : `lora_p${i + 1}`, {
      function: 'lowrank', insertion: 'parallel', composition: 'scaled', heads: 'single',
      rank: g.ra.r, alpha: g.ra.alpha, rslora, dora: Boolean(cfg.use_dora), dropout: num(cfg, 'lora_dropout', 0), init: 'lora',
    }, 'lora'));
    const method: MethodPlan = { preset: cfg.use_dora ? 'dora' : rslora ? 'rslora' : 'lora', modules, unfreeze: [], trainHead: headFromConfig(cfg) };
    return { method, backboneNames: [] };
  },
  entries(peft) {
    return siteParams(peft).map((sp) =>
      sp.local === 'lora_magnitude_vector'
        ? paramEntry(peftSiteName(sp.site.path, sp.local, '.weight'), sp.param, undefined, [peftSiteName(sp.site.path, sp.local)])
        : paramEntry(peftSiteName(sp.site.path, sp.local, '.weight'), sp.param));
  },
};
