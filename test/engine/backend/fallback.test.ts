// Without the addon, `native` is unavailable and the default falls back to wasm, saying so once.
import { test } from 'node:test';
import assert from 'node:assert/strict';

process.env.PEFT_NATIVE_ADDON = '/nonexistent/peft_native.node';
const { initBackend } = await import('../../../src/engine/backend/index.js');

test('missing addon: default is wasm and the note says why native was skipped', async () => {
  const info = await initBackend();
  if (info.name.startsWith('tensorflow')) return; // tfjs-node installed here: no fallback to see
  assert.equal(info.name, 'wasm');
  assert.match(info.fallbackNote ?? '', /^native backend unavailable \(OpenBLAS addon not built: .*\); using wasm$/);
  const again = await initBackend();
  assert.equal(again, info, 'chosen once, remembered');
});

test('missing addon: forcing native is a BACKEND error', async () => {
  await assert.rejects(initBackend('native'), /backend "native" is unavailable: OpenBLAS addon not built/);
});
