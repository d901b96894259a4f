// The architecture's import rules (docs/architecture.md), checked on the source tree: the plan
// contract imports neither side; recipes and the engine import the plan, never each other; the
// CLI imports the recipes' and the engine's entry files only (the engine lazily).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO } from './helpers/fixtures.js';

const SRC = join(REPO, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative module a file imports (static and dynamic), as paths relative to src/. */
function importsOf(file: string): { target: string; dynamic: boolean; typeOnly: boolean }[] {
  const text = readFileSync(file, 'utf8');
  const out: { target: string; dynamic: boolean; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s(type\s)?[^'";]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g)) {
    const spec = m[2] ?? m[3];
    out.push({ target: relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts'), dynamic: m[3] !== undefined, typeOnly: m[1] !== undefined });
  }
  return out;
}

const ALL = files(SRC).map((f) => ({ file: relative(SRC, f), imports: importsOf(f) }));
const area = (p: string) => p.split('/')[0];

function violations(from: string, rule: (target: string, loadsIt: 'lazily' | 'eagerly' | 'types only') => string | null): string[] {
  return ALL.filter((f) => area(f.file) === from).flatMap((f) =>
    f.imports.map((i) => {
      const why = rule(i.target, i.typeOnly ? 'types only' : i.dynamic ? 'lazily' : 'eagerly');
      return why ? `${f.file} imports ${i.target}: ${why}` : null;
    }).filter((x): x is string => x !== null));
}

test('the source tree was read (the rules below look at real imports)', () => {
  assert.ok(ALL.length > 100);
  assert.ok(ALL.some((f) => f.imports.some((i) => i.target === 'plan/index.ts')));
});

test('src/plan imports neither src/recipes, src/engine nor src/cli', () => {
  assert.deepEqual(violations('plan', (t) => (['recipes', 'engine', 'cli'].includes(area(t)) ? 'the plan contract stands alone' : null)), []);
});

test('src/recipes never imports src/engine, and reaches the plan through its entry', () => {
  assert.deepEqual(violations('recipes', (t) => {
    if (area(t) === 'engine' || area(t) === 'cli') return 'recipes touch no tensors';
    if (area(t) === 'plan' && t !== 'plan/index.ts') return 'import src/plan/index.ts';
    return null;
  }), []);
});

test('src/engine never imports src/recipes or src/cli, and reaches the plan through its entry', () => {
  assert.deepEqual(violations('engine', (t) => {
    if (area(t) === 'recipes' || area(t) === 'cli') return 'the engine sees plans, not recipes';
    if (area(t) === 'plan' && t !== 'plan/index.ts') return 'import src/plan/index.ts';
    return null;
  }), []);
});

test('src/cli imports only the recipes\' and the engine\'s entry files, the engine lazily', () => {
  assert.deepEqual(violations('cli', (t, how) => {
    if (area(t) === 'cli' || t === 'errors.ts') return null;
    if (t === 'recipes/index.ts') return null;
    if (t === 'engine/index.ts') return how !== 'eagerly' ? null : 'import the engine with await import(…) so validate never loads it';
    return 'the CLI uses src/recipes/index.ts and src/engine/index.ts only';
  }), []);
});
