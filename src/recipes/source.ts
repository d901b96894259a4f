// A recipe document as a tree that remembers where every value came from: a file position,
// or a `--set` override. Load builds it, resolve merges and overrides it, and the plain
// document plus `locate` / `baseDir` are read off it.
import { dirname, isAbsolute, relative } from 'node:path';
import type { DocPath, RecipeDoc } from './types.js';

/** Where a node came from. `line` and `col` are 1-based. */
export type Origin = { file: string; line: number; col: number } | { set: string };

export type Scalar = string | number | boolean | null;

export interface MapEntry {
  /** Position of the key itself (unknown-key errors point here). */
  keyAt: Origin;
  node: SourceNode;
}

export type SourceNode =
  | { kind: 'map'; at: Origin; entries: Map<string, MapEntry> }
  | { kind: 'seq'; at: Origin; items: SourceNode[] }
  | { kind: 'scalar'; at: Origin; value: Scalar };

export type MapNode = Extract<SourceNode, { kind: 'map' }>;

/** A path as users see it, relative to the working directory when that is shorter. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  if (rel === '') return file;
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

export function formatOrigin(o: Origin): string {
  return 'set' in o ? `--set ${o.set}` : `${displayPath(o.file)}:${o.line}:${o.col}`;
}

/** `method.rank`, `optimizer.betas[0]`, '' for the document. */
export function dottedPath(path: DocPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

/** The plain JSON-like value of a tree. */
export function toPlain(node: SourceNode): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(toPlain);
    case 'map':
      // fromEntries defines own properties, so a key such as "__proto__" stays a plain key.
      return Object.fromEntries([...node.entries].map(([k, e]) => [k, toPlain(e.node)]));
  }
}

export function toPlainDoc(root: MapNode): RecipeDoc {
  return toPlain(root) as RecipeDoc;
}

/** Builds a tree for a plain value, every node at `at` (for --set values). */
export function fromPlain(value: unknown, at: Origin): SourceNode {
  if (Array.isArray(value)) return { kind: 'seq', at, items: value.map((v) => fromPlain(v, at)) };
  if (value !== null && typeof value === 'object') {
    const entries = new Map<string, MapEntry>();
    for (const [k, v] of Object.entries(value)) entries.set(k, { keyAt: at, node: fromPlain(v, at) });
    return { kind: 'map', at, entries };
  }
  return { kind: 'scalar', at, value: value as Scalar };
}

/** Child of a node by path segment (a map key, or a list index given as number or digits). */
export function child(node: SourceNode, seg: string | number): MapEntry | undefined {
  if (node.kind === 'map') return node.entries.get(String(seg));
  if (node.kind === 'seq') {
    const i = typeof seg === 'number' ? seg : /^\d+$/.test(seg) ? Number(seg) : -1;
    const item = i >= 0 ? node.items[i] : undefined;
    return item && { keyAt: item.at, node: item };
  }
  return undefined;
}

/**
 * The deepest node along `path` and how far the path went: `depth === path.length` when the
 * whole path exists. `keyAt` is the key position of that node when it is a map entry.
 */
export function descend(root: SourceNode, path: DocPath): { node: SourceNode; keyAt: Origin; depth: number } {
  let node = root;
  let keyAt = root.at;
  let depth = 0;
  for (const seg of path) {
    const next = child(node, seg);
    if (!next) break;
    node = next.node;
    keyAt = next.keyAt;
    depth++;
  }
  return { node, keyAt, depth };
}

/** Directory a relative path found at this origin resolves against. */
export function originDir(o: Origin): string {
  return 'set' in o ? process.cwd() : dirname(o.file);
}
