// UNIFIED_VIEW configs list trained backbone modules in modules_to_save as Python peft does (the
// module `score`, not the parameter `score.weight`), and older files listing parameters still load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readJson, useBackend, SKIP_NO_SHARED } from '../../../helpers/fixtures.js';
import { injectMethod, selectTrainable } from '../../../../src/engine/methods/index.js';
import { saveAdapter } from '../../../../src/engine/adapters/peft/save.js';
import { loadAdapter } from '../../../../src/engine/adapters/peft/load.js';
import { normalArray } from '../../../../src/engine/random.js';
import { llama, logits, maxDiff, plan, randomize } from '../../methods/helpers.js';

test('UNIFIED_VIEW modules_to_save names modules (score, model.norm), not parameters; the older parameter form still loads', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama('seq-cls', 0);
  const peft = injectMethod(model, plan({ preset: 'adapter-houlsby', bottleneck: 4, unfreeze: ['norms'] }, 'seq-cls'), 0);
  randomize(peft);
  const t = selectTrainable(peft);
  for (const n of t.backboneNames) {
    const p = t.params.get(n)!;
    p.set(tf.tensor(normalArray(p.size, 0.3, 5, 0), [...p.shape]));
  }
  const dir = mkdtempSync(join(tmpdir(), 'peft-unified-mts-'));
  assert.equal(saveAdapter(peft, dir, { baseModel: 'models/llama', backboneNames: t.backboneNames }).type, 'UNIFIED_VIEW');
  const cfg = readJson(dir, 'adapter_config.json');
  assert.ok(cfg.modules_to_save.includes('score'), JSON.stringify(cfg.modules_to_save));
  assert.ok(cfg.modules_to_save.includes('model.norm'));
  assert.ok(!cfg.modules_to_save.some((m: string) => m.endsWith('.weight')), JSON.stringify(cfg.modules_to_save));
  const want = logits(model, peft);
  const loaded = loadAdapter(dir, llama('seq-cls', 1));
  assert.ok(maxDiff(logits(loaded.peft.model, loaded.peft), want) < 1e-6);
  // the older form (parameter names) loads to the same model
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...cfg, modules_to_save: t.backboneNames }));
  const old = loadAdapter(dir, llama('seq-cls', 2));
  assert.ok(maxDiff(logits(old.peft.model, old.peft), want) < 1e-6);
});
