// Words for a plan's method, from the function table: each module's function with its size and
// the options it sets away from their defaults, where it goes and how it composes.
import type { LayerSelector, ModulePlan, Plan, SelectPlan } from './types.js';
import { functionSpec, type OptionUse } from './functions/index.js';
import { criterionSpec, type SelectOptionUse } from './selection/index.js';
import { budgetText } from './compile-select.js';

export function layersText(l: LayerSelector): string {
  if (l === 'all') return 'all layers';
  if (Array.isArray(l)) return `layers ${l.join(', ')}`;
  if ('top' in l) return `top ${l.top} layers`;
  if ('bottom' in l) return `bottom ${l.bottom} layers`;
  return `layers ${l.from}–${l.to}`;
}

function valueText(v: unknown): string {
  if (Array.isArray(v)) return v.join(',');
  if (v && typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k} ${x}`).join(' ');
  return String(v);
}

/** `lowrank rank=8 alpha=16`: the size first, then every option that is not its default. */
export function functionText(m: ModulePlan): string {
  const spec = functionSpec(m.function)!;
  const o = m.options as Record<string, unknown>;
  const parts: string[] = [m.function];
  if (spec.size) parts.push(`${spec.size === 'rank' ? 'r' : spec.size}=${o[spec.size]}`);
  const decidedBefore: Record<string, unknown> = {};
  for (const [key, use] of Object.entries(spec.options) as [string, OptionUse<unknown>][]) {
    const fallback = typeof use.fallback === 'function' ? (use.fallback as (d: Record<string, unknown>) => unknown)(decidedBefore) : use.fallback;
    decidedBefore[key] = o[key];
    if (key === spec.size || o[key] === undefined || JSON.stringify(o[key]) === JSON.stringify(fallback)) continue;
    parts.push(typeof o[key] === 'boolean' ? (o[key] ? key : `no ${key}`) : `${key}=${valueText(o[key])}`);
  }
  if (m.options.init !== spec.defaults.init) parts.push(`init=${m.options.init}`);
  return parts.join(' ');
}

export function moduleText(m: ModulePlan): string {
  const comp = m.composition === 'scaled' ? `scaled s=${typeof m.scale === 'number' ? +m.scale.toFixed(6) : m.scale}` : m.composition;
  return `${m.name}: ${functionText(m)} at ${m.positions.join(', ')} (${layersText(m.layers)}), ${m.insertion}, ${comp}${m.heads === 'multi' ? ', multi-head' : ''}`;
}

export function describePlan(plan: Pick<Plan, 'method'>): string[] {
  const lines = plan.method.modules.map((m) => '  ' + moduleText(m));
  for (const u of plan.method.unfreeze) lines.push(`  unfreeze ${u.target} (${layersText(u.layers)})`);
  if (plan.method.select) lines.push('  ' + selectText(plan.method.select));
  if (plan.method.trainHead) lines.push('  task head trains');
  return lines;
}

/** `select magnitude 10% per matrix at attn.query, … (all layers), reselect …`: a selection in words. */
export function selectText(s: SelectPlan): string {
  const spec = criterionSpec(s.criterion)!;
  const o = s.options as Record<string, unknown>;
  const parts = [`select ${s.criterion}`];
  const budget = budgetText(s);
  if (budget) parts.push(budget);
  for (const [key, use] of Object.entries(spec.options) as [string, SelectOptionUse<unknown>][]) {
    if (JSON.stringify(o[key]) === JSON.stringify(use.fallback)) continue;
    if (key === 'reselect' && o.reselect) {
      const r = o.reselect as { every: number; times: number };
      parts.push(`reselect every ${r.every < 1 ? `${r.every * 100}% of the run` : `${r.every} steps`}${r.times > 1 ? ` ×${r.times}` : ''}`);
      continue;
    }
    parts.push(typeof o[key] === 'boolean' ? (o[key] ? key : `no ${key}`) : `${key}=${o[key] === null ? 'none' : valueText(o[key])}`);
  }
  const where = s.defaultPositions ? 'every projection' : s.positions.join(', ');
  return `${parts.join(' ')} at ${where} (${layersText(s.layers)})`;
}
