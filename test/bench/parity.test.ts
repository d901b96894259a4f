// The bench model against PyTorch itself: `torch_lora.py --dump` (regenerated here, 21 MB, never
// committed) gives the reference's weights, batch, logits and the losses of 3 AdamW steps; the
// bench model loads them by name and must reproduce them on every backend that loads. Skipped,
// saying why, when /usr/bin/python3 cannot import torch (CI: the bench's comparison runs by hand).
// Pure-JS cpu is left out: one step of the full-size model takes it about half a minute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, listBackends } from '../../src/engine/backend/index.js';
import { DEBIAN_PYTHON, defaultTorchScript, runTorchDump, torchStatus } from '../../bench/harness/torch.js';
import { readTorchDump } from '../../bench/harness/dump.js';
import { checkParity } from '../../bench/harness/parity.js';

const status = torchStatus();
const skip = status.ok ? false : `PyTorch reference unavailable: ${status.reason}`;

test('the bench model reproduces torch_lora.py: logits, loss and 3 AdamW steps, on each backend', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-bench-dump-'));
  try {
    runTorchDump({ python: DEBIAN_PYTHON, script: defaultTorchScript(), threads: 2 }, dir);
    const dump = readTorchDump(dir);
    const backends = (await listBackends()).filter((s) => s.available && s.name !== 'cpu').map((s) => s.name);
    assert.ok(backends.length > 0, 'no backend besides cpu loads');
    for (const b of backends) {
      await initBackend(b);
      const r = checkParity(dump, 3);
      assert.equal(r.losses.length, 4, b);
      // float32 sums in another order: agreement to ~1e-7 is typical, 1e-5 relative is the bound
      assert.ok(r.maxRelDiff < 1e-5, `${b}: losses differ by ${r.maxRelDiff.toExponential(2)} (relative): ${JSON.stringify(r)}`);
      assert.ok(r.logitsMaxAbsDiff < 1e-5, `${b}: logits differ by ${r.logitsMaxAbsDiff.toExponential(2)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
