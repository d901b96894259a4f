// Several adapters at inference from the command line: `peft predict --adapter a --adapter b
// --weights 0.7,0.5` combines them on the fly — for LoRA W + Σ w·s·B·A, which is Python peft's
// exact `cat` merge, so its logits are that merge's (../shared llama-merge); bad combinations
// are one line and exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { peftCli } from '../helpers/cli.js';
import { SHARED, SKIP_NO_SHARED, assertClose } from '../helpers/fixtures.js';
import { llamaCli, predictLogits } from '../helpers/llama-cli.js';

const MERGE = join(SHARED, 'fixtures', 'peft-0.13', 'llama-merge');

test('predict --adapter a --adapter b --weights 0.7,0.5 gives the logits of peft\'s cat merge (no merged copy written); --stack agrees for LoRA', { skip: SKIP_NO_SHARED }, () => {
  const s = llamaCli();
  const want = JSON.parse(readFileSync(join(MERGE, 'cat', 'outputs.json'), 'utf8')).logits;
  const both = ['--adapter', join(MERGE, 'a'), '--adapter', join(MERGE, 'b'), '--weights', '0.7,0.5'];
  assertClose(predictLogits(s, both), want, 'sum of a and b');
  assertClose(predictLogits(s, [...both, '--stack']), want, 'stack of a and b (parallel LoRA: the same)');
  // one adapter with a weight scales its update
  const half = predictLogits(s, ['--adapter', join(MERGE, 'a'), '--weights', '0.5']);
  const full = predictLogits(s, ['--adapter', join(MERGE, 'a')]);
  assert.ok(half.some((v, i) => Math.abs(v - full[i]) > 1e-3));
});

test('several adapters: weights that do not match, --stack without adapters → one line, exit 2', { skip: SKIP_NO_SHARED }, () => {
  const s = llamaCli();
  const out = join(s.dir, 'x.jsonl');
  const bad = peftCli(['predict', s.recipe, '--adapter', join(MERGE, 'a'), '--adapter', join(MERGE, 'b'), '--weights', '1,2,3', '--input', s.ids, '--output', out, '--logits']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /2 adapters but 3 weights/);
  const noAdapters = peftCli(['predict', s.recipe, '--stack', '--input', s.ids, '--output', out, '--logits']);
  assert.equal(noAdapters.code, 2);
  assert.match(noAdapters.stderr, /combine adapters: name them with --adapter DIR/);
});
