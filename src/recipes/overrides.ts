// `--set a.b.c=value`: parsing the override (a malformed one is a usage error) and applying it
// to a recipe tree, creating intermediate mappings. The value is YAML: `3e-4` is a number,
// `[0,1]` a list, `true` a boolean, `foo` a string, an empty value null.
import { PeftError } from '../errors.js';
import { parseYamlText } from './load.js';
import type { MapNode, Origin, SourceNode } from './source.js';

export interface SetOverride {
  /** The argument as given: `optimizer.lr=3e-4`. */
  text: string;
  /** Key path: `['optimizer', 'lr']`. A segment of digits indexes an existing list. */
  path: string[];
  value: SourceNode;
}

const SET_HINT = 'write --set key.path=value, e.g. --set optimizer.lr=3e-4';

/** Parses one `--set` argument. Throws a USAGE error when it is malformed. */
export function parseSet(text: string): SetOverride {
  const eq = text.indexOf('=');
  if (eq < 0) throw new PeftError('USAGE', `--set ${text}: no "=" between key and value`, { hint: SET_HINT });
  const key = text.slice(0, eq).trim();
  if (key === '') throw new PeftError('USAGE', `--set ${text}: empty key`, { hint: SET_HINT });
  const path = key.split('.');
  if (path.some((seg) => seg.trim() === '')) {
    throw new PeftError('USAGE', `--set ${text}: empty segment in key "${key}"`, { hint: SET_HINT });
  }
  if (path[0]!.trim() === 'extends') {
    throw new PeftError('USAGE', `--set ${text}: extends cannot be overridden`, { hint: 'write the extends in the recipe file' });
  }
  const at: Origin = { set: text };
  let value: SourceNode | null;
  try {
    value = parseYamlText(text.slice(eq + 1), '--set');
  } catch (e) {
    const why = e instanceof PeftError ? e.message : String(e);
    throw new PeftError('USAGE', `--set ${text}: the value is not valid YAML (${why})`, {
      hint: 'quote strings with special characters, e.g. --set \'generate.prompt="a: b"\'',
    });
  }
  return { text, path: path.map((s) => s.trim()), value: relocate(value ?? { kind: 'scalar', at, value: null }, at) };
}

export function parseSets(texts: readonly string[] = []): SetOverride[] {
  return texts.map(parseSet);
}

/** The same tree with every node (and key) placed at `at`. */
function relocate(node: SourceNode, at: Origin): SourceNode {
  switch (node.kind) {
    case 'scalar':
      return { ...node, at };
    case 'seq':
      return { kind: 'seq', at, items: node.items.map((n) => relocate(n, at)) };
    case 'map':
      return {
        kind: 'map',
        at,
        entries: new Map([...node.entries].map(([k, e]) => [k, { keyAt: at, node: relocate(e.node, at) }])),
      };
  }
}

/** Applies one override to `root` in place. A path through a scalar or list is a RECIPE error. */
export function applySet(root: MapNode, o: SetOverride): void {
  const at: Origin = { set: o.text };
  const value = relocate(o.value, at); // a fresh copy: one override may apply to many recipes
  let node: SourceNode = root;
  for (let i = 0; i < o.path.length; i++) {
    const seg = o.path[i]!;
    const last = i === o.path.length - 1;
    if (node.kind === 'seq' && /^\d+$/.test(seg) && Number(seg) <= node.items.length) {
      const items: SourceNode[] = node.items;
      const idx = Number(seg);
      if (!last && items[idx] === undefined) items[idx] = { kind: 'map', at, entries: new Map() };
      if (last) items[idx] = value;
      else node = items[idx]!;
      continue;
    }
    if (node.kind !== 'map') {
      const where = o.path.slice(0, i).join('.');
      const what = node.kind === 'seq' ? 'a list' : `${JSON.stringify(node.value)}, not a mapping`;
      throw new PeftError('RECIPE', `${where} is ${what}`, {
        where: `--set ${o.text}`,
        hint: node.kind === 'seq' ? 'index a list by position (key.0=value) or set the whole list' : `set ${where} itself`,
      });
    }
    const entry = node.entries.get(seg);
    if (last) {
      node.entries.set(seg, { keyAt: entry?.keyAt ?? at, node: value });
    } else if (entry) {
      node = entry.node;
    } else {
      const created: SourceNode = { kind: 'map', at, entries: new Map() };
      node.entries.set(seg, { keyAt: at, node: created });
      node = created;
    }
  }
}
