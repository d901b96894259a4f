// Python peft's target_modules (+ layers_to_transform) ↔ the backbone's sites, and sites ↔ the
// modules of a method plan. peft matches a list entry t against a module path p when p == t or
// p ends with "." + t; a string is a regex that must match the whole path.
import { moduleFromWords, type ModulePlan, type ModuleSpec } from '../../../plan/index.js';
import type { SiteInfo, TaskModel } from '../../backbones/types.js';
import { PeftError } from '../../../errors.js';

function matchesName(path: string, t: string): boolean {
  return path === t || path.endsWith('.' + t);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * target_modules for exactly `sites` among the model's linear sites: for each site the shortest
 * dotted suffix without a layer number that selects no other site (`key`, `output.dense`), plus
 * layers_to_transform when only some layers are adapted; a full-path regex when names cannot say it.
 */
/** Sites with a weight peft's LoRA can target by module name: linear layers and convolutions. */
function weightSites(model: TaskModel): SiteInfo[] {
  return model.sites.filter((s) => s.kind === 'linear' || s.kind === 'conv');
}

export function targetModulesFor(model: TaskModel, sites: SiteInfo[]): { target_modules: string[] | string; layers_to_transform: number[] | null } {
  const linear = weightSites(model);
  const layers = [...new Set(sites.map((s) => s.layer))].sort((a, b) => a - b);
  const allLayers = [...new Set(linear.map((s) => s.layer))].every((l) => layers.includes(l));
  const pool = linear.filter((s) => allLayers || layers.includes(s.layer));
  const names = new Set<string>();
  let ok = sites.length > 0;
  for (const site of sites) {
    const parts = site.path.split('.');
    let found: string | null = null;
    for (let k = 1; k <= parts.length && !found; k++) {
      const tail = parts.slice(-k);
      if (tail.some((p) => /^\d+$/.test(p))) break;
      const t = tail.join('.');
      if (pool.filter((s) => matchesName(s.path, t)).every((s) => sites.includes(s))) found = t;
    }
    if (!found) ok = false;
    else names.add(found);
  }
  // peft counts layers by the number in a module's path; families that number them otherwise say so by name only
  if (!allLayers && model.layerOf) ok = false;
  if (ok) {
    const target_modules = [...names].sort();
    const layers_to_transform = allLayers ? null : layers;
    const picked = sitesForTargets(model, target_modules, layers_to_transform);
    if (picked.length === sites.length && picked.every((s) => sites.includes(s))) return { target_modules, layers_to_transform };
  }
  return { target_modules: `^(${sites.map((s) => escapeRe(s.path)).join('|')})$`, layers_to_transform: null };
}

/** The linear sites a peft target_modules (+ layers_to_transform) selects. */
export function sitesForTargets(model: TaskModel, target: unknown, layersToTransform: unknown): SiteInfo[] {
  const linear = weightSites(model);
  let pick: SiteInfo[];
  if (typeof target === 'string') {
    if (target === 'all-linear') pick = linear;
    else {
      const re = new RegExp(`^(?:${target})$`);
      pick = linear.filter((s) => re.test(s.path));
    }
  } else if (Array.isArray(target)) {
    const names = target.map(String);
    pick = linear.filter((s) => names.some((t) => matchesName(s.path, t)));
  } else {
    throw new PeftError('FORMAT', 'target_modules must be a list of module names or a regex', { where: 'adapter_config.json: target_modules' });
  }
  if (layersToTransform !== null && layersToTransform !== undefined) {
    const layers = Array.isArray(layersToTransform) ? layersToTransform.map(Number) : [Number(layersToTransform)];
    pick = pick.filter((s) => layers.includes(s.layer));
  }
  return pick;
}

/** The sites an adapter_config.json's target_modules + layers_to_transform select; none is an
 * error (the adapter was saved for another backbone). */
export function targetSitesOf(model: TaskModel, cfg: Record<string, unknown>): SiteInfo[] {
  const sites = sitesForTargets(model, cfg.target_modules, cfg.layers_to_transform);
  if (sites.length === 0) {
    throw new PeftError('FORMAT', `target_modules ${JSON.stringify(cfg.target_modules)} match no projection of this ${model.family} backbone`, {
      where: 'adapter_config.json', hint: 'is this adapter for this backbone?',
    });
  }
  return sites;
}

/** Sites selected by a list of names or a regex (peft's feedforward_modules). */
export function sitesNamed(sites: SiteInfo[], names: unknown): SiteInfo[] {
  if (typeof names === 'string') {
    const re = new RegExp(`^(?:${names})$`);
    return sites.filter((s) => re.test(s.path));
  }
  if (Array.isArray(names)) return sites.filter((s) => names.map(String).some((t) => matchesName(s.path, t)));
  return [];
}

/** A site's position as a recipe writes it (`self_attn.query`, `decoder.cross_attn.value`). */
export function userPosition(site: SiteInfo): string {
  return site.stack === 'model' ? site.position : `${site.stack}.${site.position}`;
}

/**
 * Module plans that select exactly these sites (positions with the same layers share a module),
 * decided by the plan's compiler from the config's words, as a recipe's would be.
 */
export function modulesForSites(sites: SiteInfo[], name: string, words: ModuleSpec, preset: string): ModulePlan[] {
  const byPosition = new Map<string, Set<number>>();
  for (const s of sites) {
    const p = userPosition(s);
    byPosition.set(p, (byPosition.get(p) ?? new Set()).add(s.layer));
  }
  const groups = new Map<string, { positions: string[]; layers: number[] }>();
  for (const [p, ls] of byPosition) {
    const layers = [...ls].sort((a, b) => a - b);
    const key = layers.join(',');
    const g = groups.get(key) ?? { positions: [], layers };
    g.positions.push(p);
    groups.set(key, g);
  }
  return [...groups.values()].map((g, i) => moduleFromWords(i === 0 ? name : `${name}_${i + 1}`, {
    ...words, position: g.positions, layers: g.layers.some((l) => l < 0) ? 'all' : g.layers,
  }, 'adapter_config.json', {}, preset));
}

/** The same stack and layer's site at another position (the projection after an activation, …). */
export function siteAt(model: TaskModel, near: SiteInfo, position: string): SiteInfo | null {
  return model.sites.find((s) => s.stack === near.stack && s.layer === near.layer && s.position === position) ?? null;
}
