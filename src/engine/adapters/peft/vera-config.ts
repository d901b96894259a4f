// Python peft's VERA type ↔ lowrank with basis: shared (shared-basis.ts). Tensors: per site
// `<path>.vera_lambda_b` [out] and `<path>.vera_lambda_d` [r]; the shared frozen basis
// `base_model.vera_A` [r, max in] and `base_model.vera_B` [max out, r] when save_projection is on
// (peft's default). peft regenerates a basis saved without it from torch's generator seeded with
// projection_prng_key, which we cannot reproduce: such files are refused, and we save VERA only
// with the basis in the file (else our own type, with the seed alone).
import type { PeftModel } from '../../methods/inject.js';
import type { TaskModel } from '../../backbones/types.js';
import type { AdapterEntry, AdapterFormat } from './types.js';
import { PEFT_TASK_TYPES } from './types.js';
import { modulesForSites, targetSitesOf, targetModulesFor } from './targets.js';
import { num, onlyHeadTrains, paramEntry, siteParams, uniformModules } from './entries.js';
import { headFromConfig, isGpt2Style, modulesToSave, rejectPatterns } from './lora-config.js';
import { peftSiteName, PROMPT_LEARNING_PREFIX } from './names.js';
import { PeftError } from '../../../errors.js';

export function isPeftVera(peft: PeftModel, backboneNames: string[] = []): boolean {
  const m = uniformModules(peft, 'lowrank');
  if (!m || peft.modules.length !== 1 || !onlyHeadTrains(peft, backboneNames)) return false;
  const p = m.plan;
  const o = p.options;
  return o.basis === 'shared' && o.save_projection === true && p.insertion === 'parallel' && p.composition === 'add' && p.heads === 'single'
    && m.sites.every((s) => s.kind === 'linear');
}

/** The module's shared basis buffers (`<module>.vera.vera_A` / `vera_B`) as peft names them. */
function basisEntries(peft: PeftModel): AdapterEntry[] {
  const name = peft.modules[0].plan.name;
  return peft.store.namedBuffers()
    .filter(([n]) => n === `${name}.vera.vera_A` || n === `${name}.vera.vera_B`)
    .map(([n, b]) => paramEntry(`${PROMPT_LEARNING_PREFIX}${n.split('.').pop()}`, b));
}

export const VERA_FORMAT: AdapterFormat = {
  type: 'VERA',
  promptLearning: false,
  keys: [
    'bias', 'd_initial', 'fan_in_fan_out', 'init_weights', 'layers_pattern', 'layers_to_transform', 'modules_to_save',
    'projection_prng_key', 'r', 'save_projection', 'target_modules', 'vera_dropout',
  ],
  expresses: (peft) => isPeftVera(peft, []),
  config(peft, baseModel) {
    const m = uniformModules(peft, 'lowrank')!;
    const o = m.plan.options;
    const { target_modules, layers_to_transform } = targetModulesFor(peft.model, m.sites);
    return {
      auto_mapping: null,
      base_model_name_or_path: baseModel,
      bias: 'none',
      d_initial: o.d_initial,
      fan_in_fan_out: isGpt2Style(peft),
      inference_mode: true,
      init_weights: true,
      layers_pattern: null,
      layers_to_transform,
      modules_to_save: modulesToSave(peft),
      peft_type: 'VERA',
      projection_prng_key: o.projection_seed,
      r: o.rank,
      revision: null,
      save_projection: true,
      target_modules,
      task_type: PEFT_TASK_TYPES[peft.model.task],
      vera_dropout: o.dropout,
    };
  },
  method(model: TaskModel, cfg) {
    rejectPatterns(cfg, ['rank_pattern', 'alpha_pattern']);
    if (cfg.save_projection === false) {
      throw new PeftError('FORMAT', 'this VeRA adapter was saved without its projection (save_projection: false): peft rebuilds vera_A and vera_B with torch\'s random generator, which cannot be reproduced here', {
        where: 'adapter_config.json: save_projection', hint: 'save it again from Python peft with save_projection=True (the default)',
      });
    }
    if (cfg.bias !== undefined && cfg.bias !== 'none') {
      throw new PeftError('FORMAT', `bias: ${JSON.stringify(cfg.bias)} is not supported yet`, { where: 'adapter_config.json: bias', hint: 'VeRA adapters with bias "none" load' });
    }
    const sites = targetSitesOf(model, cfg);
    const modules = modulesForSites(sites, 'vera', {
      function: 'lowrank', basis: 'shared', insertion: 'parallel', composition: 'add', heads: 'single',
      rank: num(cfg, 'r', 256), d_initial: num(cfg, 'd_initial', 0.1), projection_seed: num(cfg, 'projection_prng_key', 0),
      save_projection: true, dropout: num(cfg, 'vera_dropout', 0), init: 'lora',
    }, 'vera');
    if (modules.length !== 1) {
      throw new PeftError('FORMAT', 'the VeRA targets select different layers at different positions: one shared basis cannot serve them here', { where: 'adapter_config.json: target_modules' });
    }
    return { method: { preset: 'vera', modules, unfreeze: [], trainHead: headFromConfig(cfg) }, backboneNames: [] };
  },
  entries(peft) {
    return [...siteParams(peft).map((sp) => paramEntry(peftSiteName(sp.site.path, sp.local), sp.param)), ...basisEntries(peft)];
  },
};
