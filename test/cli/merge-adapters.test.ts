// `peft merge A B --method M` from the command line against Python peft 0.13.2: the merged
// adapter's logits through `peft predict --logits` on the fixture's token ids equal peft's with
// that merge active (adapters a and b themselves too); --into-base writes a model directory with
// the same logits; bad input is one line and exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { peftCli } from '../helpers/cli.js';
import { SHARED, SKIP_NO_SHARED, assertClose } from '../helpers/fixtures.js';
import { llamaCli, predictLogits } from '../helpers/llama-cli.js';

const FIX = join(SHARED, 'fixtures');
const MERGE = join(FIX, 'peft-0.13', 'llama-merge');

test('merged adapters give Python peft\'s logits through peft predict --logits (a, b, linear, cat, svd, ties, ties_svd, magnitude_prune)', { skip: SKIP_NO_SHARED }, () => {
  const s = llamaCli();
  for (const name of ['a', 'b']) {
    assertClose(predictLogits(s, ['--adapter', join(MERGE, name)]), JSON.parse(readFileSync(join(MERGE, name, 'outputs.json'), 'utf8')).logits, `adapter ${name}`);
  }
  for (const method of ['linear', 'cat', 'svd', 'ties', 'ties_svd', 'magnitude_prune']) {
    const want = JSON.parse(readFileSync(join(MERGE, method, 'outputs.json'), 'utf8'));
    const out = join(s.dir, method);
    const args = ['merge', join(MERGE, 'a'), join(MERGE, 'b'), '--method', method, '--weights', want.weights.join(','), '--out', out];
    if (want.density !== null) args.push('--density', String(want.density));
    const r = peftCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`merged 2 adapters by ${method}`));
    assert.ok(existsSync(join(out, 'adapter_config.json')) && existsSync(join(out, 'adapter_model.safetensors')));
    assertClose(predictLogits(s, ['--adapter', out]), want.logits, `${method} logits`);
  }
});

test('--into-base folds the merge into a model directory with the merged adapter\'s logits', { skip: SKIP_NO_SHARED }, () => {
  const s = llamaCli();
  const out = join(s.dir, 'ties-model');
  const r = peftCli(['merge', join(MERGE, 'a'), join(MERGE, 'b'), '--method', 'ties', '--density', '0.5', '--weights', '0.7,0.5', '--into-base', '--base', join(s.dir, 'model'), '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.type, 'model');
  assert.ok(doc.max_logit_diff < 1e-4);
  writeFileSync(join(s.dir, 'merged.yaml'), 'name: m\nbackbone: {path: ./ties-model}\ntask: {type: causal-lm}\ndata: {train: ./train.jsonl}\nmethod: {preset: lora, rank: 4}\noutput: {dir: ./runs}\n');
  // the folded model alone (no adapter) gives peft's logits of the merge
  const want = JSON.parse(readFileSync(join(MERGE, 'ties', 'outputs.json'), 'utf8')).logits;
  assertClose(predictLogits(s, [], join(s.dir, 'merged.yaml')), want, 'folded model logits');
});

test('bad input: weights not matching, density outside (0, 1], a pickle, different backbones → one line, exit 2', { skip: SKIP_NO_SHARED }, () => {
  const s = llamaCli();
  const a = join(MERGE, 'a');
  const b = join(MERGE, 'b');
  const cases: [string[], RegExp][] = [
    [['--method', 'linear', '--weights', '0.7'], /2 adapters but 1 weight \(--weights 0\.7\)/],
    [['--method', 'linear', '--weights', '0.7,x'], /--weights entry 2 is "x", not a number/],
    [['--method', 'ties', '--density', '1.5'], /density 1\.5 is outside \(0, 1\]/],
    [['--method', 'dare_ties', '--density', '0'], /density 0 is outside \(0, 1\]/],
    [[], /name how 2 adapters merge: --method/],
  ];
  for (const [extra, re] of cases) {
    const r = peftCli(['merge', a, b, ...extra, '--out', join(s.dir, 'x')]);
    assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const pickle = join(s.dir, 'pickled');
  mkdirSync(pickle);
  copyFileSync(join(a, 'adapter_config.json'), join(pickle, 'adapter_config.json'));
  writeFileSync(join(pickle, 'adapter_model.bin'), Buffer.from([0x80, 0x02]));
  const r = peftCli(['merge', a, pickle, '--method', 'linear']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /adapter_model\.bin is a PyTorch pickle file, which peft will not execute.*hint: .*save_file/);
  const other = join(s.dir, 'other');
  mkdirSync(other);
  const cfg = JSON.parse(readFileSync(join(b, 'adapter_config.json'), 'utf8'));
  writeFileSync(join(other, 'adapter_config.json'), JSON.stringify({ ...cfg, base_model_name_or_path: 'gpt2' }));
  copyFileSync(join(b, 'adapter_model.safetensors'), join(other, 'adapter_model.safetensors'));
  const d = peftCli(['merge', a, other, '--method', 'cat']);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /is for models\/llama and .* for gpt2: adapters for different backbones do not merge/);
});
