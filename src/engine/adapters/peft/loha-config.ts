// Python peft's LOHA type ↔ our `hadamard` function: ΔW = (w1_a·w1_b) ⊙ (w2_a·w2_b)·α/r on
// Linear layers. Tensors `<path>.hada_w1_a` [out, r], `hada_w1_b` [r, in], `hada_w2_a`,
// `hada_w2_b` (no `.weight`). rank_dropout and module_dropout only act in training; they are
// not reproduced here (a warning says so).
import type { PeftModel } from '../../methods/inject.js';
import { FUNCTIONS } from '../../../plan/index.js';
import { PEFT_TASK_TYPES, type AdapterFormat } from './types.js';
import { modulesForSites, targetSitesOf, targetModulesFor } from './targets.js';
import { num, onlyHeadTrains, paramEntry, scaleIs, siteParams, uniformModules } from './entries.js';
import { headFromConfig, modulesToSave, rejectPatterns } from './lora-config.js';
import { peftSiteName } from './names.js';
import { PeftError } from '../../../errors.js';

export function isPeftLoha(peft: PeftModel, backboneNames: string[] = []): boolean {
  const m = uniformModules(peft, 'hadamard');
  if (!m || !onlyHeadTrains(peft, backboneNames)) return false;
  const p = m.plan;
  // peft 0.7's LoHa takes nn.Linear only: GPT-2's Conv1D projections have no LOHA form
  if (p.insertion !== 'parallel' || m.sites.some((s) => s.kind !== 'linear') || peft.model.family === 'gpt2') return false;
  return scaleIs(p, FUNCTIONS.hadamard.scale(p.options));
}

export const LOHA_FORMAT: AdapterFormat = {
  type: 'LOHA',
  promptLearning: false,
  keys: [
    'alpha', 'alpha_pattern', 'init_weights', 'layers_pattern', 'layers_to_transform', 'module_dropout', 'modules_to_save', 'r',
    'rank_dropout', 'rank_pattern', 'target_modules', 'use_effective_conv2d', 'exclude_modules',
  ],
  expresses: (peft) => isPeftLoha(peft, []),
  config(peft, baseModel) {
    const m = uniformModules(peft, 'hadamard')!;
    const o = m.plan.options;
    const r = o.rank;
    const { target_modules, layers_to_transform } = targetModulesFor(peft.model, m.sites);
    return {
      alpha: o.alpha,
      alpha_pattern: {},
      auto_mapping: null,
      base_model_name_or_path: baseModel,
      inference_mode: true,
      init_weights: true,
      layers_pattern: null,
      layers_to_transform,
      module_dropout: 0,
      modules_to_save: modulesToSave(peft),
      peft_type: 'LOHA',
      r,
      rank_dropout: 0,
      rank_pattern: {},
      revision: null,
      target_modules,
      task_type: PEFT_TASK_TYPES[peft.model.task],
      use_effective_conv2d: false,
    };
  },
  method(model, cfg, warnings) {
    rejectPatterns(cfg, ['rank_pattern', 'alpha_pattern']);
    for (const k of ['rank_dropout', 'module_dropout']) {
      if (num(cfg, k, 0) > 0) warnings.push(`adapter_config.json: ${k} ${cfg[k]} acts only in training and is not reproduced here`);
    }
    const sites = targetSitesOf(model, cfg);
    const r = num(cfg, 'r', 8);
    const alpha = num(cfg, 'alpha', 8);
    const modules = modulesForSites(sites, 'loha', {
      function: 'hadamard', insertion: 'parallel', composition: 'scaled', heads: 'single', rank: r, alpha, dropout: 0, init: 'lora',
    }, 'loha');
    return { method: { preset: 'loha', modules, unfreeze: [], trainHead: headFromConfig(cfg) }, backboneNames: [] };
  },
  entries(peft) {
    return siteParams(peft).map((sp) => paramEntry(peftSiteName(sp.site.path, sp.local), sp.param));
  },
};
