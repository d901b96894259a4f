// The audio input pipeline: WAV decoding (16-bit PCM, mixing channels down, other sample
// formats), resampling, and the Kaldi-style fbank features of transformers' ASTFeatureExtractor
// (../shared/fixtures/models/ast/features: tone.wav → features.safetensors within 1e-3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, SKIP_NO_SHARED } from '../../../helpers/fixtures.js';
import { decodeWav, readWav } from '../../../../src/engine/data/audio/wav.js';
import { resample } from '../../../../src/engine/data/audio/resample.js';
import { audioSpec, toInputValues } from '../../../../src/engine/data/audio/features.js';
import { hzToMel, melFilters } from '../../../../src/engine/data/audio/fbank.js';
import { openSafetensors } from '../../../../src/engine/io/safetensors.js';

const dir = fixture('models', 'ast', 'features');

test('tone.wav gives ASTFeatureExtractor\'s input_values within 1e-3', { skip: SKIP_NO_SHARED }, () => {
  const wav = readWav(`${dir}/tone.wav`);
  assert.deepEqual([wav.sampleRate, wav.channels, wav.bitsPerSample, wav.samples.length], [16000, 1, 16, 16000]);
  const spec = audioSpec({}, dir);
  assert.deepEqual(spec, { sampleRate: 16000, melBins: 128, maxLength: 1024, normalize: true, mean: -4.2677393, std: 4.5689974 });
  const ours = toInputValues(wav.samples, spec);
  const ref = openSafetensors(`${dir}/features.safetensors`).read('input_values');
  assert.equal(ours.length, ref.length);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i] - ref[i]));
  assert.ok(worst < 1e-3, `worst |difference| ${worst}`);
  // 98 frames of signal, the rest zero-padded before normalisation
  assert.ok(Math.abs(ours[1023 * 128] - 4.2677393 / (2 * 4.5689974)) < 1e-6);
});

/** A WAV file's bytes: format, channels, rate, bits, interleaved frames. */
function wavBytes(format: number, channels: number, rate: number, bits: number, frames: number[][]): Uint8Array {
  const width = bits / 8;
  const data = frames.length * channels * width;
  const b = new DataView(new ArrayBuffer(44 + data));
  const tag = (o: number, s: string) => [...s].forEach((ch, i) => b.setUint8(o + i, ch.charCodeAt(0)));
  tag(0, 'RIFF'); b.setUint32(4, 36 + data, true); tag(8, 'WAVE'); tag(12, 'fmt '); b.setUint32(16, 16, true);
  b.setUint16(20, format, true); b.setUint16(22, channels, true); b.setUint32(24, rate, true); b.setUint32(28, rate * channels * width, true);
  b.setUint16(32, channels * width, true); b.setUint16(34, bits, true); tag(36, 'data'); b.setUint32(40, data, true);
  frames.forEach((f, i) => f.forEach((v, c) => {
    const o = 44 + (i * channels + c) * width;
    if (format === 3) b.setFloat32(o, v, true);
    else if (bits === 16) b.setInt16(o, Math.round(v * 32768), true);
    else if (bits === 8) b.setUint8(o, Math.round(v * 128 + 128));
  }));
  return new Uint8Array(b.buffer);
}

test('WAV: stereo is mixed down by the mean, float and 8-bit samples read, malformed files are typed errors', () => {
  const stereo = decodeWav(wavBytes(1, 2, 8000, 16, [[0.5, -0.25], [0.25, 0.25]]));
  assert.deepEqual([stereo.channels, stereo.sampleRate], [2, 8000]);
  assert.deepEqual(Array.from(stereo.samples), [0.125, 0.25]);
  assert.deepEqual(Array.from(decodeWav(wavBytes(3, 1, 16000, 32, [[0.1], [-0.7]])).samples).map((v) => +v.toFixed(6)), [0.1, -0.7]);
  assert.deepEqual(Array.from(decodeWav(wavBytes(1, 1, 16000, 8, [[0.5], [-0.5]])).samples), [0.5, -0.5]);
  assert.throws(() => decodeWav(new Uint8Array(20), 'x.wav'), /not a readable WAV file: no RIFF\/WAVE header/);
  assert.throws(() => decodeWav(wavBytes(2, 1, 16000, 16, [[0]]), 'adpcm.wav'), /format 2 with 16-bit samples is not supported/);
  assert.throws(() => readWav('/nonexistent/a.wav'), /cannot read the audio file/);
});

test('resampling keeps a tone below both Nyquist rates and its length ratio', () => {
  const from = 44100;
  const to = 16000;
  const n = 4410;
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / from));
  const y = resample(x, from, to);
  assert.equal(y.length, Math.ceil((n * to) / from));
  let err = 0;
  for (let i = 50; i < y.length - 50; i++) err = Math.max(err, Math.abs(y[i] - Math.sin((2 * Math.PI * 440 * i) / to)));
  assert.ok(err < 0.02, `max error ${err}`);
  assert.equal(resample(x, 16000, 16000), x);
});

test('Kaldi mel scale and triangular filters in mel space: 256 bins used, the top bin empty, peaks of 1', () => {
  assert.ok(Math.abs(hzToMel(700) - 1127 * Math.log(2)) < 1e-9);
  const f = melFilters(16000, 128, 512, 20);
  assert.equal(f.length, 257);
  assert.ok(f[256].every((v) => v === 0));
  for (let j = 0; j < 128; j += 31) assert.ok(Math.max(...f.map((row) => row[j])) <= 1 + 1e-12);
  assert.ok(f[0].every((v) => v === 0), 'bin 0 (0 Hz) lies below the 20 Hz edge');
});
