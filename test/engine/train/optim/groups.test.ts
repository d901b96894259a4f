import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nameMatcher, resolveGroups, unusedGroups } from '../../../../src/engine/train/optim/groups.js';
import { AdamW } from '../../../../src/engine/train/optim/adamw.js';
import { Sgd } from '../../../../src/engine/train/optim/sgd.js';
import { isPeftError } from '../../../../src/errors.js';
import { assertClose, disposeMap, gradMap, useCpu, values, vars } from './helpers.js';

await useCpu();

const NAMES = [
  'base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight',
  'base_model.model.bert.encoder.layer.1.attention.self.query.lora_A.weight',
  'base_model.model.classifier.weight',
  'base_model.model.classifier.bias',
];

test('a match is a substring, or a /regex/ with flags', () => {
  assert.ok(nameMatcher('classifier')(NAMES[2]!));
  assert.ok(!nameMatcher('classifier')(NAMES[0]!));
  assert.ok(nameMatcher('/layer\\.1\\./')(NAMES[1]!));
  assert.ok(!nameMatcher('/layer\\.1\\./')(NAMES[0]!));
  assert.ok(nameMatcher('/CLASSIFIER\\.bias$/i')(NAMES[3]!));
  // A 'g' flag must not make the test stateful (RegExp.lastIndex).
  const g = nameMatcher('/bias/g');
  assert.ok(g(NAMES[3]!) && g(NAMES[3]!));
  // Not a regex: a slash in the middle, or only a leading one.
  assert.ok(nameMatcher('a/b')('x.a/b.y'));
  assert.ok(!nameMatcher('/abc')('abc'));
});

test('first matching group wins; unset fields fall back to the defaults', () => {
  const r = resolveGroups(NAMES, { lr: 1e-3, weightDecay: 0.01 }, [
    { match: 'bias', weightDecay: 0 },
    { match: 'classifier', lr: 5e-3 },
    { match: '/layer\\.1\\./', lr: 2e-3, weightDecay: 0.1 },
    { match: 'lora', lr: 9 }, // shadowed for layer 1 by the group above; applies to layer 0
  ]);
  assert.deepEqual(r.get(NAMES[0]!), { group: 3, lr: 9, weightDecay: 0.01 });
  assert.deepEqual(r.get(NAMES[1]!), { group: 2, lr: 2e-3, weightDecay: 0.1 });
  assert.deepEqual(r.get(NAMES[2]!), { group: 1, lr: 5e-3, weightDecay: 0.01 });
  assert.deepEqual(r.get(NAMES[3]!), { group: 0, lr: 1e-3, weightDecay: 0 });
  const none = resolveGroups(NAMES, { lr: 1e-3, weightDecay: 0 }, [{ match: 'typo' }, { match: 'bias' }]);
  assert.deepEqual(none.get(NAMES[0]!), { group: null, lr: 1e-3, weightDecay: 0 });
  assert.deepEqual(unusedGroups(none, 2), [0]);
});

test('an invalid regex is a RECIPE error at the group', () => {
  assert.throws(
    () => resolveGroups(NAMES, { lr: 1, weightDecay: 0 }, [{ match: 'x' }, { match: '/(unclosed/' }]),
    (e) => isPeftError(e) && e.code === 'RECIPE' && e.where === 'optimizer.groups[1].match',
  );
});

test('each group steps with its own lr, all scaled by the schedule factor', () => {
  // SGD, no momentum, g = 1: each parameter moves by its lr × lrScale.
  const params = vars({ 'enc.lora_A': [0], 'head.classifier.weight': [0], 'head.classifier.bias': [0] });
  const opt = new Sgd(params, {
    lr: 0.1,
    groups: [
      { match: 'classifier.bias', lr: 0.3 },
      { match: 'classifier', lr: 0.5 },
    ],
  });
  const g = gradMap({ 'enc.lora_A': [1], 'head.classifier.weight': [1], 'head.classifier.bias': [1] });
  opt.step(g); // factor 1
  opt.step(g, 0.5); // factor ½
  assertClose(values(params.get('enc.lora_A')!), [-(0.1 + 0.05)]);
  assertClose(values(params.get('head.classifier.weight')!), [-(0.5 + 0.25)]);
  assertClose(values(params.get('head.classifier.bias')!), [-(0.3 + 0.15)]);
  assert.deepEqual(opt.settings().get('head.classifier.bias'), { group: 0, lr: 0.3, weightDecay: 0 });
  disposeMap(g);
  opt.dispose();
});

test('per-group weight decay: AdamW decays only the groups that ask for it', () => {
  // lr 0.1, wd 0.5 by default, 0 for biases; g = 0 → the Adam move is 0 (m = 0), only decay acts.
  const params = vars({ 'l.weight': [2], 'l.bias': [2] });
  const opt = new AdamW(params, { lr: 0.1, weightDecay: 0.5, groups: [{ match: '/\\.bias$/', weightDecay: 0 }] });
  const g = gradMap({ 'l.weight': [0], 'l.bias': [0] });
  opt.step(g);
  assertClose(values(params.get('l.weight')!), [2 * (1 - 0.05)]);
  assertClose(values(params.get('l.bias')!), [2]);
  disposeMap(g);
  opt.dispose();
});

test('a negative group lr or weight decay is a RECIPE error at that group', () => {
  const params = vars({ w: [1] });
  assert.throws(() => new Sgd(params, { lr: 0.1, groups: [{ match: 'w', lr: -1 }] }), (e) => isPeftError(e) && e.where === 'optimizer.groups[0].lr');
  assert.throws(() => new AdamW(params, { weightDecay: -0.1 }), (e) => isPeftError(e) && e.where === 'optimizer.weight_decay');
});
