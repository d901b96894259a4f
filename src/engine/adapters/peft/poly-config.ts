// Python peft's POLY type (peft ≥ 0.7: Poly and, with n_splits > 1, MHR) ↔ our `poly` function on
// Linear layers. Tensors (no `.weight`): `<path>.poly_lora_A` [S, K, in/S, r], `<path>.poly_lora_B`
// [S, K, r, out/S], `<path>.poly_router.module_logits` [n_tasks, S·K]; the task head under
// modules_to_save as for LoRA.
import type { PeftModel } from '../../methods/inject.js';
import { FUNCTIONS } from '../../../plan/index.js';
import { PEFT_TASK_TYPES, type AdapterFormat } from './types.js';
import { modulesForSites, targetSitesOf, targetModulesFor } from './targets.js';
import { num, onlyHeadTrains, paramEntry, scaleIs, siteParams, uniformModules } from './entries.js';
import { headFromConfig, modulesToSave } from './lora-config.js';
import { peftSiteName } from './names.js';
import { PeftError } from '../../../errors.js';

export function isPeftPoly(peft: PeftModel, backboneNames: string[] = []): boolean {
  const m = uniformModules(peft, 'poly');
  if (!m || !onlyHeadTrains(peft, backboneNames)) return false;
  const p = m.plan;
  if (p.insertion !== 'parallel' || p.heads !== 'single' || m.sites.some((s) => s.kind !== 'linear') || peft.model.family === 'gpt2') return false;
  return scaleIs(p, FUNCTIONS.poly.scale(p.options));
}

export const POLY_FORMAT: AdapterFormat = {
  type: 'POLY',
  promptLearning: false,
  keys: ['r', 'target_modules', 'exclude_modules', 'modules_to_save', 'init_weights', 'poly_type', 'n_tasks', 'n_skills', 'n_splits'],
  expresses: (peft) => isPeftPoly(peft, []),
  config(peft, baseModel) {
    const m = uniformModules(peft, 'poly')!;
    const o = m.plan.options;
    const { target_modules, layers_to_transform } = targetModulesFor(peft.model, m.sites);
    if (layers_to_transform !== null) {
      throw new PeftError('FORMAT', 'Python peft\'s POLY type has no layers_to_transform: it adapts a module in every layer', {
        where: 'method.layers', hint: 'put poly in every layer (layers: all) to save it as POLY',
      });
    }
    return {
      auto_mapping: null,
      base_model_name_or_path: baseModel,
      inference_mode: true,
      init_weights: true,
      modules_to_save: modulesToSave(peft),
      n_skills: o.n_skills,
      n_splits: o.n_splits,
      n_tasks: o.n_tasks,
      peft_type: 'POLY',
      poly_type: 'poly',
      r: o.rank,
      revision: null,
      target_modules,
      task_type: PEFT_TASK_TYPES[peft.model.task],
    };
  },
  method(model, cfg) {
    if (cfg.poly_type !== undefined && cfg.poly_type !== 'poly') {
      throw new PeftError('FORMAT', `poly_type ${JSON.stringify(cfg.poly_type)} is not supported`, { where: 'adapter_config.json: poly_type', hint: 'Python peft knows only "poly"' });
    }
    const sites = targetSitesOf(model, cfg);
    const splits = num(cfg, 'n_splits', 1);
    const preset = splits > 1 ? 'mhr' : 'poly';
    const modules = modulesForSites(sites, 'poly', {
      function: 'poly', insertion: 'parallel', composition: 'scaled', heads: 'single', init: 'lora', dropout: 0,
      rank: num(cfg, 'r', 8), n_tasks: num(cfg, 'n_tasks', 1), n_skills: num(cfg, 'n_skills', 4), n_splits: splits,
    }, preset);
    return { method: { preset, modules, unfreeze: [], trainHead: headFromConfig(cfg) }, backboneNames: [] };
  },
  entries(peft) {
    return siteParams(peft).map((sp) => paramEntry(peftSiteName(sp.site.path, sp.local), sp.param));
  },
};
