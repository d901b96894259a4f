// Shared pieces of the adapter formats: which injected parameter belongs to which module and
// site, one-parameter file entries (with an optional reshape), the stored value of a
// reparameterised module, the task head, and the checks every Python peft type shares.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../../nn/module.js';
import type { InjectedModule, PeftModel } from '../../methods/inject.js';
import type { SiteInfo } from '../../backbones/types.js';
import type { FunctionKind, MethodPlan, ModulePlan, ModulePlanOf } from '../../../plan/index.js';
import { isHeadParam } from '../../methods/trainable.js';
import { PEFT_PREFIX, PROMPT_LEARNING_PREFIX } from './names.js';
import type { AdapterEntry } from './types.js';

export interface SiteParam {
  /** Our full name: `<site>.<module>.<local>`. */
  name: string;
  module: InjectedModule;
  site: SiteInfo;
  /** The parameter's name inside its module (`lora_A`, `ia3_l`, `prefix_key`, …). */
  local: string;
  param: Param;
}

/** Every adapter parameter that belongs to one site of one module (module-wide ones, e.g. a prefix MLP, are left out). */
export function siteParams(peft: PeftModel): SiteParam[] {
  const prefixes: { prefix: string; site: SiteInfo; module: InjectedModule }[] = [];
  for (const m of peft.modules) for (const s of m.sites) prefixes.push({ prefix: `${s.path}.${m.plan.name}.`, site: s, module: m });
  // longest first, so a site path that extends another never matches the shorter one
  prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  const out: SiteParam[] = [];
  for (const [name, param] of peft.store.namedParams()) {
    const hit = prefixes.find((p) => name.startsWith(p.prefix));
    if (hit) out.push({ name, module: hit.module, site: hit.site, local: name.slice(hit.prefix.length), param });
  }
  return out;
}

/** A file entry that is one parameter, possibly reshaped (ia3_l [d] ↔ [d, 1]). */
export function paramEntry(name: string, p: Param, fileShape?: number[], aliases?: string[]): AdapterEntry {
  const shape = fileShape ?? [...p.shape];
  return {
    name, shape, aliases,
    get: () => tf.reshape(p.value, shape),
    set: (t) => {
      if (t.shape.join(',') === p.shape.join(',')) p.set(t);
      else {
        p.set(tf.reshape(t, [...p.shape]));
        t.dispose();
      }
    },
  };
}

/** The value a module stores under `name`: its parameter, or the collapsed reparameterisation. */
export function storedValue(peft: PeftModel, module: InjectedModule, name: string): tf.Tensor {
  if (module.storedTensors) {
    const all = module.storedTensors();
    const t = all.get(name)!;
    for (const [n, v] of all) if (n !== name) v.dispose();
    return t;
  }
  const p = peft.store.namedParams().find(([n]) => n === name)?.[1];
  return tf.clone(p!.value);
}

/** The plan as stored: reparameterised modules become their collapsed form (plain prefixes, a split adapter merged). */
export function storedMethod(method: MethodPlan): MethodPlan {
  const modules: ModulePlan[] = method.modules.map((m) =>
    m.function === 'prefix' && m.options.reparam ? { ...m, options: { ...m.options, reparam: null } }
      : m.function === 'bottleneck' && m.options.subadapters ? { ...m, options: { ...m.options, subadapters: null } } : m);
  return { ...method, modules };
}

/** Frozen tensors of the modules that belong in the adapter file (tagged `stored`), by name. */
export function storedBuffers(peft: PeftModel): [string, Param][] {
  return peft.store.namedBuffers().filter(([, b]) => b.tags.has('stored'));
}

/** Backbone parameters (and moving buffers: batch-norm statistics) saved in full: name → parameter. */
export function backboneParams(peft: PeftModel, names: string[]): Map<string, Param> {
  const all = new Map([...peft.model.root.namedParams(), ...peft.model.root.namedBuffers()]);
  return new Map(names.filter((n) => all.has(n)).map((n) => [n, all.get(n)!]));
}

/** Python peft's types can carry the task head (modules_to_save) and nothing else of the backbone. */
export function onlyHeadTrains(peft: PeftModel, backboneNames: string[]): boolean {
  return peft.method.unfreeze.length === 0 && backboneNames.every((n) => isHeadParam(peft, n));
}

/** The task head's entries for a Python peft type (`base_model.model.<name>`, or `base_model.<name>` for prompt learning). */
export function headEntries(peft: PeftModel, promptLearning: boolean): AdapterEntry[] {
  if (!peft.method.trainHead || peft.model.headPrefixes.length === 0) return [];
  const [main, other] = promptLearning ? [PROMPT_LEARNING_PREFIX, PEFT_PREFIX] : [PEFT_PREFIX, PROMPT_LEARNING_PREFIX];
  return peft.model.root.namedParams()
    .filter(([name]) => isHeadParam(peft, name))
    .map(([name, p]) => ({ ...paramEntry(main + name, p, undefined, [other + name]), optional: true }));
}

/** The one module of a single-module plan with this function, or null. */
export function singleModule<K extends FunctionKind>(peft: PeftModel, fn: K): (InjectedModule & { plan: ModulePlanOf<K> }) | null {
  if (peft.modules.length !== 1) return null;
  const m = peft.modules[0];
  return m.plan.function === fn ? (m as InjectedModule & { plan: ModulePlanOf<K> }) : null;
}

/**
 * The modules of a method that are all `fn` with the same settings (one peft adapter, which a
 * loaded config may have split by layers): a representative plan and every site; else null.
 */
export function uniformModules<K extends FunctionKind>(peft: PeftModel, fn: K): { plan: ModulePlanOf<K>; sites: SiteInfo[] } | null {
  if (peft.modules.length === 0 || peft.modules.some((m) => m.plan.function !== fn)) return null;
  const key = (p: ModulePlan) => JSON.stringify([p.insertion, p.composition, p.scale, p.heads, p.options]);
  const first = peft.modules[0].plan;
  if (peft.modules.some((m) => key(m.plan) !== key(first))) return null;
  const sites = peft.modules.flatMap((m) => m.sites);
  return new Set(sites).size === sites.length ? { plan: first as ModulePlanOf<K>, sites } : null;
}

/** Whether a module's fixed scale equals `expected` (to rounding). */
export function scaleIs(plan: ModulePlan, expected: number): boolean {
  return plan.composition === 'scaled' && typeof plan.scale === 'number' && Math.abs(plan.scale - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
}

export function num(cfg: Record<string, unknown>, key: string, fallback: number): number {
  const v = cfg[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}
