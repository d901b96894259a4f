// A recipe file → ResolvedRecipe: its `extends` chain loaded and merged (mappings key by key,
// everything else replaced, the extending file wins), then `--set` overrides applied. The
// merged tree keeps, for every value, the position of the node that supplied it.
import { realpathSync, statSync } from 'node:fs';
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

/** Most recipe files one `extends` tree may load (a diamond of lists could otherwise load exponentially many). */
export const MAX_EXTENDS_LOADS = 256;

/** The file's real path (symlinks resolved), so a cycle through a symlinked directory is seen as one. */
function realPathOf(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

interface ChainState {
  /** Every file read, in order (the chain a ResolvedRecipe reports). */
  chain: string[];
  loads: number;
}

function loadWithExtends(file: string, stack: { file: string; real: string }[], state: ChainState): MapNode {
  const own = loadRecipeFile(file);
  if (!state.chain.includes(file)) state.chain.push(file);
  const refs = extendsList(own);
  own.entries.delete('extends');
  let merged: SourceNode | null = null;
  const seen = [...stack, { file, real: realPathOf(file) }];
  for (const { ref, at } of refs) {
    const target = resolvePath(dirname(file), ref);
    const real = realPathOf(target);
    const again = seen.findIndex((s) => s.real === real);
    if (again >= 0) {
      const cycle = [...seen.slice(again).map((s) => s.file), target].map(displayPath).join(' → ');
      throw new PeftError('EXTENDS', `extends cycle: ${cycle}`, {
        where: formatOrigin(at),
        hint: 'a recipe cannot extend itself, directly, through others or through a symlinked directory',
      });
    }
    let isDir = false;
    try {
      isDir = statSync(target).isDirectory();
    } catch {
      throw new PeftError('EXTENDS', `extended file not found: ${ref}`, {
        where: formatOrigin(at),
        hint: `no file at ${displayPath(target)} (paths in extends are relative to the file that names them)`,
      });
    }
    if (isDir) {
      throw new PeftError('EXTENDS', `extends names a directory: ${ref}`, {
        where: formatOrigin(at),
        hint: `name a recipe file inside it (e.g. ${ref.replace(/\/$/, '')}/base.yaml)`,
      });
    }
    if (++state.loads > MAX_EXTENDS_LOADS) {
      throw new PeftError('EXTENDS', `extends loads more than ${MAX_EXTENDS_LOADS} files`, {
        where: formatOrigin(at),
        hint: 'a recipe extends a few bases; list each base once',
      });
    }
    let base: MapNode;
    try {
      base = loadWithExtends(target, seen, state);
    } catch (e) {
      // a base that cannot be read is reported at the extends line that names it
      if (e instanceof PeftError && e.code === 'FILE') {
        throw new PeftError('EXTENDS', `cannot read extended file ${ref}: ${e.message}`, { where: formatOrigin(at), hint: e.hintText });
      }
      throw e;
    }
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
  const state: ChainState = { chain: [], loads: 0 };
  const root = loadWithExtends(abs, [], state);
  for (const s of sets) applySet(root, s);
  return sourcedRecipe(root, abs, state.chain);
}

/**
 * Loads `file`, follows its `extends` chain and applies `--set` overrides. Throws PeftError:
 * FILE / YAML for the files, EXTENDS for the chain, USAGE for a malformed --set, RECIPE for
 * an override whose path runs through a non-mapping.
 */
export function resolveRecipe(file: string, opts: ResolveOptions = {}): SourcedRecipe {
  return resolveRecipeWith(file, parseSets(opts.sets ?? []));
}
