// The fixture corpus: every broken recipe gives exactly its expected lines (place, path,
// message), and every good recipe validates clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PeftError } from '../../src/errors.js';
import { displayPath, validateRecipeFile, FUNCTION_KINDS, PRESET_NAMES } from '../../src/recipes/index.js';
import type { RecipeIssue } from '../../src/recipes/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/recipes/', import.meta.url));
const BROKEN = join(FIXTURES, 'broken');

/** `@name.yaml` stands for that broken fixture's path as printed (relative to the cwd). */
function expand(line: string): string {
  return line.replace(/@([\w.-]+\.yaml)/g, (_, name: string) => displayPath(join(BROKEN, name)));
}

function line(i: RecipeIssue): string {
  return [i.where, i.path, i.message].filter((p) => p !== '').join('  ');
}

interface Case {
  file: string;
  lines: string[];
  sets?: string[];
  /** Hints, by line index, that must be given. */
  hints?: Record<number, string>;
  todo?: string;
}

// the enums are the function table's and the presets' (the schema is generated from them)
const ENUM_FUNCTIONS = FUNCTION_KINDS.join(', ');
const ENUM_PRESETS = PRESET_NAMES.join(', ');

const CASES: Case[] = [
  { file: 'typo-key.yaml', lines: ['@typo-key.yaml:4:3  method.rnak  unknown key "rnak" (did you mean "rank"?)'] },
  { file: 'wrong-type.yaml', lines: ['@wrong-type.yaml:4:9  method.rank  must be integer ≥ 1 and ≤ 65536 (got "eight")'] },
  { file: 'bad-enum.yaml', lines: [`@bad-enum.yaml:4:13  method.function  must be one of ${ENUM_FUNCTIONS} (got "lowrnk"; did you mean "lowrank"?)`] },
  { file: 'bad-preset.yaml', lines: [`@bad-preset.yaml:2:18  method.preset  must be one of ${ENUM_PRESETS} (got "lroa"; did you mean "lora"?)`] },
  { file: 'missing-backbone.yaml', lines: ['@missing-backbone.yaml:2:1  missing required key "backbone"'] },
  {
    file: 'missing-backbone-dir.yaml',
    // Found by the planner (planRecipe), which runs once the schema passes.
    lines: [`@missing-backbone-dir.yaml:2:9  backbone.path  backbone directory not found: ${join(FIXTURES, 'models', 'no-such-model')}`],
  },
  {
    file: 'extends-cycle-a.yaml',
    lines: ['@extends-cycle-b.yaml:2:10  extends cycle: @extends-cycle-a.yaml → @extends-cycle-b.yaml → @extends-cycle-a.yaml'],
  },
  {
    file: 'extends-cycle-b.yaml',
    lines: ['@extends-cycle-a.yaml:1:10  extends cycle: @extends-cycle-b.yaml → @extends-cycle-a.yaml → @extends-cycle-b.yaml'],
  },
  { file: 'extends-missing.yaml', lines: ['@extends-missing.yaml:3:5  extended file not found: ./no-such-base.yaml'] },
  {
    file: 'extends-broken-base.yaml',
    lines: ['@syntax-error.yaml:5:3  flow sequence in block collection must be sufficiently indented and end with a ]'],
  },
  {
    file: 'syntax-error.yaml',
    lines: ['@syntax-error.yaml:5:3  flow sequence in block collection must be sufficiently indented and end with a ]'],
    hints: { 0: 'is a bracket opened above this place left unclosed?' },
  },
  { file: 'alias-bomb.yaml', lines: ['@alias-bomb.yaml:7:12  aliases expand to more than 10000 values (an alias bomb?)'] },
  { file: 'binary.yaml', lines: ['@binary.yaml:1:1  not a text file (binary data at byte 3)'] },
  { file: 'empty.yaml', lines: ['@empty.yaml:1:1  empty recipe'] },
  { file: 'comments-only.yaml', lines: ['@comments-only.yaml:1:1  empty recipe'] },
  { file: 'top-level-list.yaml', lines: ['@top-level-list.yaml:1:1  a recipe must be a mapping of keys, not a list'] },
  {
    file: 'top-level-scalar.yaml',
    lines: ['@top-level-scalar.yaml:1:1  a recipe must be a mapping of keys, not a single value ("just a sentence, not a recipe")'],
  },
  { file: 'unknown-tag.yaml', lines: ['@unknown-tag.yaml:2:9  unknown tag !!python/object:peft.Lora'] },
  { file: 'unknown-alias.yaml', lines: ['@unknown-alias.yaml:2:9  unknown alias *lora_defaults'] },
  { file: 'duplicate-key.yaml', lines: ['@duplicate-key.yaml:6:3  duplicate key "rank" (first at line 4)'] },
  { file: 'negative-lr.yaml', lines: ['@negative-lr.yaml:5:7  optimizer.lr  must be a number > 0 or "auto" (got -0.0003)'] },
  { file: 'layers-from-without-to.yaml', lines: ['@layers-from-without-to.yaml:4:3  method.layers  missing key "to" (needed with "from")'] },
  {
    file: 'layers-misspelled.yaml',
    lines: ['@layers-misspelled.yaml:4:11  method.layers  must be "all", a list of layer indices, {from, to}, {top: k} or {bottom: k} (got "al"; did you mean "all"?)'],
  },
  {
    file: 'method-as-string.yaml',
    lines: ['@method-as-string.yaml:2:9  method  must be mapping (got "lora")'],
    hints: { 0: 'write method: {preset: lora}' },
  },
  {
    file: 'misplaced-key.yaml',
    lines: ['@misplaced-key.yaml:5:3  training.lr  unknown key "lr"'],
    hints: { 0: '"lr" is a key of optimizer' },
  },
  {
    file: 'data-split-type.yaml',
    lines: [
      '@data-split-type.yaml:4:10  data.train  must be a path or a mapping {path, format, limit, split, columns} (got 42)',
      '@data-split-type.yaml:5:31  data.validation.limt  unknown key "limt" (did you mean "limit"?)',
    ],
  },
  {
    file: 'unfreeze-value.yaml',
    lines: ['@unfreeze-value.yaml:3:21  method.unfreeze[1]  must be one of all, head, norms, biases, embeddings (got "heads"; did you mean "head"?)'],
  },
  {
    file: 'position-pattern.yaml',
    lines: ['@position-pattern.yaml:4:26  method.position[1]  must be a position such as attn.query or ffn.output (got "mlp.up")'],
  },
  {
    file: '../good/minimal.yaml',
    sets: ['method.rank=eight', 'backbone.dtype=float16'],
    lines: [
      // Overrides have no line: they come after the file's issues, in schema order.
      '--set backbone.dtype=float16  backbone.dtype  must be float32 (got "float16"; did you mean "float32"?)',
      '--set method.rank=eight  method.rank  must be integer ≥ 1 and ≤ 65536 (got "eight")',
    ],
  },
  {
    file: '../good/minimal.yaml',
    sets: ['backbone.path.dir=x'],
    lines: ['--set backbone.path.dir=x  backbone.path is "../models/tiny-llama", not a mapping'],
  },
];

for (const c of CASES) {
  const title = `broken: ${c.file}${c.sets ? ` --set ${c.sets.join(' --set ')}` : ''}`;
  test(title, c.todo ? { todo: c.todo } : {}, () => {
    const v = validateRecipeFile(join(BROKEN, c.file), { sets: c.sets });
    assert.deepEqual(v.issues.map(line), c.lines.map(expand));
    for (const [i, hint] of Object.entries(c.hints ?? {})) assert.equal(v.issues[Number(i)]!.hint, hint);
    for (const issue of v.issues) assert.ok(!line(issue).includes('\n'), 'one line per issue');
  });
}

test('every broken fixture has a case', () => {
  const covered = new Set(CASES.map((c) => c.file));
  const missing = readdirSync(BROKEN).filter((f) => f.endsWith('.yaml') && !covered.has(f));
  assert.deepEqual(missing, []);
  assert.ok(covered.size >= 15);
});

test('a malformed --set is a USAGE error, not an issue of the file', () => {
  for (const set of ['method.rank', '=1', 'a..b=1']) {
    assert.throws(() => validateRecipeFile(join(FIXTURES, 'good', 'minimal.yaml'), { sets: [set] }),
      (e: unknown) => e instanceof PeftError && e.code === 'USAGE');
  }
});

const GOOD = [
  ...readdirSync(join(FIXTURES, 'good')).map((f) => join(FIXTURES, 'good', f)),
  ...['base.yaml', 'mid.yaml', 'child.yaml', 'listed.yaml'].map((f) => join(FIXTURES, 'extends', f)),
];

for (const file of GOOD) {
  test(`good: ${displayPath(file)}`, () => {
    const v = validateRecipeFile(file);
    assert.deepEqual(v.issues, []);
    assert.ok(v.resolved);
    assert.equal(v.resolved.doc.extends, undefined);
  });
}
