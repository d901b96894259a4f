// The committed assets (used by the quickstart on a fresh clone, without ../shared) are
// complete, match their PROVENANCE.md checksums, and load with our readers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openSafetensorsModel } from '../../../src/engine/io/safetensors-index.js';
import { loadTokenizer } from '../../../src/engine/tokenizers/index.js';

const ASSETS = resolve(import.meta.dirname, '../../../assets');
const MODEL = join(ASSETS, 'models/stories260K');
const DATA = join(ASSETS, 'data/tinyshakespeare');

const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** `| file | … | sha256 |` rows of a PROVENANCE.md "Files" table → file → sha256. */
function provenanceHashes(dir: string): Map<string, string> {
  const text = readFileSync(join(dir, 'PROVENANCE.md'), 'utf8');
  const files = text.slice(text.lastIndexOf('## Files'));
  const out = new Map<string, string>();
  for (const m of files.matchAll(/^\| ([\w.]+) \|.*`([0-9a-f]{64})` \|$/gm)) out.set(m[1], m[2]);
  return out;
}

test('assets/models/stories260K is a complete HF LLaMA directory whose files match PROVENANCE.md', () => {
  const files = readdirSync(MODEL).sort();
  assert.deepEqual(files, ['PROVENANCE.md', 'config.json', 'generation_config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);
  const hashes = provenanceHashes(MODEL);
  assert.equal(hashes.size, 6);
  for (const [f, h] of hashes) assert.equal(sha256(join(MODEL, f)), h, f);
  const prov = readFileSync(join(MODEL, 'PROVENANCE.md'), 'utf8');
  assert.match(prov, /MIT/);
  assert.match(prov, /b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696/);
  assert.match(prov, /peft convert llama2c/);
});

test('the model has 260,032 parameters and the config the quickstart expects', () => {
  const st = openSafetensorsModel(MODEL);
  let n = 0;
  for (const name of st.names()) n += st.read(name).length;
  assert.equal(n, 260032);
  const c = JSON.parse(readFileSync(join(MODEL, 'config.json'), 'utf8'));
  assert.equal(c.model_type, 'llama');
  assert.equal(c.tie_word_embeddings, true);
});

test('the tokenizer loads from the assets alone', async () => {
  const t = await loadTokenizer(MODEL);
  assert.deepEqual(t.encode('Once upon a time'), [1, 403, 407, 261, 378]);
  assert.equal(t.decode([1, 403, 407, 261, 378, 432], { skipSpecialTokens: true }), 'Once upon a time,');
});

test('assets/data/tinyshakespeare holds train.txt and val.txt matching PROVENANCE.md', () => {
  assert.deepEqual(readdirSync(DATA).sort(), ['PROVENANCE.md', 'train.txt', 'val.txt']);
  const hashes = provenanceHashes(DATA);
  assert.deepEqual([...hashes.keys()].sort(), ['train.txt', 'val.txt']);
  for (const [f, h] of hashes) assert.equal(sha256(join(DATA, f)), h, f);
  assert.equal(readFileSync(join(DATA, 'train.txt'), 'utf8').length, 948084);
  assert.equal(readFileSync(join(DATA, 'val.txt'), 'utf8').length, 55770);
});

test('assets/README.md lists both', () => {
  const readme = readFileSync(join(ASSETS, 'README.md'), 'utf8');
  assert.match(readme, /models\/stories260K/);
  assert.match(readme, /data\/tinyshakespeare/);
});
