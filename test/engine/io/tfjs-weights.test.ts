// A layers-model's weights as tfjs decodes them: groups of shards concatenated, entries end to end
// in manifest order, uint8/uint16 affine quantization (q·scale + min) and float16 dequantized to
// float32, '/' in names read as '.'; missing shards and short shards are typed errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LayersModelWeights } from '../../../src/engine/io/tfjs-weights.js';
import { f32ToF16 } from '../../../src/engine/io/safetensors.js';

test('float32, uint8, uint16 and float16 entries across two shards of one group', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-tfjs-w-'));
  const f32 = Buffer.from(new Float32Array([1.5, -2]).buffer);
  const u8 = Buffer.from([0, 10, 255]);
  const u16 = Buffer.from(new Uint16Array([0, 1000]).buffer);
  const f16 = Buffer.from(f32ToF16(new Float32Array([0.5, -3])).buffer);
  const all = Buffer.concat([f32, u8, u16, f16]);
  writeFileSync(join(dir, 'a.bin'), all.subarray(0, 5));
  writeFileSync(join(dir, 'b.bin'), all.subarray(5));
  const w = new LayersModelWeights(dir, [{
    paths: ['a.bin', 'b.bin'], weights: [
      { name: 'dense/kernel', shape: [2], dtype: 'float32' },
      { name: 'conv/kernel', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', min: -1, scale: 0.01 } },
      { name: 'bn/gamma', shape: [2], dtype: 'float32', quantization: { dtype: 'uint16', min: 2, scale: 0.001 } },
      { name: 'bn/beta', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } },
    ],
  }]);
  assert.deepEqual(w.names(), ['dense.kernel', 'conv.kernel', 'bn.gamma', 'bn.beta']);
  assert.deepEqual(Array.from(w.read('dense.kernel')), [1.5, -2]);
  assert.deepEqual(Array.from(w.read('conv.kernel'), (v) => +v.toFixed(5)), [-1, -0.9, 1.55]);
  assert.deepEqual(Array.from(w.read('bn.gamma'), (v) => +v.toFixed(5)), [2, 3]);
  assert.deepEqual(Array.from(w.read('bn.beta')), [0.5, -3]);
  assert.deepEqual(w.info('conv.kernel').shape, [3]);
});

test('a missing or short shard is a typed error naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-tfjs-w-'));
  const w = new LayersModelWeights(dir, [{ paths: ['gone.bin'], weights: [{ name: 'x', shape: [4], dtype: 'float32' }] }]);
  assert.throws(() => w.read('x'), /weight shard gone\.bin not found/);
  writeFileSync(join(dir, 'short.bin'), Buffer.alloc(8));
  const s = new LayersModelWeights(dir, [{ paths: ['short.bin'], weights: [{ name: 'y', shape: [4], dtype: 'float32' }] }]);
  assert.throws(() => s.read('y'), /the shards hold 8 bytes, the manifest needs 16/);
  assert.throws(() => new LayersModelWeights(dir, [{ paths: ['short.bin'], weights: [{ name: 'z', shape: [1], dtype: 'complex64' }] }]), /unsupported dtype complex64/);
});
