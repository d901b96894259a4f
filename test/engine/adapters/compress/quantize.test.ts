// Low-bit quantisation against the precision-redundancy authors' code (test/fixtures/reference/
// binary_adapter: QLinear): the N(0,1) median codebooks for 1, 2 and 4 bits, the level of every
// entry, dump()'s bit packing byte for byte, load()'s weights; and per-channel scales (ours).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, assertClose } from '../../../helpers/fixtures.js';
import { openSafetensors } from '../../../../src/engine/io/safetensors.js';
import { codebook } from '../../../../src/engine/adapters/compress/codebook.js';
import { quantizeTensor, dequantizeTensor, storedLevels } from '../../../../src/engine/adapters/compress/quantize.js';
import { packCodes, riceDecode, riceEncode, riceParameter, unpackCodes } from '../../../../src/engine/adapters/compress/bits.js';
import { openCompressed, writeCompressed } from '../../../../src/engine/adapters/compress/packed-file.js';

const file = openSafetensors(join(REPO, 'test', 'fixtures', 'reference', 'binary_adapter', 'tensors.safetensors'));
const W = file.read('qlinear.weight');

test('codebooks: the cell-median levels and thresholds of their QLinear for 1, 2, 4 bits', () => {
  for (const b of [1, 2, 4]) {
    assertClose(Float32Array.from(codebook(b).levels), Array.from(file.read(`bit${b}.code`)), `bit${b} levels`);
    assertClose(Float32Array.from(codebook(b).thresholds), Array.from(file.read(`bit${b}.boundaries`)), `bit${b} thresholds`, 1e-4, 1e-6);
  }
  assertClose([codebook(1).levels[1]], [0.6744897], '1 bit: ±Φ⁻¹(3/4), not Lloyd–Max ±0.798');
  const eight = codebook(8).levels;
  assert.equal(eight.length, 256);
  for (let k = 1; k < 256; k++) assert.ok(eight[k] > eight[k - 1], '8-bit levels strictly increase');
});

test('per-tensor quantisation: each entry\'s level, dump()\'s bytes, load()\'s weights', () => {
  for (const b of [1, 2, 4]) {
    const q = quantizeTensor(W, [12, 16], b, 'tensor');
    assertClose([q.mean[0], q.std[0]], [0.006911996752023697, 0.046546127647161484], `bit${b} mean/std`);
    const levels = Float32Array.from(q.codes, (c) => codebook(b).levels[c]);
    assertClose(levels, Array.from(file.read(`bit${b}.w_levels`)), `bit${b} levels of W`);
    assert.deepEqual(Array.from(packCodes(q.codes, b)), Array.from(file.readRaw(`bit${b}.packed_bytes`) as Uint8Array), `bit${b} packed bytes`);
    assertClose(dequantizeTensor(q, storedLevels(b), W.length), Array.from(file.read(`bit${b}.w_loaded`)), `bit${b} loaded weight`);
    assert.deepEqual(Array.from(unpackCodes(packCodes(q.codes, b), W.length, b)), Array.from(q.codes));
  }
});

test('per-channel scales (our extension): one mean/std per row, a smaller error than per tensor', () => {
  const rows = Float32Array.from(W, (v, i) => v * (1 + Math.floor(i / 16)));
  const err = (g: 'tensor' | 'channel') => {
    const q = quantizeTensor(rows, [12, 16], 2, g);
    assert.equal(q.mean.length, g === 'tensor' ? 1 : 12);
    const d = dequantizeTensor(q, storedLevels(2), rows.length);
    return d.reduce((s, v, i) => s + (v - rows[i]) ** 2, 0);
  };
  assert.ok(err('channel') < err('tensor'));
  const path = join(mkdtempSync(join(tmpdir(), 'peft-quant-')), 'q.safetensors');
  writeCompressed(path, [{ name: 'w', shape: [12, 16], data: rows, compress: true }], { method: 'quantize', bits: 2, granularity: 'channel' });
  const q = quantizeTensor(rows, [12, 16], 2, 'channel');
  assert.deepEqual(openCompressed(path).read('w'), dequantizeTensor(q, storedLevels(2), rows.length));
});

test('Rice-coded positions round-trip and beat a bitmap when sparse', () => {
  const mask = Uint8Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 23 === 0 ? 1 : 0));
  const kept = mask.reduce((a, b) => a + b, 0);
  const k = riceParameter(mask.length, kept);
  const code = riceEncode(mask, k);
  assert.deepEqual(riceDecode(code, mask.length, kept, k), mask);
  assert.ok(code.length < packCodes(mask, 1).length);
});
