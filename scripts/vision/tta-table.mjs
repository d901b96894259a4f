#!/usr/bin/env node
// The test-time adaptation experiment of docs/tta.md, rebuilt end to end:
//  1. the source classifiers — a small ResNet trained from scratch on UCI optdigits
//     (configs/vision/digits-resnet.yaml), MobileNetV2 with a new head trained on it
//     (configs/vision/digits-mobilenetv2-head.yaml), and with LoRA as well (…-lora.yaml) —
//     trained unless DIR/runs holds them (scripts/vision/peft-table.mjs trains the MobileNets);
//  2. the shifted test sets, written to DIR/tta-data: MNIST (2,000 images: another writer
//     population, scanner and preprocessing), MNIST long-tailed (a label shift on top: class c
//     kept with probability 20^(−c/9)), and the optdigits validation split (the source domain)
//     clean, with Gaussian noise (σ = 0.3) and with Gaussian blur (σ = 1.2 px at 32×32);
//  3. `peft adapt-test` for every method, mode and shift; figures in bench/tta-results.json and
//     the table of docs/tta.md (between its markers).
// Usage (after `npm run build`): node scripts/vision/tta-table.mjs [--work DIR] [--backend B]
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import os from 'node:os';
import { SplitSelector } from '../../dist/engine/data/split.js';

const argv = process.argv.slice(2);
const take = (flag) => {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv.splice(i, 2)[1] : undefined;
};
const backend = take('--backend');
const work = take('--work') ?? join(os.tmpdir(), 'peft-vision');
const data = join(work, 'tta-data');
mkdirSync(data, { recursive: true });
const backendArgs = backend ? ['--backend', backend] : [];

function peft(args) {
  const r = spawnSync(process.execPath, ['bin/peft.js', ...args, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    throw new Error(`peft ${args.join(' ')} failed (${r.status})`);
  }
  return JSON.parse(r.stdout);
}

/** The latest run of a recipe name under DIR/runs, training it first when there is none. */
function runOf(recipe, name) {
  const dir = join(work, 'runs', name);
  const latest = () => (existsSync(dir) ? readdirSync(dir).filter((d) => existsSync(join(dir, d, 'adapter', 'adapter_config.json'))).sort().pop() : undefined);
  if (!latest()) {
    process.stderr.write(`training ${recipe} ...\n`);
    peft(['train', recipe, '--output', join(work, 'runs'), ...backendArgs]);
  }
  return join(dir, latest());
}

/** mulberry32: the experiment's seeded draws. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function writeJsonl(file, rows) {
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

/** The optdigits validation rows exactly as the recipes split them (seed 0, the tail 10%). */
function optdigitsValidation() {
  const lines = readFileSync('assets/data/digits/optdigits.tra', 'utf8').split('\n').filter((l) => l.trim());
  const sel = new SplitSelector({ of: 'train', fraction: 0.1, part: 'tail' }, lines.length, 0);
  return lines.filter(() => sel.accept()).map((l) => {
    const v = l.split(',').map(Number);
    return { image: v.slice(0, 64).map((x) => x / 16), label: v[64] };
  });
}

/** Bilinear resize of a square grey image (half-pixel centres, as the pipeline resizes). */
function resize(src, h, n) {
  const out = new Array(n * n);
  const s = h / n;
  for (let y = 0; y < n; y++) {
    const fy = Math.min(Math.max((y + 0.5) * s - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const dy = fy - y0;
    for (let x = 0; x < n; x++) {
      const fx = Math.min(Math.max((x + 0.5) * s - 0.5, 0), h - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, h - 1);
      const dx = fx - x0;
      const top = src[y0 * h + x0] * (1 - dx) + src[y0 * h + x1] * dx;
      const bottom = src[y1 * h + x0] * (1 - dx) + src[y1 * h + x1] * dx;
      out[y * n + x] = top * (1 - dy) + bottom * dy;
    }
  }
  return out;
}

function blur(img, n, sigma) {
  const r = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const z = k.reduce((a, b) => a + b, 0);
  const pass = (src, horizontal) => src.map((_, i) => {
    const y = Math.floor(i / n);
    const x = i % n;
    let acc = 0;
    for (let t = -r; t <= r; t++) {
      const xx = horizontal ? Math.min(n - 1, Math.max(0, x + t)) : x;
      const yy = horizontal ? y : Math.min(n - 1, Math.max(0, y + t));
      acc += src[yy * n + xx] * k[t + r];
    }
    return acc / z;
  });
  return pass(pass(img, true), false);
}

function gaussian(next) {
  return Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
}

const round = (v) => Math.round(v * 1000) / 1000;

function buildShifts() {
  const val = optdigitsValidation();
  const noiseRng = rng(7);
  const at32 = val.map((r) => ({ image: resize(r.image, 8, 32), label: r.label }));
  const files = {
    'optdigits-val': writeJsonl(join(data, 'optdigits-val.jsonl'), val.map((r) => ({ image: r.image.map(round), shape: [8, 8], label: r.label }))),
    'optdigits-val-32': writeJsonl(join(data, 'optdigits-val-32.jsonl'), at32.map((r) => ({ image: r.image.map(round), shape: [32, 32], label: r.label }))),
    'optdigits-noise': writeJsonl(join(data, 'optdigits-noise.jsonl'), at32.map((r) => ({
      image: r.image.map((v) => round(Math.min(1, Math.max(0, v + 0.3 * gaussian(noiseRng))))), shape: [32, 32], label: r.label,
    }))),
    'optdigits-blur': writeJsonl(join(data, 'optdigits-blur.jsonl'), at32.map((r) => ({ image: blur(r.image, 32, 1.2).map(round), shape: [32, 32], label: r.label }))),
    mnist: 'assets/data/digits/mnist-2000-images-idx3-ubyte.gz',
  };
  // MNIST long-tailed: class c kept with probability 20^(−c/9) (imbalance ratio 20)
  const images = gunzipSync(readFileSync('assets/data/digits/mnist-2000-images-idx3-ubyte.gz'));
  const labels = gunzipSync(readFileSync('assets/data/digits/mnist-2000-labels-idx1-ubyte.gz'));
  const keep = rng(11);
  const lt = [];
  for (let i = 0; i < 2000; i++) {
    const y = labels[8 + i];
    if (keep() < 20 ** (-y / 9)) lt.push({ image: Array.from(images.subarray(16 + i * 784, 16 + (i + 1) * 784)), shape: [28, 28], label: y });
  }
  files['mnist-lt'] = writeJsonl(join(data, 'mnist-lt.jsonl'), lt);
  return files;
}

const METHODS = [
  ['none', 'online', []], ['bn-stats', 'online', []], ['bn-stats', 'offline', []], ['alpha-bn', 'online', []],
  ['tent', 'online', []], ['tent', 'offline', []], ['lame', 'online', []],
  ['label-shift', 'online', []], ['label-shift', 'online', ['--base', 'bn-stats']],
];
const label = ([m, mode, extra]) => `${m}${extra.length ? ` + ${extra[1]}` : ''} (${mode})`;

const files = buildShifts();
const models = {
  resnet: { run: runOf('configs/vision/digits-resnet.yaml', 'digits-resnet'), shifts: ['optdigits-val', 'mnist', 'mnist-lt'] },
  mobilenet: { run: runOf('configs/vision/digits-mobilenetv2-head.yaml', 'digits-mobilenetv2-head'), shifts: ['optdigits-val-32', 'optdigits-noise', 'optdigits-blur'] },
  'mobilenet-lora': { run: runOf('configs/vision/digits-mobilenetv2-lora.yaml', 'digits-mobilenetv2-lora'), shifts: ['optdigits-val-32', 'optdigits-noise', 'optdigits-blur'] },
};
const TITLES = { resnet: 'ResNet (scratch)', mobilenet: 'MobileNetV2 (head only)', 'mobilenet-lora': 'MobileNetV2 (LoRA + head)' };
const resultsFile = 'bench/tta-results.json';
const results = { date: new Date().toISOString().slice(0, 10), cpu: os.cpus()[0]?.model, batch_size: 64, cells: {} };
for (const [model, { run, shifts }] of Object.entries(models)) {
  for (const shift of shifts) {
    for (const m of METHODS) {
      process.stderr.write(`${model} ${shift} ${label(m)} ...\n`);
      const out = join(work, 'tta-out', model, shift, `${m[0]}-${m[1]}${m[2].length ? `-${m[2][1]}` : ''}.jsonl`);
      const r = peft(['adapt-test', run, '--data', files[shift], '--method', m[0], '--mode', m[1], ...m[2], '--batch-size', '64', '--output', out, ...backendArgs]);
      results.cells[`${model}|${shift}|${label(m)}`] = { model, shift, method: label(m), examples: r.examples, before: r.before, after: r.after, notes: r.notes };
      writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
    }
  }
}

const pct = (v) => (v === undefined ? '–' : (100 * v).toFixed(1));
const lines = [];
for (const [model, { shifts }] of Object.entries(models)) {
  lines.push('', `| ${TITLES[model]}: accuracy % | ${shifts.join(' | ')} |`, `| --- |${shifts.map(() => ' --- |').join('')}`);
  for (const m of METHODS) {
    const cells = shifts.map((s) => {
      const c = results.cells[`${model}|${s}|${label(m)}`];
      if (!c) return '–';
      const d = 100 * (c.after.accuracy - c.before.accuracy);
      return m[0] === 'none' ? pct(c.after.accuracy) : `${pct(c.after.accuracy)} (${d >= 0 ? '+' : ''}${d.toFixed(1)})`;
    });
    lines.push(`| ${label(m)} | ${cells.join(' | ')} |`);
  }
}
const table = lines.join('\n').trim();
console.log(table);
const doc = 'docs/tta.md';
const begin = '<!-- tta-table:begin -->';
const end = '<!-- tta-table:end -->';
if (existsSync(doc)) {
  const text = readFileSync(doc, 'utf8');
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a >= 0 && b > a) writeFileSync(doc, `${text.slice(0, a + begin.length)}\n${table}\n${text.slice(b)}`);
}
