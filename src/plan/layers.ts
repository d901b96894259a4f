// Layer selectors as a recipe writes them (`all`, a list, {from, to}, {top: k}, {bottom: k}):
// parsed into the plan's LayerSelector and checked against the backbone's depth.
import type { DocPath, LayerSelector } from './types.js';

export type Report = (path: DocPath, message: string, hint: string) => void;

export function parseLayers(v: unknown, path: DocPath, report: Report): LayerSelector {
  if (v === undefined || v === 'all') return 'all';
  if (Array.isArray(v) && v.every((x) => Number.isInteger(x))) return v as number[];
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Number.isInteger(o.top)) return { top: o.top as number };
    if (Number.isInteger(o.bottom)) return { bottom: o.bottom as number };
    if (Number.isInteger(o.from) && Number.isInteger(o.to)) {
      if ((o.from as number) > (o.to as number)) report(path, `layers from ${o.from} to ${o.to} is empty`, 'from must be ≤ to (both inclusive)');
      return { from: o.from as number, to: o.to as number };
    }
  }
  report(path, `must be all, a list of layer indices, {from, to}, {top: k} or {bottom: k} (got ${JSON.stringify(v)})`, 'e.g. layers: [0, 1], layers: {from: 0, to: 3} or layers: {top: 2}');
  return 'all';
}

export function checkLayersInRange(sel: LayerSelector, depth: number | null, path: DocPath, report: Report): void {
  if (depth === null) return;
  const bad = Array.isArray(sel) ? sel.filter((i) => i >= depth || i < -depth)
    : typeof sel === 'object' && 'to' in sel ? [sel.to].filter((i) => i >= depth) : [];
  if (bad.length) report(path, `layer ${bad.join(', ')} does not exist (the backbone has ${depth} layers: 0–${depth - 1})`, `use indices 0–${depth - 1} (negative ones count from the top)`);
  if (typeof sel === 'object' && !Array.isArray(sel) && ('top' in sel || 'bottom' in sel)) {
    const k = 'top' in sel ? sel.top : sel.bottom;
    if (k < 1 || k > depth) report(path, `must be between 1 and ${depth} (got ${k})`, `the backbone has ${depth} layers`);
  }
}

