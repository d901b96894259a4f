// audio-cls through the CLI: WAV files named by data rows (relative to the data file) → Kaldi
// fbank features → the Audio Spectrogram Transformer fixture with LoRA; training, evaluation and
// prediction run, and an unreadable WAV is a bad row with its place (skipped under on_error: skip).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, SKIP_NO_SHARED } from '../helpers/fixtures.js';
import { peftCli } from '../helpers/cli.js';

/** A 16-bit mono WAV of a tone. */
function tone(hz: number, seconds: number, rate = 16000): Buffer {
  const n = Math.round(seconds * rate);
  const b = Buffer.alloc(44 + 2 * n);
  b.write('RIFF', 0); b.writeUInt32LE(36 + 2 * n, 4); b.write('WAVE', 8); b.write('fmt ', 12); b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22); b.writeUInt32LE(rate, 24); b.writeUInt32LE(2 * rate, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36); b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + 2 * i);
  return b;
}

test('an AST recipe trains on WAV rows, evaluates and predicts; a broken WAV is a bad row', { skip: SKIP_NO_SHARED }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-audio-'));
  mkdirSync(join(dir, 'wav'));
  const rows: string[] = [];
  ['low', 'mid', 'high'].forEach((label, c) => {
    for (let k = 0; k < 4; k++) {
      const file = `wav/${label}-${k}.wav`;
      writeFileSync(join(dir, file), tone([300, 1200, 4000][c] + 40 * k, 0.7, k % 2 ? 16000 : 22050));
      rows.push(JSON.stringify({ audio: file, label }));
    }
  });
  writeFileSync(join(dir, 'train.jsonl'), rows.join('\n') + '\n');
  writeFileSync(join(dir, 'wav', 'broken.wav'), 'not a wav');
  writeFileSync(join(dir, 'dev.jsonl'), [...rows.slice(0, 6), JSON.stringify({ audio: 'wav/broken.wav', label: 'low' })].join('\n') + '\n');
  writeFileSync(join(dir, 'audio.yaml'), [
    'name: tones',
    `backbone: {path: ${fixture('models', 'ast')}}`,
    'task: {type: audio-cls, labels: [low, mid, high]}',
    'data: {train: ./train.jsonl, validation: ./dev.jsonl, on_error: skip}',
    'method: {preset: lora, rank: 2}',
    'training: {max_steps: 2, batch_size: 4}',
    `output: {dir: ${join(dir, 'runs')}}`,
    '',
  ].join('\n'));
  const r = peftCli(['train', join(dir, 'audio.yaml'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.steps, 2);
  assert.equal(s.data.validation.skipped, 1, 'the broken WAV was skipped');
  assert.equal(s.data.validation.examples, 6);
  const out = join(dir, 'preds.jsonl');
  const p = peftCli(['predict', s.run_dir, '--input', join(dir, 'train.jsonl'), '--output', out, '--json']);
  assert.equal(p.code, 0, p.stderr);
  const preds = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(preds.length, 12);
  assert.deepEqual(Object.keys(preds[0].probs), ['low', 'mid', 'high']);
  const strict = peftCli(['eval', s.run_dir, '--on-error', 'fail']);
  assert.equal(strict.code, 2);
  assert.match(strict.stderr, /dev\.jsonl:7 .*not a readable WAV file: no RIFF\/WAVE header/);
});
