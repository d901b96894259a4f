// Python peft's LoRA adapter_config.json ↔ our method plan. A plan is written as peft's LORA
// type when peft can load it and compute the same thing: one lowrank module at projections,
// parallel, scaled by α/r (or α/√r, rsLoRA), optionally with the task head as modules_to_save.
import type { MethodPlan, ModulePlan } from '../../../recipes/types.js';
import type { PeftModel } from '../../methods/inject.js';
import type { SiteInfo, TaskModel } from '../../backbones/types.js';
import { lowrankScale } from '../../methods/lowrank.js';
import { PEFT_TASK_TYPES } from './types.js';
import { PeftError } from '../../../errors.js';

function leaf(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

/** Whether peft's LORA type expresses this plan exactly. */
export function isPeftLora(method: MethodPlan): boolean {
  if (method.modules.length !== 1 || method.unfreeze.length > 0) return false;
  const m = method.modules[0];
  if (m.function !== 'lowrank' || m.insertion !== 'parallel' || m.heads !== 'single' || m.composition !== 'scaled') return false;
  const r = m.options.rank ?? 8;
  return typeof m.scale === 'number' && Math.abs(m.scale - lowrankScale(r, m.options.alpha, m.options.rslora)) < 1e-9 * Math.max(1, m.scale);
}

/** target_modules for exactly these sites: leaf names (+ layers_to_transform) when exact, else a regex. */
export function targetModulesFor(model: TaskModel, sites: SiteInfo[]): { target_modules: string[] | string; layers_to_transform: number[] | null } {
  const linear = model.sites.filter((s) => s.kind === 'linear');
  const leaves = [...new Set(sites.map((s) => leaf(s.path)))].sort();
  const layers = [...new Set(sites.map((s) => s.layer))].sort((a, b) => a - b);
  const depth = model.dims.layers;
  const allLayers = layers.length === depth && layers.every((l, i) => l === i);
  const byLeaves = linear.filter((s) => leaves.includes(leaf(s.path)) && (allLayers || layers.includes(s.layer)));
  const same = byLeaves.length === sites.length && byLeaves.every((s) => sites.includes(s));
  if (same && model.sites.every((s) => s.stack === 'model')) {
    return { target_modules: leaves, layers_to_transform: allLayers ? null : layers };
  }
  const escaped = sites.map((s) => s.path.replace(/\./g, '\\.'));
  return { target_modules: `^(${escaped.join('|')})$`, layers_to_transform: null };
}

export function loraConfigJson(peft: PeftModel, baseModel: string): Record<string, unknown> {
  const m = peft.modules[0];
  const o = m.plan.options;
  const { target_modules, layers_to_transform } = targetModulesFor(peft.model, m.sites);
  const cfg: Record<string, unknown> = {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: baseModel,
    bias: 'none',
    fan_in_fan_out: m.sites.some((s) => peft.model.family === 'gpt2' && s.kind === 'linear'),
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform,
    loftq_config: {},
    lora_alpha: o.alpha ?? o.rank ?? 8,
    lora_dropout: o.dropout ?? 0,
    megatron_config: null,
    megatron_core: 'megatron.core',
    modules_to_save: peft.method.trainHead && peft.model.headPrefixes.length > 0 ? [...peft.model.headPrefixes] : null,
    peft_type: 'LORA',
    r: o.rank ?? 8,
    rank_pattern: {},
    revision: null,
    target_modules,
    task_type: PEFT_TASK_TYPES[peft.model.task],
  };
  if (o.rslora) cfg.use_rslora = true;
  if (o.dora) cfg.use_dora = true;
  return cfg;
}

/** The sites a peft target_modules (+ layers_to_transform) selects among linear sites. */
export function sitesForTargets(model: TaskModel, target: unknown, layersToTransform: unknown): SiteInfo[] {
  const linear = model.sites.filter((s) => s.kind === 'linear');
  let pick: SiteInfo[];
  if (typeof target === 'string') {
    if (target === 'all-linear') pick = linear;
    else {
      const re = new RegExp(`^(?:${target})$`);
      pick = linear.filter((s) => re.test(s.path));
    }
  } else if (Array.isArray(target)) {
    const names = target.map(String);
    pick = linear.filter((s) => names.some((t) => s.path === t || s.path.endsWith('.' + t)));
  } else {
    throw new PeftError('FORMAT', 'target_modules must be a list of module names or a regex', { where: 'adapter_config.json' });
  }
  if (layersToTransform !== null && layersToTransform !== undefined) {
    const layers = Array.isArray(layersToTransform) ? layersToTransform.map(Number) : [Number(layersToTransform)];
    pick = pick.filter((s) => layers.includes(s.layer));
  }
  return pick;
}

/** Our module plan for a peft LORA config (positions and layers from the sites it selects). */
export function loraModuleFromConfig(model: TaskModel, cfg: Record<string, unknown>): { plan: ModulePlan; sites: SiteInfo[] } {
  const sites = sitesForTargets(model, cfg.target_modules, cfg.layers_to_transform);
  if (sites.length === 0) {
    throw new PeftError('FORMAT', `target_modules ${JSON.stringify(cfg.target_modules)} match no projection of this ${model.family} backbone`, {
      where: 'adapter_config.json', hint: 'is this adapter for this backbone?',
    });
  }
  const r = Number(cfg.r ?? 8);
  const alpha = Number(cfg.lora_alpha ?? 8);
  const rslora = Boolean(cfg.use_rslora);
  const layers = [...new Set(sites.map((s) => s.layer))].sort((a, b) => a - b);
  const plan: ModulePlan = {
    name: 'lora',
    preset: 'lora',
    positions: [...new Set(sites.map((s) => `${s.stack === 'model' ? '' : s.stack + '.'}${s.position}`))],
    function: 'lowrank',
    insertion: 'parallel',
    composition: 'scaled',
    scale: lowrankScale(r, alpha, rslora),
    heads: 'single',
    layers,
    options: { rank: r, alpha, rslora, dora: Boolean(cfg.use_dora), dropout: Number(cfg.lora_dropout ?? 0) },
  };
  return { plan, sites };
}
