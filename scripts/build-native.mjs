#!/usr/bin/env node
// Builds the OpenBLAS N-API addon (native/*.c -> build/Release/peft_native.node) behind the
// `native` backend. Run by `npm ci` / `npm install` (package.json "install") and by
// `npm run build:native`.
//
// It must never fail an install: when a compiler, Node's headers, OpenBLAS (Debian:
// `apt-get install libopenblas-dev`, better `libopenblas-openmp-dev`) or node-gyp is missing,
// or the build or a smoke test fails, it prints ONE line and exits 0; peft then runs on wasm.
//
//   node scripts/build-native.mjs               build (node-gyp; plain cc if node-gyp is absent)
//   node scripts/build-native.mjs --gyp <what>  print a value for binding.gyp (include|libs|ldflags)
//   PEFT_SKIP_NATIVE=1                          skip the build
//   PEFT_OPENBLAS_LIB=/path/libopenblas.so.0    use this OpenBLAS (with PEFT_OPENBLAS_INCLUDE)
import { existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = ['peft_native.c', 'gemm.c', 'binary.c', 'unary.c', 'reduce.c', 'softmax.c', 'transpose.c', 'gather.c', 'select.c', 'fused.c', 'tile.c', 'slice_pad.c', 'rms_norm.c', 'swiglu.c', 'attention.c', 'lora.c', 'adam.c'];
const OUT = join(root, 'build', 'Release', 'peft_native.node');

/** Multiarch directory names to look in (x86_64-linux-gnu, aarch64-linux-gnu, …). */
function multiarchDirs() {
  const found = new Set();
  const r = spawnSync(process.env.CC || 'cc', ['-print-multiarch'], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout.trim()) found.add(r.stdout.trim());
  found.add(`${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`);
  return [...found];
}

function isOpenblasHeader(path) {
  try {
    return existsSync(path) && readFileSync(path, 'utf8').includes('openblas_get_num_threads');
  } catch {
    return false;
  }
}

/**
 * Finds OpenBLAS: { include, lib, variant }. Prefers the OpenMP build (one thread pool shared
 * with the addon's own OpenMP loops), then pthreads, then whatever `libopenblas.so` is.
 * `lib` is a full path linked directly, and its directory goes into the rpath, so Debian's
 * alternatives (which may point libopenblas.so.0 at the pthread build) do not swap it.
 */
function findOpenblas() {
  if (process.env.PEFT_OPENBLAS_LIB) {
    const include = process.env.PEFT_OPENBLAS_INCLUDE || '';
    if (existsSync(process.env.PEFT_OPENBLAS_LIB) && isOpenblasHeader(join(include, 'cblas.h'))) {
      return { include, lib: process.env.PEFT_OPENBLAS_LIB, variant: 'given' };
    }
    return null;
  }
  const headers = [];
  const libs = [];
  for (const ma of multiarchDirs()) {
    for (const v of ['openmp', 'pthread', 'serial']) {
      headers.push({ dir: `/usr/include/${ma}/openblas-${v}`, variant: v });
      for (const name of ['libopenblas.so.0', 'libopenblas.so']) {
        libs.push({ path: `/usr/lib/${ma}/openblas-${v}/${name}`, variant: v });
      }
    }
    libs.push({ path: `/usr/lib/${ma}/libopenblas.so.0`, variant: 'default' });
    libs.push({ path: `/usr/lib/${ma}/libopenblas.so`, variant: 'default' });
  }
  for (const dir of ['/usr/include/openblas', '/usr/include', '/usr/local/include', '/opt/OpenBLAS/include']) {
    headers.push({ dir, variant: 'default' });
  }
  for (const dir of ['/usr/lib64', '/usr/lib', '/usr/local/lib', '/opt/OpenBLAS/lib']) {
    libs.push({ path: `${dir}/libopenblas.so.0`, variant: 'default' });
    libs.push({ path: `${dir}/libopenblas.so`, variant: 'default' });
  }
  const lib = libs.find((l) => existsSync(l.path));
  if (!lib) return null;
  // The header of the same variant if there is one, else any OpenBLAS cblas.h (same API).
  const header =
    headers.find((h) => h.variant === lib.variant && isOpenblasHeader(join(h.dir, 'cblas.h'))) ??
    headers.find((h) => isOpenblasHeader(join(h.dir, 'cblas.h')));
  if (!header) return null;
  return { include: header.dir, lib: lib.path, variant: lib.variant };
}

/** Directory holding Node's headers as node-gyp's --nodedir expects (<dir>/include/node). */
function findNodeDir() {
  const candidates = [resolve(dirname(process.execPath), '..'), '/usr', '/usr/local'];
  return candidates.find((d) => existsSync(join(d, 'include', 'node', 'node_api.h'))) ?? null;
}

function findNodeGyp() {
  const env = process.env.npm_config_node_gyp;
  if (env && existsSync(env)) return env;
  const npmDirs = [
    resolve(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm'),
    '/usr/lib/node_modules/npm',
    '/usr/local/lib/node_modules/npm',
    '/usr/share/nodejs/npm',
  ];
  for (const d of npmDirs) {
    const p = join(d, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(p)) return p;
  }
  return null;
}

function findCompiler() {
  for (const cc of [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean)) {
    const r = spawnSync(cc, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return cc;
  }
  return null;
}

/** Compiler flags shared by the node-gyp and the plain-cc builds. */
const CFLAGS = ['-O3', '-march=native', '-fopenmp', '-std=gnu11', '-fno-math-errno', '-Wall', '-Wno-unused-function'];

function gypValue(what) {
  const ob = findOpenblas();
  if (!ob) return '';
  if (what === 'include') return ob.include;
  if (what === 'libs') return [ob.lib, '-Wl,--no-as-needed', '-lmvec', '-Wl,--as-needed', '-lm'].join(' ');
  if (what === 'ldflags') return ['-fopenmp', `-Wl,-rpath,${dirname(ob.lib)}`].join(' ');
  if (what === 'cflags') return CFLAGS.join(' ');
  return '';
}

function say(line) {
  console.log(`peft: ${line}`);
}

function tail(r) {
  const text = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.trim().split('\n');
  const err = text.find((l) => /error|Error|not found|No such/.test(l)) ?? text[text.length - 1] ?? '';
  return err.trim().slice(0, 160);
}

function buildWithNodeGyp(nodeGyp, nodeDir) {
  const args = [nodeGyp, 'rebuild', '--release', '--loglevel=error'];
  if (nodeDir) args.push(`--nodedir=${nodeDir}`);
  return spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env } });
}

function buildWithCc(cc, nodeDir, ob) {
  mkdirSync(dirname(OUT), { recursive: true });
  const args = [
    ...CFLAGS, '-fPIC', '-shared', '-DNODE_GYP_MODULE_NAME=peft_native',
    `-I${join(nodeDir, 'include', 'node')}`, `-I${ob.include}`,
    ...SOURCES.map((s) => join(root, 'native', s)),
    '-o', OUT, ob.lib, '-Wl,--no-as-needed', '-lmvec', '-Wl,--as-needed', '-lm', '-fopenmp', `-Wl,-rpath,${dirname(ob.lib)}`,
  ];
  return spawnSync(cc, args, { cwd: root, encoding: 'utf8' });
}

/** Loads the built addon in a child process and multiplies two small matrices. */
function smokeTest() {
  const code = `
    const a = require(${JSON.stringify(OUT)});
    const A = new Float32Array([1, 2, 3, 4]), B = new Float32Array([5, 6, 7, 8]), C = new Float32Array(4);
    a.matmul(A, B, C, 2, 2, 2, 0, 0, new Int32Array([0]), new Int32Array([0]), null, 0, 0, 0);
    if (C.join() !== '19,22,43,50') throw new Error('wrong product ' + C.join());
    process.stdout.write(a.blasInfo());`;
  return spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
}

function main() {
  if (process.env.PEFT_SKIP_NATIVE) return say('native backend not built (PEFT_SKIP_NATIVE set); wasm will be used');
  if (process.platform !== 'linux') return say(`native backend not built (${process.platform}: only Linux is supported); wasm will be used`);
  const cc = findCompiler();
  if (!cc) return say('native backend not built (no C compiler: install gcc); wasm will be used');
  const ob = findOpenblas();
  if (!ob) return say('native backend not built (OpenBLAS not found: apt-get install libopenblas-openmp-dev, or libopenblas-dev); wasm will be used');
  const nodeDir = findNodeDir();
  const nodeGyp = findNodeGyp();
  if (!nodeGyp && !nodeDir) return say('native backend not built (neither node-gyp nor Node headers found); wasm will be used');
  rmSync(OUT, { force: true });
  let r = nodeGyp ? buildWithNodeGyp(nodeGyp, nodeDir) : null;
  let how = 'node-gyp';
  if ((!r || r.status !== 0 || !existsSync(OUT)) && nodeDir) {
    // node-gyp missing or failed (e.g. it tried to download headers offline): plain cc.
    const first = r;
    r = buildWithCc(cc, nodeDir, ob);
    how = 'cc';
    if (r.status !== 0 && first) r = first;
  }
  if (!r || r.status !== 0 || !existsSync(OUT)) {
    rmSync(OUT, { force: true });
    return say(`native backend not built (compile failed: ${r ? tail(r) : 'no build tool'}); wasm will be used`);
  }
  const smoke = smokeTest();
  if (smoke.status !== 0) {
    rmSync(OUT, { force: true });
    return say(`native backend not built (the addon does not load: ${tail(smoke)}); wasm will be used`);
  }
  say(`native backend built with ${how} (${smoke.stdout.trim()})`);
}

if (process.argv[2] === '--gyp') {
  process.stdout.write(gypValue(process.argv[3] ?? ''));
} else {
  try {
    main();
  } catch (e) {
    say(`native backend not built (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); wasm will be used`);
  }
  process.exit(0);
}
