// Python peft's IA3 type ↔ our `scaling` modules. peft scales a Linear's output (ia3_l
// [out, 1]) or, for `feedforward_modules`, its input (ia3_l [1, in]). Our positions for these:
// a projection's own site scales its output (bias included, as peft); scaling the input of the
// FFN's second projection is `ffn.intermediate`, and the input of the attention's output
// projection is `attn.heads` (the concatenated head outputs).
import type { ModulePlan } from '../../../plan/index.js';
import type { PeftModel } from '../../methods/inject.js';
import type { SiteInfo, TaskModel } from '../../backbones/types.js';
import { PEFT_TASK_TYPES, type AdapterEntry, type AdapterFormat } from './types.js';
import { modulesForSites, siteAt, targetSitesOf, sitesNamed, targetModulesFor } from './targets.js';
import { onlyHeadTrains, paramEntry, siteParams } from './entries.js';
import { headFromConfig, isGpt2Style, modulesToSave } from './lora-config.js';
import { peftSiteName } from './names.js';
import { PeftError } from '../../../errors.js';

/** The Linear peft would put ia3_l on for our scaling site, and whether it scales its input. */
export function ia3Target(model: TaskModel, site: SiteInfo): { linear: SiteInfo; feedforward: boolean } | null {
  if (site.kind === 'linear') return { linear: site, feedforward: false };
  if (site.position === 'ffn.intermediate') {
    const down = siteAt(model, site, 'ffn.down_proj');
    return down ? { linear: down, feedforward: true } : null;
  }
  if (site.position.endsWith('.heads')) {
    const out = siteAt(model, site, site.position.replace(/heads$/, 'out_proj'));
    return out ? { linear: out, feedforward: true } : null;
  }
  return null;
}

/** Our scaling site for a peft feedforward Linear (the representation that is its input). */
function inputSite(model: TaskModel, linear: SiteInfo): SiteInfo | null {
  if (linear.position === 'ffn.down_proj') return siteAt(model, linear, 'ffn.intermediate');
  if (linear.position.endsWith('.out_proj')) return siteAt(model, linear, linear.position.replace(/out_proj$/, 'heads'));
  return null;
}

function targets(peft: PeftModel): { site: SiteInfo; linear: SiteInfo; feedforward: boolean }[] | null {
  const out: { site: SiteInfo; linear: SiteInfo; feedforward: boolean }[] = [];
  for (const m of peft.modules) {
    for (const site of m.sites) {
      const t = ia3Target(peft.model, site);
      if (!t) return null;
      out.push({ site, ...t });
    }
  }
  // one ia3_l per Linear: a projection scaled on both sides has no IA3 form
  return new Set(out.map((t) => t.linear.path)).size === out.length ? out : null;
}

export function isPeftIa3(peft: PeftModel, backboneNames: string[] = []): boolean {
  if (peft.modules.length === 0 || !onlyHeadTrains(peft, backboneNames)) return false;
  if (peft.modules.some((m) => m.plan.function !== 'scaling')) return false;
  return targets(peft) !== null;
}

export const IA3_FORMAT: AdapterFormat = {
  type: 'IA3',
  promptLearning: false,
  keys: ['fan_in_fan_out', 'feedforward_modules', 'init_ia3_weights', 'modules_to_save', 'target_modules', 'exclude_modules', 'layers_to_transform', 'layers_pattern'],
  expresses: (peft) => isPeftIa3(peft, []),
  config(peft, baseModel) {
    const ts = targets(peft)!;
    const all = targetModulesFor(peft.model, ts.map((t) => t.linear));
    const ff = ts.filter((t) => t.feedforward).map((t) => t.linear);
    let feedforward: string[] | string = [];
    if (ff.length > 0) {
      // names that pick the feedforward Linears out of the targets
      const named = targetModulesFor(peft.model, ff).target_modules;
      const picked = sitesNamed(ts.map((t) => t.linear), named);
      feedforward = picked.length === ff.length && picked.every((s) => ff.includes(s)) ? named
        : `^(${ff.map((s) => s.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;
    }
    const cfg: Record<string, unknown> = {
      auto_mapping: null,
      base_model_name_or_path: baseModel,
      fan_in_fan_out: isGpt2Style(peft),
      feedforward_modules: feedforward,
      inference_mode: true,
      init_ia3_weights: true,
      modules_to_save: modulesToSave(peft),
      peft_type: 'IA3',
      revision: null,
      target_modules: all.target_modules,
      task_type: PEFT_TASK_TYPES[peft.model.task],
    };
    if (all.layers_to_transform) cfg.layers_to_transform = all.layers_to_transform;
    return cfg;
  },
  method(model, cfg) {
    const linears = targetSitesOf(model, cfg);
    const ff = new Set(sitesNamed(linears, cfg.feedforward_modules));
    const sites = linears.map((l) => {
      if (!ff.has(l)) return l;
      const s = inputSite(model, l);
      if (!s) {
        throw new PeftError('FORMAT', `IA3 scaling the input of ${l.path} is not supported (only the FFN's second projection and the attention's output projection)`, {
          where: 'adapter_config.json: feedforward_modules',
        });
      }
      return s;
    });
    const modules: ModulePlan[] = modulesForSites(sites, 'ia3', { function: 'scaling', init: 'ones', dropout: 0 }, 'ia3');
    return { method: { preset: 'ia3', modules, unfreeze: [], trainHead: headFromConfig(cfg) }, backboneNames: [] };
  },
  entries(peft) {
    const out: AdapterEntry[] = [];
    for (const sp of siteParams(peft)) {
      const t = ia3Target(peft.model, sp.site)!;
      const d = sp.param.shape[0];
      out.push(paramEntry(peftSiteName(t.linear.path, 'ia3_l'), sp.param, t.feedforward ? [1, d] : [d, 1]));
    }
    return out;
  },
};
