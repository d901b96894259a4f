// Every AdapterHub fixture (adapters 0.1.2 on the tiny BERT and BART) loads through
// loadAdapterHub and reproduces the library's logits within the fixtures' tolerance; prefix
// configurations also reproduce the keys and values the library computes per location.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, toTensor, useBackend, SKIP_NO_SHARED, type JsonTensor } from '../../../helpers/fixtures.js';
import { loadBackbone, type ModelInputs } from '../../../../src/engine/backbones/index.js';
import { loadAdapterHub, adapterLayout, loadAnyAdapter } from '../../../../src/engine/adapters/index.js';
import { prefixLocation } from '../../../../src/engine/adapters/adapterhub/locations.js';
import { saveAdapter } from '../../../../src/engine/adapters/peft/save.js';
import { Comparer, fixtureInputs } from '../../backbones/parity.js';

function bertInputs(): ModelInputs {
  const inputs = readJson(fixture('models', 'bert'), 'inputs.json');
  return {
    inputIds: toTensor(inputs.input_ids, 'int32') as tf.Tensor2D,
    attentionMask: toTensor(inputs.attention_mask, 'int32') as tf.Tensor2D,
    tokenTypeIds: toTensor(inputs.token_type_ids, 'int32') as tf.Tensor2D,
  };
}

const CASES: [string, string, number][] = [
  // [backbone, config, modules expected]
  ['bert', 'seq_bn', 1], ['bert', 'double_seq_bn', 1], ['bert', 'par_bn', 1], ['bert', 'mam', 2],
  ['bert', 'prefix_tuning', 1], ['bert', 'prefix_tuning_flat', 1], ['bert', 'lora', 1], ['bert', 'ia3', 1], ['bert', 'prompt_tuning', 1],
  ['bart', 'seq_bn', 1], ['bart', 'double_seq_bn', 1], ['bart', 'par_bn', 1], ['bart', 'mam', 2],
  ['bart', 'prefix_tuning', 1], ['bart', 'prefix_tuning_flat', 1], ['bart', 'lora', 1], ['bart', 'ia3', 1],
];

for (const [backbone, config, count] of CASES) {
  test(`AdapterHub ${backbone}-${config} matches the library's logits`, { skip: SKIP_NO_SHARED }, async (t) => {
    await useBackend();
    const dir = fixture('adapters', `${backbone}-${config}`);
    const expected = readJson(dir, 'outputs.json');
    assert.equal(adapterLayout(dir), 'adapterhub');
    const { model } = loadBackbone(fixture('models', backbone), { task: backbone === 'bert' ? 'seq-cls' : 'seq2seq' });
    const { peft, type, warnings, backboneNames } = loadAdapterHub(dir, model);
    assert.deepEqual(warnings, []);
    assert.deepEqual(backboneNames, []);
    assert.match(type, /^adapterhub:/);
    assert.equal(peft.modules.length, count);
    const inputs = backbone === 'bert' ? bertInputs() : fixtureInputs('bart').inputs;
    const c = new Comparer();
    c.check(model.forward(inputs, peft.context({ training: false })).logits, expected.logits, 'logits');
    // prefixes: the keys/values per location, [layers, 2, heads, P, head_dim], as the library computes them
    for (const m of peft.modules.filter((x) => x.plan.function === 'prefix')) {
      const stored = m.storedTensors ? m.storedTensors() : new Map(peft.store.namedParams().map(([n, p]) => [n, p.value]));
      const byLoc = new Map<string, tf.Tensor[]>();
      for (const site of [...m.sites].sort((a, b) => a.layer - b.layer)) {
        const loc = prefixLocation(model, site);
        const kv = ['prefix_key', 'prefix_value'].map((part) => stored.get(`${site.path}.${m.plan.name}.${part}`)!);
        byLoc.set(loc, [...(byLoc.get(loc) ?? []), tf.stack(kv)]);
      }
      for (const [loc, layers] of byLoc) c.check(tf.stack(layers), expected.prefix_key_values[loc] as JsonTensor, `prefix_key_values.${loc}`);
    }
    c.report(t);
  });
}

test('loadAnyAdapter takes either layout', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model } = loadBackbone(fixture('models', 'bert'), { task: 'seq-cls' });
  assert.equal(adapterLayout(fixture('peft', 'bert-lora')), 'peft');
  assert.equal(loadAnyAdapter(fixture('peft', 'bert-lora'), model).type, 'LORA');
  const { model: again } = loadBackbone(fixture('models', 'bert'), { task: 'seq-cls' });
  assert.equal(loadAnyAdapter(fixture('adapters', 'bert-lora'), again).type, 'adapterhub:lowrank');
});

test('an AdapterHub adapter saves in the peft layout and reloads with the same logits', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  for (const [backbone, config, expectType] of [['bart', 'mam', 'UNIFIED_VIEW'], ['bert', 'seq_bn', 'UNIFIED_VIEW'], ['bert', 'lora', 'LORA']] as const) {
    const task = backbone === 'bert' ? 'seq-cls' : 'seq2seq';
    const inputs = backbone === 'bert' ? bertInputs() : fixtureInputs('bart').inputs;
    const { model } = loadBackbone(fixture('models', backbone), { task });
    const { peft } = loadAdapterHub(fixture('adapters', `${backbone}-${config}`), model);
    const dir = mkdtempSync(join(tmpdir(), 'peft-hub-save-'));
    const { type } = saveAdapter(peft, dir, { baseModel: `models/${backbone}` });
    assert.equal(type, expectType, config);
    const { model: fresh } = loadBackbone(fixture('models', backbone), { task });
    const again = loadAnyAdapter(dir, fresh);
    const a = model.forward(inputs, peft.context({ training: false })).logits;
    const b = fresh.forward(inputs, again.peft.context({ training: false })).logits;
    assert.deepEqual(Array.from(b.dataSync()).map((x) => Math.fround(x)), Array.from(a.dataSync()).map((x) => Math.fround(x)), `${backbone}-${config}`);
  }
});
