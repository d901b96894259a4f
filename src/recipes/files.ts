// Which recipe files the command line names: plain paths, directories (every .yaml/.yml
// below), and glob patterns with `*` (within a path segment), `?` (one character) and `**`
// (any number of directories), matched over a directory walk. Hidden entries (".x") match
// only a pattern segment that itself starts with ".".
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve as resolvePath, sep } from 'node:path';

export interface ExpandedPatterns {
  /** Absolute paths, sorted, without duplicates, in the order of the patterns. */
  files: string[];
  /** Patterns that matched no file. */
  unmatched: string[];
}

const GLOB_CHARS = /[*?]/;

export function isGlob(pattern: string): boolean {
  return GLOB_CHARS.test(pattern);
}

/** A regular expression for one path segment of a glob (`*.yaml`, `v?`). */
function segmentRegExp(seg: string): RegExp {
  let re = '';
  for (const ch of seg) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function listDir(dir: string): { name: string; isDir: boolean }[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((d) => {
      let isDir = d.isDirectory();
      if (d.isSymbolicLink()) {
        try {
          isDir = statSync(join(dir, d.name)).isDirectory();
        } catch {
          isDir = false;
        }
      }
      return { name: d.name, isDir };
    });
  } catch {
    return [];
  }
}

/** Every file under `dir` whose remaining path matches `segs`. */
function matchSegments(dir: string, segs: string[], out: string[], seen: Set<string>): void {
  if (segs.length === 0) return;
  const [seg, ...rest] = segs as [string, ...string[]];
  if (seg === '**') {
    // Zero directories …
    matchSegments(dir, rest, out, seen);
    // … or one more, keeping `**` for the rest.
    for (const e of listDir(dir)) {
      if (e.isDir && !e.name.startsWith('.')) {
        const sub = join(dir, e.name);
        const real = realPath(sub); // a symlink loop is walked once
        if (!seen.has(real)) {
          seen.add(real);
          matchSegments(sub, segs, out, seen);
        }
      }
    }
    return;
  }
  if (!isGlob(seg)) {
    const p = join(dir, seg);
    if (rest.length === 0) {
      if (isFile(p)) out.push(p);
    } else matchSegments(p, rest, out, new Set());
    return;
  }
  const re = segmentRegExp(seg);
  for (const e of listDir(dir)) {
    if (e.name.startsWith('.') && !seg.startsWith('.')) continue;
    if (!re.test(e.name)) continue;
    const p = join(dir, e.name);
    if (rest.length === 0) {
      if (!e.isDir) out.push(p);
    } else if (e.isDir) matchSegments(p, rest, out, new Set());
  }
}

function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Files matching one glob pattern (relative patterns against `cwd`). */
export function globFiles(pattern: string, cwd: string = process.cwd()): string[] {
  const normalized = pattern.split(sep).join('/');
  const absolute = isAbsolute(pattern);
  const segs = normalized.split('/').filter((s, i) => s !== '' || i === 0);
  let base = absolute ? resolvePath('/') : cwd;
  if (absolute) segs.shift();
  // Leading plain segments are the directory the walk starts from.
  while (segs.length > 1 && !isGlob(segs[0]!)) base = join(base, segs.shift()!);
  const out: string[] = [];
  matchSegments(base, segs, out, new Set());
  return [...new Set(out)].sort();
}

/**
 * Expands command-line arguments into recipe files: a glob matches files, a directory means
 * every .yaml/.yml below it, anything else is taken as a file path (a missing one is kept:
 * reading it reports the problem).
 */
export function expandRecipePatterns(patterns: readonly string[], cwd: string = process.cwd()): ExpandedPatterns {
  const files: string[] = [];
  const taken = new Set<string>();
  const unmatched: string[] = [];
  for (const pattern of patterns) {
    let found: string[];
    if (isGlob(pattern)) found = globFiles(pattern, cwd);
    else if (isDirectory(resolvePath(cwd, pattern))) {
      found = [...globFiles(join(pattern, '**', '*.yaml'), cwd), ...globFiles(join(pattern, '**', '*.yml'), cwd)].sort();
    } else found = [resolvePath(cwd, pattern)];
    if (found.length === 0) unmatched.push(pattern);
    for (const f of found) {
      if (!taken.has(f)) files.push(f);
      taken.add(f);
    }
  }
  return { files, unmatched };
}
