// Human lines describing a plan's method: each module's design dimensions.
import type { Plan, ModulePlan, LayerSelector } from '../recipes/types.js';

export function layersText(l: LayerSelector): string {
  if (l === 'all') return 'all layers';
  if (Array.isArray(l)) return `layers ${l.join(', ')}`;
  if ('top' in l) return `top ${l.top} layers`;
  if ('bottom' in l) return `bottom ${l.bottom} layers`;
  return `layers ${l.from}–${l.to}`;
}

export function moduleText(m: ModulePlan): string {
  const o = m.options;
  const size = o.rank !== undefined && m.function !== 'bottleneck' ? `r=${o.rank}` : o.bottleneck !== undefined ? `bottleneck=${o.bottleneck}` : o.length !== undefined ? `length=${o.length}` : '';
  const fn = [m.function, size, o.nonlinearity && m.function === 'bottleneck' ? o.nonlinearity : '', o.reparam ? `reparam MLP ${o.reparam.hidden}` : '']
    .filter(Boolean).join(' ');
  const comp = m.composition === 'scaled' ? `scaled s=${typeof m.scale === 'number' ? +m.scale.toFixed(6) : m.scale}` : m.composition;
  return `${m.name}: ${fn} at ${m.positions.join(', ')} (${layersText(m.layers)}), ${m.insertion}, ${comp}${m.heads === 'multi' ? ', multi-head' : ''}`;
}

export function describePlan(plan: Plan): string[] {
  const lines = plan.method.modules.map((m) => '  ' + moduleText(m));
  for (const u of plan.method.unfreeze) lines.push(`  unfreeze ${u.target} (${layersText(u.layers)})`);
  if (plan.method.trainHead) lines.push('  task head trains');
  return lines;
}
