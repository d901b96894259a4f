// ComPEFT against the authors' code (test/fixtures/reference/compeft: get_compressed_lora_weights
// on a 2-module LoRA): one top-k mask and one α = factor·std over the whole adapter, m + 1 kept,
// ternary values; the per-tensor application; and the packed file decoding to the same tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, assertClose, readJson } from '../../../helpers/fixtures.js';
import { openSafetensors } from '../../../../src/engine/io/safetensors.js';
import { compeft, compeftValues } from '../../../../src/engine/adapters/compress/compeft.js';
import { openCompressed, writeCompressed, type StoreTensor } from '../../../../src/engine/adapters/compress/packed-file.js';

const DIR = join(REPO, 'test', 'fixtures', 'reference', 'compeft');
const file = openSafetensors(join(DIR, 'tensors.safetensors'));
const kase = readJson(DIR, 'case.json');
const ORDER: string[] = kase.config.flat_order;
const tensors = (): StoreTensor[] => ORDER.map((n) => ({ name: n, shape: kase.config.lora_shapes[n], data: file.read(`input.${n}`), compress: true }));

test('global top-k mask, ternary signs and α = rf·std(τ) over the whole adapter', () => {
  const flat = file.read('input.flat');
  assertClose(flat, Array.from(tensors().flatMap((t) => Array.from(t.data))), 'flat order');
  for (const k of [20, 50]) {
    for (const rf of [1, 2.5]) {
      const r = compeft(flat, k / 100, rf);
      assert.deepEqual(Array.from(r.mask), Array.from(file.readInt32(`global.k${k}.mask`)), `mask k=${k}`);
      const signs = Array.from(r.mask, (m, i) => (m ? (r.negative[i] ? -1 : 1) : 0));
      assert.deepEqual(signs, Array.from(file.readInt32(`global.k${k}.signs`)));
      assert.equal(r.kept, kase.scalars[`global.k${k}.rf${rf}.kept`]);
      assertClose([r.alpha], [kase.scalars[`global.k${k}.rf${rf}.alpha`]], `alpha k=${k} rf=${rf}`);
      const values = compeftValues(r);
      let at = 0;
      for (const n of ORDER) {
        const size = file.info(`input.${n}`).shape.reduce((a, b) => a * b, 1);
        assertClose(values.slice(at, at + size), Array.from(file.read(`global.k${k}.rf${rf}.decompressed.${n}`)), `decompressed ${n}`);
        at += size;
      }
    }
  }
  assert.equal(kase.scalars['global.k20.rf1.kept'], 45, 'their top-k keeps m + 1 = 45 of 224 at 20%');
});

test('the packed file decodes to their output: whole-adapter scope and per-tensor scope', () => {
  for (const [scope, prefix] of [['adapter', 'global.k20.rf1.decompressed.'], ['tensor', 'pertensor.k20.rf1.']] as const) {
    const path = join(mkdtempSync(join(tmpdir(), 'peft-compeft-')), 'a.safetensors');
    const { kept } = writeCompressed(path, tensors(), { method: 'compeft', density: 0.2, alpha: 1, scope });
    if (scope === 'adapter') assert.equal(kept, 45);
    const src = openCompressed(path);
    for (const n of ORDER) {
      const want = scope === 'adapter' ? `${prefix}${n}` : `${prefix}${n}.decompressed`;
      assertClose(src.read(n), Array.from(file.read(want)), `${scope}: ${n}`);
      assert.deepEqual(src.info(n).shape, kase.config.lora_shapes[n]);
    }
  }
});

test('IA³ vectors compress as l − 1 and decode as 1 ± α; a float32 head is kept exactly', () => {
  const l = Float32Array.from({ length: 40 }, (_, i) => 1 + Math.sin(i) * 0.1);
  const head = Float32Array.from({ length: 6 }, (_, i) => i * 0.25 - 0.3);
  const path = join(mkdtempSync(join(tmpdir(), 'peft-compeft-ia3-')), 'a.safetensors');
  writeCompressed(path, [
    { name: 'x.ia3_l', shape: [40, 1], data: l, compress: true, init: 1 },
    { name: 'score.weight', shape: [2, 3], data: head, compress: false },
  ], { method: 'compeft', density: 0.25, alpha: 1, scope: 'adapter' });
  const src = openCompressed(path);
  assert.deepEqual(src.read('score.weight'), head);
  const got = src.read('x.ia3_l');
  const dropped = Array.from(got).filter((v) => v === 1).length;
  assert.equal(dropped, 40 - 11);
  for (const v of got) assert.ok(v === 1 || Math.abs(Math.abs(v - 1) - Math.abs(got.find((x) => x !== 1)! - 1)) < 1e-6);
});
