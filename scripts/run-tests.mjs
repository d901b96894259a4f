#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's own test runner through tsx.
// Node 20's `--test` takes no globs, so the files are listed here.
// Usage: node scripts/run-tests.mjs [substring ...]  (only files whose path contains one)
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk('test').filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(2);
}
const args = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files];
// Two test files run at once on a 2-core machine: one BLAS/OpenMP thread each, or their thread
// pools oversubscribe the cores and spin against each other (orders of magnitude slower).
const env = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', ...process.env };
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
let status = r.status ?? 1;

// The whole suite (no filter) also runs the numerical parity tests — every backbone, method,
// adapter format, merge and generation against the reference fixtures — on each other backend
// that loads here (wasm always; native when its addon was built), as on the default cpu.
const PARITY = ['test/engine/backbones/', 'test/engine/methods/', 'test/engine/adapters/', 'test/engine/merge/', 'test/engine/generate/'];
if (filters.length === 0) {
  const backends = ['wasm'];
  if (existsSync('build/Release/peft_native.node')) backends.push('native');
  const parity = files.filter((f) => PARITY.some((p) => f.startsWith(p)));
  for (const backend of backends) {
    console.log(`\n# parity tests on the ${backend} backend (${parity.length} files)`);
    const rb = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=dot', ...parity], {
      stdio: 'inherit', env: { ...env, PEFT_TEST_BACKEND: backend },
    });
    if (rb.status !== 0) status = rb.status ?? 1;
  }
}
process.exit(status);
