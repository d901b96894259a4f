import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ShardedSafetensors, openSafetensorsModel, writeShardedSafetensors,
} from '../../../src/engine/io/safetensors-index.js';
import { SafetensorsFile, writeSafetensors, type NamedTensor } from '../../../src/engine/io/safetensors.js';
import { PeftError } from '../../../src/errors.js';

const TMP = mkdtempSync(join(tmpdir(), 'peft-shard-'));
after(() => rmSync(TMP, { recursive: true, force: true }));
const tmp = () => mkdtempSync(join(TMP, 'd-'));

function tensors(): NamedTensor[] {
  // five tensors of 400 bytes and one of 1200 bytes, in "state_dict" order.
  const t = (name: string, n: number, seed: number): NamedTensor => ({
    name, shape: [n], data: Float32Array.from({ length: n }, (_, i) => seed + i / 1000),
  });
  return [t('embed', 100, 1), t('layers.0.w', 100, 2), t('layers.0.b', 100, 3), t('big', 300, 4), t('layers.1.w', 100, 5), t('norm', 100, 6)];
}

test('sharded writer splits at maxShardBytes like transformers and writes a sorted index', () => {
  const dir = tmp();
  const files = writeShardedSafetensors(dir, tensors(), { maxShardBytes: 1600 });
  assert.deepEqual(files, [
    'model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors',
    'model.safetensors.index.json',
  ]);
  const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
  assert.deepEqual(index.metadata, { total_size: 3200 });
  assert.deepEqual(Object.keys(index.weight_map), ['big', 'embed', 'layers.0.b', 'layers.0.w', 'layers.1.w', 'norm']);
  assert.equal(index.weight_map.embed, 'model-00001-of-00003.safetensors');
  assert.equal(index.weight_map['layers.0.b'], 'model-00001-of-00003.safetensors');
  assert.equal(index.weight_map.big, 'model-00002-of-00003.safetensors'); // 1200 + 1200 > 1600
  assert.equal(index.weight_map['layers.1.w'], 'model-00002-of-00003.safetensors'); // 1200 + 400 ≤ 1600
  assert.equal(index.weight_map.norm, 'model-00003-of-00003.safetensors');
  assert.deepEqual(SafetensorsFile.open(join(dir, files[0])).metadata(), { format: 'pt' });
});

test('the sharded reader presents the union of shards with the single-file API', () => {
  const dir = tmp();
  writeShardedSafetensors(dir, tensors(), { maxShardBytes: 1600 });
  const st = openSafetensorsModel(dir);
  assert.ok(st instanceof ShardedSafetensors);
  assert.deepEqual([...st.names()].sort(), tensors().map((t) => t.name).sort());
  for (const t of tensors()) {
    assert.deepEqual(st.info(t.name).shape, [...t.shape]);
    assert.deepEqual(st.read(t.name), t.data);
    assert.ok(st.has(t.name));
  }
  assert.equal(st.metadata().total_size, '3200');
  assert.equal((st as ShardedSafetensors).shardPaths().length, 3);
  assert.throws(() => st.read('missing'), (e: unknown) => e instanceof PeftError && e.code === 'FORMAT' && /tensor missing/.test(e.where ?? ''));
});

test('one shard only: a plain model.safetensors and no index', () => {
  const dir = tmp();
  assert.deepEqual(writeShardedSafetensors(dir, tensors(), { maxShardBytes: 1e9 }), ['model.safetensors']);
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
  const st = openSafetensorsModel(dir);
  assert.ok(st instanceof SafetensorsFile);
  assert.equal(st.names().length, 6);
});

test('a missing shard is a FILE error naming it', () => {
  const dir = tmp();
  writeShardedSafetensors(dir, tensors(), { maxShardBytes: 1600 });
  rmSync(join(dir, 'model-00002-of-00003.safetensors'));
  assert.throws(() => openSafetensorsModel(dir), (e: unknown) => {
    assert.ok(e instanceof PeftError);
    assert.equal(e.code, 'FILE');
    assert.match(e.message, /shard model-00002-of-00003\.safetensors/);
    assert.equal(e.where, join(dir, 'model-00002-of-00003.safetensors'));
    return true;
  });
});

test('an index that lies about its shards, or names paths outside its directory, is refused', () => {
  const dir = tmp();
  writeShardedSafetensors(dir, tensors(), { maxShardBytes: 1600 });
  const indexPath = join(dir, 'model.safetensors.index.json');
  const index = JSON.parse(readFileSync(indexPath, 'utf8'));
  writeFileSync(indexPath, JSON.stringify({ ...index, weight_map: { ...index.weight_map, norm: 'model-00001-of-00003.safetensors' } }));
  assert.throws(() => openSafetensorsModel(dir), /puts tensor norm in model-00001-of-00003\.safetensors, which does not hold it/);
  writeFileSync(indexPath, JSON.stringify({ ...index, weight_map: { ...index.weight_map, norm: '../../etc/passwd' } }));
  assert.throws(() => openSafetensorsModel(dir), /not a file name in the index's directory/);
  writeFileSync(indexPath, '{"weight_map": ');
  assert.throws(() => openSafetensorsModel(dir), (e: unknown) => e instanceof PeftError && e.code === 'FORMAT' && e.where === indexPath);
  writeFileSync(indexPath, JSON.stringify({ metadata: {} }));
  assert.throws(() => openSafetensorsModel(dir), /no "weight_map"/);
});

test('a tensor in two shards is ambiguous', () => {
  const dir = tmp();
  const one = (v: number) => ({ shape: [1], data: Float32Array.from([v]) });
  writeSafetensors(join(dir, 's1.safetensors'), new Map([['a', one(1)], ['shared', one(2)]]));
  writeSafetensors(join(dir, 's2.safetensors'), new Map([['b', one(3)], ['shared', one(4)]]));
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: { a: 's1.safetensors', b: 's2.safetensors' } }));
  assert.throws(() => openSafetensorsModel(dir), /tensor shared is in both s1\.safetensors and s2\.safetensors/);
});

test('a directory without weights names what was looked for', () => {
  const dir = tmp();
  assert.throws(() => openSafetensorsModel(dir), (e: unknown) => e instanceof PeftError && e.code === 'FILE' && e.where === dir
    && /model\.safetensors and model\.safetensors\.index\.json/.test(e.message));
});
