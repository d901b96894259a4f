// Backend selection: order, forced backends, errors, the fallback note.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_ORDER, initBackend, listBackends } from '../../../src/engine/backend/index.js';
import { PeftError } from '../../../src/errors.js';

test('order is tensorflow-gpu, tensorflow, native, wasm, cpu', () => {
  assert.deepEqual([...BACKEND_ORDER], ['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu']);
});

test('listBackends reports every backend, with a reason for the unavailable ones', async () => {
  const list = await listBackends();
  assert.deepEqual(list.map((s) => s.name), [...BACKEND_ORDER]);
  for (const s of list) {
    if (s.available) assert.ok((s.threads ?? 0) >= 1, `${s.name} threads`);
    else assert.ok(s.reason && s.reason.length > 0, `${s.name} has a reason`);
  }
  assert.ok(list.find((s) => s.name === 'wasm')?.available, 'wasm always loads');
  assert.ok(list.find((s) => s.name === 'cpu')?.available, 'cpu always loads');
});

test('default choice is the first available in order, and the note names the skipped ones', async () => {
  const list = await listBackends();
  const first = list.find((s) => s.available)!;
  const info = await initBackend();
  assert.equal(info.name, first.name);
  assert.equal(tf.getBackend(), info.name.startsWith('tensorflow') ? 'tensorflow' : info.name);
  const skipped = list.slice(0, list.indexOf(first)).filter((s) => !s.notInstalled);
  if (skipped.length === 0) assert.equal(info.fallbackNote, null);
  else {
    for (const s of skipped) assert.match(info.fallbackNote ?? '', new RegExp(`${s.name} backend unavailable`));
    assert.match(info.fallbackNote ?? '', new RegExp(`using ${info.name}$`));
  }
});

test('a forced backend is used, without a note', async () => {
  for (const name of ['cpu', 'wasm']) {
    const info = await initBackend(name);
    assert.deepEqual([info.name, tf.getBackend(), info.fallbackNote], [name, name, null]);
    assert.ok(info.threads >= 1);
  }
});

test('an unknown backend is a BACKEND error listing the available ones', async () => {
  await assert.rejects(initBackend('tpu'), (e: unknown) => {
    assert.ok(e instanceof PeftError);
    assert.equal(e.code, 'BACKEND');
    assert.match(e.hint ?? '', /wasm/);
    assert.match(e.hint ?? '', /cpu/);
    return true;
  });
});

test('an unavailable forced backend is a BACKEND error with the reason', async () => {
  const missing = (await listBackends()).find((s) => !s.available);
  if (!missing) return; // everything loads on this machine
  await assert.rejects(initBackend(missing.name), (e: unknown) => {
    assert.ok(e instanceof PeftError);
    assert.equal(e.code, 'BACKEND');
    assert.ok(e.message.includes(missing.reason!));
    assert.match(e.hint ?? '', /available here: .*cpu/);
    return true;
  });
});
