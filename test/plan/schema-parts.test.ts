// The shipped recipe schema's method parts are the function table's and the presets' (npm run schema).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import AjvModule from 'ajv';
import { recipeSchema } from '../../src/recipes/index.js';
import { FUNCTIONS, FUNCTION_KINDS, optionSchemas, withMethodParts, type OptionUse } from '../../src/plan/index.js';

test('schemas/recipe.schema.json is what the tables generate (run npm run schema after changing them)', () => {
  assert.deepEqual(recipeSchema(), withMethodParts(recipeSchema()));
});

test('every option default the tables give is valid under that option\'s own schema', () => {
  const ajv = new AjvModule.default({ strict: false });
  const schemas = optionSchemas();
  for (const kind of FUNCTION_KINDS) {
    const decided: Record<string, unknown> = {};
    for (const [key, use] of Object.entries(FUNCTIONS[kind].options) as [string, OptionUse<unknown>][]) {
      const v = typeof use.fallback === 'function' ? (use.fallback as (d: Record<string, unknown>) => unknown)(decided) : use.fallback;
      decided[key] = v;
      if (v === undefined) continue;
      assert.ok(ajv.validate(schemas.get(key)!, v), `${kind}.${key} default ${JSON.stringify(v)}: ${ajv.errorsText()}`);
    }
  }
});

test('an option two functions share has one schema (the generator refuses a disagreement)', () => {
  const fake = structuredClone(recipeSchema()) as Record<string, unknown>;
  assert.doesNotThrow(() => withMethodParts(fake));
  assert.ok(optionSchemas().has('rank') && optionSchemas().has('length'));
});
