// Rewrites schemas/recipe.schema.json's method parts (presets, functions, option definitions,
// module keys) from the plan's tables. `npm run schema`; test/plan/schema-parts.test.ts fails
// when the committed file and the tables disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withMethodParts } from '../src/plan/index.js';

const file = fileURLToPath(new URL('../schemas/recipe.schema.json', import.meta.url));
const before = readFileSync(file, 'utf8');
const after = JSON.stringify(withMethodParts(JSON.parse(before)), null, 2) + '\n';
if (after === before) console.log('schemas/recipe.schema.json is up to date');
else {
  writeFileSync(file, after);
  console.log('rewrote schemas/recipe.schema.json from the plan\'s tables');
}
