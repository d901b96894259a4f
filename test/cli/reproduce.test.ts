// `peft reproduce` as a user runs it: the small set listed without compute, the full set refused
// before anything runs when its backbones have no weights, an unknown paper with a did-you-mean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peftCli } from '../helpers/cli.js';

test('--dry-run lists the small set: every method on both tasks at the budgets the findings compare', () => {
  const out = mkdtempSync(join(tmpdir(), 'peft-repro-'));
  const r = peftCli(['reproduce', 'he2022-unified', '--scale', 'small', '--dry-run', '--json', '--output', out]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.trials.length, 16);
  const stored = new Map<string, number>(doc.trials.map((t: { label: string; params: { stored: number } }) => [t.label.split(' ')[0], t.params.stored]));
  // equal budgets (stored parameters, the task head and biases included) within each comparison
  for (const task of ['sst2', 'shakespeare']) {
    const s = (m: string) => stored.get(`${task}-${m}`)!;
    assert.equal(s('pa-ffn-r16'), s('sa-ffn-r16'));
    assert.equal(s('pa-attn-r16'), s('sa-attn-r16'));
    assert.equal(s('scaled-pa-ffn-r16'), s('pa-ffn-r16'));
    assert.equal(s('pa-ffn-r16'), s('pa-attn-r16'));
    // MAM against its parts: App. B's 7,680 weights each; biases differ by a few dozen
    for (const part of ['prefix-l24', 'scaled-pa-ffn-r12']) assert.ok(Math.abs(s('mam-l8-r8') - s(part)) <= 400, `${part}: ${s(part)} vs ${s('mam-l8-r8')}`);
  }
  assert.deepEqual(readdirSync(out), []);
});

test('--scale full stops before running when the backbones have no weights; an unknown paper is a did-you-mean', () => {
  const out = mkdtempSync(join(tmpdir(), 'peft-repro-'));
  const r = peftCli(['reproduce', 'he2022-unified', '--scale', 'full', '--output', out]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error: no weights in configs\/backbones\/bart-large, configs\/backbones\/roberta-base \(config\.json only\) \(hint: /m);
  assert.deepEqual(readdirSync(out), []);
  const dry = peftCli(['reproduce', 'he2022-unified', '--scale', 'full', '--dry-run', '--json', '--output', out]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(JSON.parse(dry.stdout).trials.length, 24);
  const bad = peftCli(['reproduce', 'he2022-unifed']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no paper he2022-unifed \(hint: did you mean he2022-unified\?\)/);
});
