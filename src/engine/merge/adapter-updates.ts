// An adapter directory read as weight updates, without a backbone: per adapted module its LoRA
// factors (A [r, in], B [out, r], scale), or a dense ΔW [out, in] (LoHa, AdaLoRA), or IA³'s
// scaling vector; plus the task head it carries (modules_to_save). This is what merging several
// adapters works on. Adapters whose update is not a weight matrix (bottleneck and parallel
// adapters, prefixes, prompts) or depends on the base weights (DoRA) are refused with the reason.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { readAdapterConfig } from '../adapters/peft/load.js';
import { openAdapterWeights } from '../adapters/peft/weights-file.js';
import { rankAlphaOf } from '../adapters/peft/lora-patterns.js';
import { HEAD_TASK_TYPES } from '../adapters/peft/types.js';
import { isAdapterHubDir } from '../adapters/adapterhub/config.js';
import { RESOLVED_RECIPE } from '../train/run-dir.js';
import type { TensorSource } from '../io/safetensors.js';
import { PeftError } from '../../errors.js';

export interface LoraUpdate {
  kind: 'lora';
  A: Float32Array;
  B: Float32Array;
  r: number;
  inDim: number;
  outDim: number;
  /** α/r (α/√r with rsLoRA): ΔW = scale·B·A. */
  scale: number;
}

export interface DenseUpdate {
  kind: 'dense';
  /** ΔW [out, in], scale included. */
  delta: Float32Array;
  inDim: number;
  outDim: number;
  /** An upper bound of ΔW's rank (r for AdaLoRA, r² for LoHa). */
  rank: number;
  method: string;
}

export interface Ia3Update {
  kind: 'ia3';
  l: Float32Array;
  shape: number[];
  feedforward: boolean;
}

export type ModuleUpdate = LoraUpdate | DenseUpdate | Ia3Update;

export interface HeadTensor {
  shape: number[];
  data: Float32Array;
}

export interface AdapterUpdates {
  /** The adapter directory (a run directory's adapter/). */
  dir: string;
  /** How messages name it: the path given. */
  label: string;
  type: string;
  config: Record<string, unknown>;
  /** Module path (`model.layers.0.self_attn.q_proj`) → its update. */
  modules: Map<string, ModuleUpdate>;
  /** Task head tensors under their file names (`base_model.model.score.weight`). */
  head: Map<string, HeadTensor>;
  /** How the adapter is stored (plain, or compressed by peft compress). */
  storage: string;
  /** Tensors of the file that are neither the adapter's nor its head's (other adapters' leftovers). */
  unused: string[];
}

const PREFIX = 'base_model.model.';

/** A run directory's adapter, or the adapter directory itself. */
export function adapterDirOf(path: string): string {
  const p = resolve(path);
  return existsSync(join(p, RESOLVED_RECIPE)) ? join(p, 'adapter') : p;
}

function need(file: TensorSource, where: string, name: string): { data: Float32Array; shape: number[] } {
  if (!file.has(name)) throw new PeftError('FORMAT', 'tensor missing from the adapter', { where: `${where}: ${name}`, hint: 'the file does not match its adapter_config.json' });
  return { data: file.read(name), shape: file.info(name).shape };
}

function num(cfg: Record<string, unknown>, key: string, fallback: number): number {
  const v = cfg[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

/** Paths of the modules that carry `suffix` tensors, in name order. */
function modulePaths(file: TensorSource, re: RegExp): string[] {
  const out = new Set<string>();
  for (const n of file.names()) {
    const m = re.exec(n);
    if (m) out.add(m[1]);
  }
  return [...out].sort();
}

function matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      if (av === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += av * b[p * n + j];
    }
  }
  return out;
}

export function readAdapterUpdates(path: string): AdapterUpdates {
  const dir = adapterDirOf(path);
  const label = path;
  if (!existsSync(join(dir, 'adapter_config.json')) && existsSync(join(resolve(path), RESOLVED_RECIPE))) {
    throw new PeftError('FILE', 'the run has no adapter yet', { where: path, hint: 'train it first (or resume it)' });
  }
  if (existsSync(join(dir, 'adapter_config.json')) && isAdapterHubDir(dir)) {
    throw new PeftError('FORMAT', 'an AdapterHub adapter is a bottleneck/prefix module, not a weight update: it cannot be merged with others', {
      where: label, hint: 'combine adapters at inference instead: peft eval RECIPE --adapter A --adapter B [--weights …]',
    });
  }
  const config = readAdapterConfig(dir);
  const type = String(config.peft_type ?? '');
  const { source: file, path: weights, storage } = openAdapterWeights(dir);
  const modules = new Map<string, ModuleUpdate>();
  const used = new Set<string>();
  const take = (name: string) => {
    used.add(name);
    return need(file, weights, name);
  };
  if (type === 'LORA') {
    if (config.use_dora) {
      throw new PeftError('FORMAT', 'a DoRA adapter cannot be merged with others: its update rescales every output channel of W + ΔW by a learned magnitude, so it depends on the base weights and is not a ΔW', {
        where: label, hint: 'fold it into its backbone alone (peft merge RUN_DIR), or combine at inference (--adapter A --adapter B)',
      });
    }
    const defaults = { r: num(config, 'r', 8), alpha: num(config, 'lora_alpha', 8) };
    for (const p of modulePaths(file, /^base_model\.model\.(.+)\.lora_[AB]\.weight$/)) {
      const A = take(`${PREFIX}${p}.lora_A.weight`);
      const B = take(`${PREFIX}${p}.lora_B.weight`);
      const [r, inDim] = A.shape;
      const outDim = B.shape[0];
      if (A.shape.length !== 2 || B.shape.length !== 2 || B.shape[1] !== r) {
        throw new PeftError('SHAPE', `lora_A [${A.shape}] and lora_B [${B.shape}] do not make a rank-r update`, { where: `${weights}: ${PREFIX}${p}` });
      }
      const ra = rankAlphaOf(config, p, defaults);
      if (ra.r !== r) {
        throw new PeftError('SHAPE', `lora_A has rank ${r} but the config says r = ${ra.r} for this module`, { where: `${weights}: ${PREFIX}${p}.lora_A.weight`, hint: 'the file does not match its adapter_config.json' });
      }
      const scale = config.use_rslora ? ra.alpha / Math.sqrt(r) : ra.alpha / r;
      modules.set(p, { kind: 'lora', A: A.data, B: B.data, r, inDim, outDim, scale });
    }
  } else if (type === 'LOHA') {
    const r = num(config, 'r', 8);
    const scale = num(config, 'alpha', 8) / r;
    for (const p of modulePaths(file, /^base_model\.model\.(.+)\.hada_w1_a$/)) {
      const [w1a, w1b, w2a, w2b] = ['hada_w1_a', 'hada_w1_b', 'hada_w2_a', 'hada_w2_b'].map((n) => take(`${PREFIX}${p}.${n}`));
      const [outDim, rr] = w1a.shape;
      const inDim = w1b.shape[1];
      const x = matmul(w1a.data, w1b.data, outDim, rr, inDim);
      const y = matmul(w2a.data, w2b.data, outDim, rr, inDim);
      modules.set(p, { kind: 'dense', delta: Float32Array.from(x, (v, i) => v * y[i] * scale), inDim, outDim, rank: rr * rr, method: 'LoHa' });
    }
  } else if (type === 'ADALORA') {
    const scale = num(config, 'lora_alpha', 8) / (num(config, 'init_r', 12) + 1e-5);
    for (const p of modulePaths(file, /^base_model\.model\.(.+)\.lora_E$/)) {
      const A = take(`${PREFIX}${p}.lora_A`);
      const E = take(`${PREFIX}${p}.lora_E`);
      const B = take(`${PREFIX}${p}.lora_B`);
      const [r, inDim] = A.shape;
      const outDim = B.shape[0];
      const AE = A.data.map((v, i) => v * E.data[Math.floor(i / inDim)]);
      modules.set(p, { kind: 'dense', delta: Float32Array.from(matmul(B.data, AE, outDim, r, inDim), (v) => v * scale), inDim, outDim, rank: r, method: 'AdaLoRA' });
    }
  } else if (type === 'IA3') {
    const ff = config.feedforward_modules;
    const isFf = (p: string) => Array.isArray(ff) ? ff.map(String).some((t) => p === t || p.endsWith(`.${t}`)) : typeof ff === 'string' ? new RegExp(`^(?:${ff})$`).test(p) : false;
    for (const p of modulePaths(file, /^base_model\.model\.(.+)\.ia3_l$/)) {
      const l = take(`${PREFIX}${p}.ia3_l`);
      modules.set(p, { kind: 'ia3', l: l.data, shape: l.shape, feedforward: isFf(p) });
    }
  } else {
    const what = type === 'UNIFIED_VIEW'
      ? 'a UNIFIED_VIEW adapter (bottleneck/parallel adapters, prefixes, mixes) is not a weight update'
      : `a ${type || 'typeless'} adapter is not a weight update`;
    throw new PeftError('FORMAT', `${what}: it cannot be merged with others`, {
      where: label, hint: 'merge LoRA (any rank), LoHa, AdaLoRA or IA³ adapters; combine the others at inference: peft eval RECIPE --adapter A --adapter B [--weights …]',
    });
  }
  if (modules.size === 0) throw new PeftError('FORMAT', `the ${type} adapter holds no adapter tensors`, { where: weights, hint: 'the file does not match its adapter_config.json' });
  // the task head: tensors of modules_to_save (peft's classification task types imply theirs)
  const mts = Array.isArray(config.modules_to_save) ? config.modules_to_save.map(String)
    : HEAD_TASK_TYPES.includes(String(config.task_type)) ? ['classifier', 'score'] : [];
  const head = new Map<string, HeadTensor>();
  const unused: string[] = [];
  for (const n of file.names()) {
    if (used.has(n)) continue;
    const local = n.startsWith(PREFIX) ? n.slice(PREFIX.length) : n.replace(/^base_model\./, '');
    if (mts.some((m) => local === m || local.startsWith(`${m}.`))) head.set(n, { shape: file.info(n).shape, data: file.read(n) });
    else unused.push(n);
  }
  return { dir, label: label || basename(dir), type, config, modules, head, storage, unused };
}

/** ΔW [out, in] of a module's update, scale included (LoRA: scale·B·A). */
export function deltaOf(u: LoraUpdate | DenseUpdate): Float32Array {
  if (u.kind === 'dense') return u.delta;
  const bA = matmul(u.B, u.A, u.outDim, u.r, u.inDim);
  return Float32Array.from(bA, (v) => v * u.scale);
}
