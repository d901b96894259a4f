// A recipe file → ResolvedRecipe: its `extends` chain loaded and merged (mappings key by key,
// everything else replaced, the extending file wins), then `--set` overrides applied. The
// merged tree keeps, for every value, the position of the node that supplied it.
import { existsSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { PeftError } from '../errors.js';
import { loadRecipeFile } from './load.js';
import { applySet, parseSets } from './overrides.js';
import type { SetOverride } from './overrides.js';
import { descend, displayPath, formatOrigin, originDir, toPlainDoc } from './source.js';
import type { MapNode, Origin, SourceNode } from './source.js';
import type { DocPath, ResolvedRecipe } from './types.js';

export interface ResolveOptions {
  /** `--set key.path=value` overrides, applied in order after the merge. */
  sets?: readonly string[];
}

/** A ResolvedRecipe that also knows where each mapping key was written. */
export interface SourcedRecipe extends ResolvedRecipe {
  /** `file:line:col` of the key at the end of `path` (for unknown keys); like locate otherwise. */
  locateKey(path: DocPath): string;
}

/** Merges `over` onto `base`: mappings key by key, anything else replaced by `over`. */
export function mergeTrees(base: SourceNode, over: SourceNode): SourceNode {
  if (base.kind !== 'map' || over.kind !== 'map') return over;
  const entries = new Map(base.entries);
  for (const [key, e] of over.entries) {
    const b = entries.get(key);
    entries.set(key, b ? { keyAt: e.keyAt, node: mergeTrees(b.node, e.node) } : e);
  }
  return { kind: 'map', at: over.at, entries };
}

/** The `extends` entries of a file: each path and where it was written. */
function extendsList(root: MapNode): { ref: string; at: Origin }[] {
  const entry = root.entries.get('extends');
  if (!entry) return [];
  const node = entry.node;
  const bad = () =>
    new PeftError('EXTENDS', 'extends must be a path or a list of paths', {
      where: formatOrigin(node.at),
      hint: 'extends: ./base.yaml  or  extends: [./a.yaml, ./b.yaml]',
    });
  const items = node.kind === 'seq' ? node.items : [node];
  return items.map((item) => {
    if (item.kind !== 'scalar' || typeof item.value !== 'string' || item.value.trim() === '') throw bad();
    return { ref: item.value, at: item.at };
  });
}

function loadWithExtends(file: string, stack: string[], chain: string[]): MapNode {
  const own = loadRecipeFile(file);
  if (!chain.includes(file)) chain.push(file);
  const refs = extendsList(own);
  own.entries.delete('extends');
  let merged: SourceNode | null = null;
  for (const { ref, at } of refs) {
    const target = resolvePath(dirname(file), ref);
    const seen = [...stack, file];
    if (seen.includes(target)) {
      const cycle = [...seen.slice(seen.indexOf(target)), target].map(displayPath).join(' → ');
      throw new PeftError('EXTENDS', `extends cycle: ${cycle}`, {
        where: formatOrigin(at),
        hint: 'a recipe cannot extend itself, directly or through others',
      });
    }
    if (!existsSync(target)) {
      throw new PeftError('EXTENDS', `extended file not found: ${ref}`, {
        where: formatOrigin(at),
        hint: `no file at ${displayPath(target)} (paths in extends are relative to the file that names them)`,
      });
    }
    const base = loadWithExtends(target, seen, chain);
    merged = merged === null ? base : mergeTrees(merged, base);
  }
  return merged === null ? own : (mergeTrees(merged, own) as MapNode);
}

/** Builds the ResolvedRecipe view of a merged tree. */
export function sourcedRecipe(root: MapNode, file: string, chain: string[]): SourcedRecipe {
  return {
    doc: toPlainDoc(root),
    file,
    chain,
    locate: (path) => formatOrigin(descend(root, path).node.at),
    locateKey: (path) => {
      const d = descend(root, path);
      return formatOrigin(d.depth === path.length && path.length > 0 ? d.keyAt : d.node.at);
    },
    baseDir: (path) => originDir(descend(root, path).node.at),
  };
}

/** Resolves with overrides that were already parsed (one parse for many files). */
export function resolveRecipeWith(file: string, sets: readonly SetOverride[]): SourcedRecipe {
  const abs = resolvePath(file);
  const chain: string[] = [];
  const root = loadWithExtends(abs, [], chain);
  for (const s of sets) applySet(root, s);
  return sourcedRecipe(root, abs, chain);
}

/**
 * Loads `file`, follows its `extends` chain and applies `--set` overrides. Throws PeftError:
 * FILE / YAML for the files, EXTENDS for the chain, USAGE for a malformed --set, RECIPE for
 * an override whose path runs through a non-mapping.
 */
export function resolveRecipe(file: string, opts: ResolveOptions = {}): SourcedRecipe {
  return resolveRecipeWith(file, parseSets(opts.sets ?? []));
}
