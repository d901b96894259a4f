// training.dropout is the dropout of every adapter module that sets none; a module's own
// dropout (method.dropout, or modules.<name>.dropout) wins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO } from '../helpers/fixtures.js';
import { planRecipe, resolveRecipe } from '../../src/recipes/index.js';

const QUICKSTART = join(REPO, 'configs', 'quickstart.yaml');
const dropouts = (sets: string[]) => {
  const { plan, issues } = planRecipe(resolveRecipe(QUICKSTART, { sets }));
  assert.deepEqual(issues, []);
  return plan!.method.modules.map((m) => m.options.dropout);
};

test('training.dropout is the default module dropout; method.dropout overrides it', () => {
  assert.ok(dropouts([]).every((d) => d === 0));
  assert.ok(dropouts(['training.dropout=0.1']).every((d) => d === 0.1));
  assert.ok(dropouts(['training.dropout=0.1', 'method.dropout=0.05']).every((d) => d === 0.05));
});
