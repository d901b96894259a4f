// Words for schema errors: what a subschema expects ("integer ≥ 1", "one of add, scaled, gated")
// and what a value is (`"eight"`, `[0, 1]`, `{top: 2}`), both short enough for one line.
import type { SchemaNode } from './schema.js';

const MAX_SHOWN = 48;

function clip(s: string): string {
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN - 1)}…` : s;
}

function showInner(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(showInner).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v).map(([k, x]) => `${k}: ${showInner(x)}`).join(', ')}}`;
  }
  return String(v);
}

/** A value as it would be written in flow YAML, clipped: `"eight"`, `[0, 1]`, `{top: 2}`, `null`. */
export function show(v: unknown): string {
  return clip(showInner(v));
}

/** `a`, `a or b`, `a, b or c`. */
export function orList(parts: string[]): string {
  if (parts.length <= 1) return parts[0] ?? '';
  return `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

function bounds(s: SchemaNode): string {
  const lo = s.minimum !== undefined ? `≥ ${s.minimum}` : s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : '';
  const hi = s.maximum !== undefined ? `≤ ${s.maximum}` : s.exclusiveMaximum !== undefined ? `< ${s.exclusiveMaximum}` : '';
  return [lo, hi].filter(Boolean).join(' and ');
}

function plural(phrase: string): string {
  return phrase.replace(/^(integer|number|string|mapping|list)\b/, '$1s').replace(/^non-empty strings?/, 'non-empty strings');
}

function describeType(t: string, s: SchemaNode, deref: (n: SchemaNode) => SchemaNode): string {
  switch (t) {
    case 'integer':
    case 'number': {
      const b = bounds(s);
      return b ? `${t} ${b}` : t;
    }
    case 'string':
      if (s.pattern) return `string matching ${s.pattern}`;
      return typeof s.minLength === 'number' && s.minLength > 0 ? 'non-empty string' : 'string';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'object':
      return typeof s.minProperties === 'number' && s.minProperties > 0 ? 'non-empty mapping' : 'mapping';
    case 'array': {
      const items = s.items ? deref(s.items) : undefined;
      const count = s.minItems !== undefined && s.minItems === s.maxItems ? `${s.minItems} ` : '';
      const list = count === '' && typeof s.minItems === 'number' && s.minItems > 0 ? 'non-empty list' : 'list';
      if (!items) return list;
      if (items.enum) return `${list} of values from ${items.enum.map(String).join(', ')}`;
      return `${list} of ${count}${plural(describe(items, deref))}`;
    }
    default:
      return t;
  }
}

/** What `s` accepts, in words: `integer ≥ 1`, `one of add, scaled, gated`, `number > 0 or null`. */
export function describe(s: SchemaNode, deref: (n: SchemaNode) => SchemaNode = (n) => n): string {
  if (typeof s['x-expected'] === 'string') return s['x-expected'];
  if (s.enum) return s.enum.length === 1 ? String(s.enum[0]) : `one of ${s.enum.map(String).join(', ')}`;
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  if (types.length === 0) return 'a valid value';
  return orList(types.map((t) => describeType(t, s, deref)));
}

/** The literal words a `^(a|b)$`-style pattern accepts, if it is that simple. */
export function patternWords(pattern: string | undefined): string[] {
  const m = pattern ? /^\^\(?([a-z_|]+)\)?\$$/.exec(pattern) : null;
  return m ? m[1]!.split('|') : [];
}
