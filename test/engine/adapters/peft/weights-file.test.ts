// Where an adapter's tensors come from: a pickled adapter_model.bin is refused with the reason and
// the conversion; a directory without weights says what it expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAdapterWeights } from '../../../../src/engine/adapters/peft/weights-file.js';
import { PeftError } from '../../../../src/errors.js';

test('adapter_model.bin is refused as a pickle peft will not execute, with how to convert it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-pickle-'));
  writeFileSync(join(dir, 'adapter_config.json'), '{"peft_type": "LORA"}');
  writeFileSync(join(dir, 'adapter_model.bin'), Buffer.from([0x80, 0x02, 0x7d, 0x71]));
  assert.throws(() => openAdapterWeights(dir), (e: unknown) => {
    assert.ok(e instanceof PeftError);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /adapter_model\.bin is a PyTorch pickle file, which peft will not execute/);
    assert.match(e.hint!, /save_file\(torch\.load\('adapter_model\.bin', map_location='cpu', weights_only=True\), 'adapter_model\.safetensors'\)/);
    return true;
  });
  const empty = mkdtempSync(join(tmpdir(), 'peft-noweights-'));
  assert.throws(() => openAdapterWeights(empty), /no adapter_model\.safetensors/);
});
