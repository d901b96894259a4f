import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { checkRecipe, recipeSchema, recipeSchemaPath, recipeSchemaText, schemaAt, FUNCTIONS, FUNCTION_KINDS, PRESET_NAMES, DIMENSION_KEYS } from '../../src/recipes/index.js';
import type { RecipeDoc, ResolvedRecipe, SchemaNode } from '../../src/recipes/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = readFileSync(new URL('../../docs/recipes.md', import.meta.url), 'utf8');

function inMemory(doc: RecipeDoc): ResolvedRecipe {
  return { doc, file: '/x.yaml', chain: ['/x.yaml'], locate: () => 'x.yaml:1:1', baseDir: () => '/' };
}

/** Every subschema with the path of keys that leads to it. */
function* walk(s: SchemaNode, path: string[] = []): Generator<[string[], SchemaNode]> {
  yield [path, s];
  for (const [k, sub] of Object.entries(s.properties ?? {})) yield* walk(sub, [...path, k]);
  if (s.items) yield* walk(s.items, [...path, '[]']);
  if (typeof s.additionalProperties === 'object') yield* walk(s.additionalProperties, [...path, '<name>']);
  for (const [k, sub] of Object.entries(s.definitions ?? {})) yield* walk(sub, ['#', k]);
}

const propertyNames = new Set<string>();
for (const [, s] of walk(recipeSchema())) for (const k of Object.keys(s.properties ?? {})) propertyNames.add(k);

test('the schema is read from the package root (from src/ under tsx)', () => {
  assert.equal(recipeSchemaPath(), `${ROOT}schemas/recipe.schema.json`);
  assert.deepEqual(JSON.parse(recipeSchemaText()), recipeSchema());
  assert.equal(recipeSchema().$schema, 'http://json-schema.org/draft-07/schema#');
});

test('every object is closed (additionalProperties: false) unless its keys are free names', () => {
  for (const [path, s] of walk(recipeSchema())) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.includes('object')) continue;
    const free = typeof s.additionalProperties === 'object' && s.propertyNames !== undefined;
    assert.ok(s.additionalProperties === false || free, `${path.join('.')} must be closed`);
  }
});

test('every property has a description (editor tooltips)', () => {
  for (const [path, s] of walk(recipeSchema())) {
    for (const [k, sub] of Object.entries(s.properties ?? {})) {
      const target = sub.$ref ? recipeSchema().definitions![sub.$ref.split('/').pop()!]! : sub;
      assert.ok(target.description, `${[...path, k].join('.')} has no description`);
    }
  }
});

test('a module has the method\'s keys minus modules, unfreeze, train_head and select', () => {
  const method = Object.keys(schemaAt(['method'])!.properties!).sort();
  const module = Object.keys(schemaAt(['method', 'modules', 'x'])!.properties!).sort();
  assert.deepEqual(module, method.filter((k) => !['modules', 'unfreeze', 'train_head', 'select'].includes(k)));
});

test('the module keys are the dimensions plus every option of the function table', () => {
  const module = Object.keys(schemaAt(['method', 'modules', 'x'])!.properties!).sort();
  const options = FUNCTION_KINDS.flatMap((k) => Object.keys(FUNCTIONS[k].options));
  assert.deepEqual(module, [...new Set(['preset', ...DIMENSION_KEYS, ...options])].sort());
});

test('preset names and function kinds are the tables\' (the schema is generated from them)', () => {
  assert.deepEqual(schemaAt(['method', 'preset'])!.enum, PRESET_NAMES);
  assert.deepEqual(schemaAt(['method', 'function'])!.enum, FUNCTION_KINDS);
  for (const kind of FUNCTION_KINDS) assert.ok(FUNCTIONS[kind].paper, `${kind} names its paper`);
});

test('every schema key is in docs/recipes.md', () => {
  const missing = [...propertyNames].filter((k) => !new RegExp(`(\`${k}\`|\\b${k}:)`).test(DOCS));
  assert.deepEqual(missing, []);
});

test('every key in the YAML examples of docs/recipes.md is in the schema, and the examples validate', () => {
  const blocks = [...DOCS.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1]!) as RecipeDoc);
  assert.ok(blocks.length >= 4);
  for (const block of blocks) {
    const walkDoc = (v: unknown, path: string[]): void => {
      if (Array.isArray(v)) v.forEach((x, i) => walkDoc(x, [...path, String(i)]));
      else if (v !== null && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          assert.ok(schemaAt([...path, k]), `docs key ${[...path, k].join('.')} is not in the schema`);
          walkDoc(x, [...path, k]);
        }
      }
    };
    walkDoc(block, []);
    const doc = { backbone: { path: 'm' }, method: { preset: 'lora' }, ...block };
    assert.deepEqual(checkRecipe(inMemory(doc)), [], JSON.stringify(block).slice(0, 80));
  }
});
