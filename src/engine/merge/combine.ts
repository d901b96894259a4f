// Several adapters on one backbone → one adapter (`peft merge A B … --method M`): the inputs are
// checked against each other (same backbone, methods the rule can merge, weights and density that
// fit), merged module by module (combine-factors.ts: peft's factor-wise rules and cat;
// combine-deltas.ts: weight-space rules, SVD re-factorised), and written as a Python peft LORA
// adapter (IA3 for IA³ inputs) with per-module ranks in rank_pattern where they differ. Modules
// only some adapters adapt are merged from those that do (peft's rule). A task head is kept from
// the one adapter that has it, or the one `head` names; heads are never averaged.
import type { NamedTensor } from '../io/safetensors.js';
import { uniformStream } from '../random.js';
import type { AdapterUpdates, DenseUpdate, Ia3Update, LoraUpdate, ModuleUpdate } from './adapter-updates.js';
import { concatFactors, mergeFactors, type FactorMethod, type MergedFactors } from './combine-factors.js';
import { mergeDeltas, mergePcb, refactor, type DeltaMethod } from './combine-deltas.js';
import type { MajoritySignMethod } from './task-vectors.js';
import { PeftError } from '../../errors.js';

export const FACTOR_METHODS = ['linear', 'ties', 'dare_linear', 'dare_ties', 'magnitude_prune'] as const;
export const DELTA_METHODS = ['svd', 'ties_svd', 'magnitude_prune_svd', 'dare_linear_svd', 'dare_ties_svd', 'task_arithmetic', 'pcb'] as const;
export const COMBINE_METHODS = [...FACTOR_METHODS, 'cat', ...DELTA_METHODS] as const;
export type CombineMethod = (typeof COMBINE_METHODS)[number];
const DENSITY_METHODS: readonly CombineMethod[] = ['ties', 'ties_svd', 'magnitude_prune', 'magnitude_prune_svd', 'dare_linear', 'dare_linear_svd', 'dare_ties', 'dare_ties_svd', 'pcb'];

export interface CombineOptions {
  method: CombineMethod;
  /** One per adapter. */
  weights: number[];
  /** Fraction kept, in (0, 1]: TIES/magnitude trim, DARE keep probability, PCB ratio. */
  density?: number;
  majoritySign?: MajoritySignMethod;
  /** Rank of a weight-space merge's factors (default: the largest input rank; task_arithmetic: the sum); 'full' is exact. */
  rank?: number | 'full';
  /** DARE's random drop. */
  seed?: number;
  /** svd-family methods weight ΔW by w (not peft 0.13.2's w·s). */
  exactScale?: boolean;
  /** 1-based index of the adapter whose task head the result keeps (0: none). */
  head?: number;
  /** Merge although the adapters name different base models. */
  allowDifferentBase?: boolean;
}

export interface CombinedAdapter {
  type: 'LORA' | 'IA3';
  config: Record<string, unknown>;
  tensors: NamedTensor[];
  /** Module path → rank of the result (LoRA). */
  ranks: Map<string, number>;
  /** The adapter whose head was kept, or null. */
  head: string | null;
  notes: string[];
}

const PREFIX = 'base_model.model.';
const usage = (message: string, hint?: string) => new PeftError('USAGE', message, { hint });

function checkOptions(inputs: AdapterUpdates[], o: CombineOptions): void {
  if (inputs.length === 0) throw usage('name the adapters to merge');
  if (o.weights.length !== inputs.length) {
    throw usage(`${inputs.length} adapters but ${o.weights.length} weight${o.weights.length === 1 ? '' : 's'}`, `give one weight per adapter, in order: --weights ${inputs.map(() => '1').join(',')}`);
  }
  o.weights.forEach((w, i) => {
    if (!Number.isFinite(w)) throw usage(`weight ${i + 1} is ${w}, not a number`, 'weights are numbers separated by commas: --weights 0.7,0.5');
  });
  const needs = DENSITY_METHODS.includes(o.method);
  if (o.density !== undefined && !(o.density > 0 && o.density <= 1)) {
    throw usage(`density ${o.density} is outside (0, 1]`, 'density is the fraction of entries kept: --density 0.5');
  }
  if (needs && o.density === undefined) throw usage(`--method ${o.method} needs --density d in (0, 1] (the fraction of entries kept)`, `e.g. --density ${o.method === 'pcb' ? '0.2' : '0.5'}`);
  if (!needs && o.density !== undefined) throw usage(`--density does nothing for --method ${o.method}`, `density applies to ${DENSITY_METHODS.join(', ')}`);
  if (o.rank !== undefined && o.rank !== 'full' && !(Number.isInteger(o.rank) && o.rank >= 1)) throw usage(`--rank must be a positive integer or "full" (got ${o.rank})`);
  if (o.rank !== undefined && !(DELTA_METHODS as readonly string[]).includes(o.method)) {
    throw usage(`--rank does nothing for --method ${o.method}`, `it sets the rank of the weight-space merges: ${DELTA_METHODS.join(', ')}`);
  }
}

function baseName(a: AdapterUpdates): string | null {
  const b = a.config.base_model_name_or_path;
  return typeof b === 'string' && b ? b.replace(/[\\/]+$/, '').split(/[\\/]/).pop()! : null;
}

/** Same backbone: the base models they name, and the shapes of the modules they share. */
function checkBackbone(inputs: AdapterUpdates[], o: CombineOptions): void {
  const named = inputs.filter((a) => baseName(a) !== null);
  if (!o.allowDifferentBase && new Set(named.map(baseName)).size > 1) {
    const [a, b] = [named[0], named.find((x) => baseName(x) !== baseName(named[0]))!];
    throw new PeftError('FORMAT', `${a.label} is for ${a.config.base_model_name_or_path} and ${b.label} for ${b.config.base_model_name_or_path}: adapters for different backbones do not merge`, {
      hint: 'merge adapters trained on the same base model (--allow-different-base if these names are the same weights)',
    });
  }
  const seen = new Map<string, { label: string; shape: string }>();
  for (const a of inputs) {
    for (const [p, u] of a.modules) {
      const shape = u.kind === 'ia3' ? `[${u.shape}]` : `[${u.outDim}, ${u.inDim}]`;
      const prev = seen.get(p);
      if (prev && prev.shape !== shape) {
        throw new PeftError('SHAPE', `${prev.label} and ${a.label} adapt ${p} with different shapes (${prev.shape} vs ${shape}): they are adapters for different backbones`, {
          hint: 'merge adapters trained on the same base model',
        });
      }
      seen.set(p, { label: a.label, shape });
    }
  }
}

/** Which kinds of input a method merges, and why not the others. */
function checkKinds(inputs: AdapterUpdates[], o: CombineOptions): 'lora' | 'ia3' {
  const kinds = new Set(inputs.flatMap((a) => [...a.modules.values()].map((u) => u.kind)));
  if (kinds.has('ia3')) {
    if (kinds.size > 1) {
      const other = inputs.find((a) => a.type !== 'IA3')!;
      throw new PeftError('FORMAT', `IA³ scales activations and ${other.label} (${other.type}) adds a ΔW: the two do not merge into one adapter`, {
        hint: 'combine them at inference instead: --adapter A --adapter B',
      });
    }
    if (o.method !== 'linear') throw usage(`IA³ adapters merge by --method linear only (a weighted sum of their scaling vectors, as Python peft); not ${o.method}`);
    return 'ia3';
  }
  if (o.method === 'cat' || (FACTOR_METHODS as readonly string[]).includes(o.method)) {
    const other = inputs.find((a) => a.type !== 'LORA');
    if (other) {
      throw new PeftError('FORMAT', `--method ${o.method} merges LoRA factors (A and B) and ${other.label} is a ${other.type} adapter`, {
        hint: 'merge ΔW instead: --method task_arithmetic, svd, ties_svd or pcb take LoRA, LoHa and AdaLoRA adapters alike',
      });
    }
  }
  return 'lora';
}

/** The task head to keep: the only one, identical ones, or the one named. */
function pickHead(inputs: AdapterUpdates[], o: CombineOptions): AdapterUpdates | null {
  if (o.head === 0) return null;
  if (o.head !== undefined) {
    const a = inputs[o.head - 1];
    if (!a) throw usage(`--head ${o.head}: there are ${inputs.length} adapters (1 … ${inputs.length}, or 0 for none)`);
    if (a.head.size === 0) throw usage(`--head ${o.head}: ${a.label} carries no task head`, `adapters with one: ${inputs.map((x, i) => (x.head.size ? String(i + 1) : '')).filter(Boolean).join(', ') || 'none'}`);
    return a;
  }
  const carriers = inputs.filter((a) => a.head.size > 0);
  if (carriers.length <= 1) return carriers[0] ?? null;
  const same = (x: AdapterUpdates, y: AdapterUpdates) =>
    x.head.size === y.head.size && [...x.head].every(([n, t]) => y.head.get(n)?.data.every((v, i) => v === t.data[i]));
  if (carriers.every((c) => same(c, carriers[0]))) return carriers[0];
  throw usage(`${carriers.map((c) => c.label).join(' and ')} each carry their own task head (${[...carriers[0].head.keys()].map((n) => n.replace(PREFIX, '')).join(', ')}); heads are not merged (Python peft refuses this too)`,
    `keep one: --head N (1 … ${inputs.length}, the position of the adapter in the list; 0 for none)`);
}

export function combineAdapters(inputs: AdapterUpdates[], o: CombineOptions): CombinedAdapter {
  checkOptions(inputs, o);
  const kind = checkKinds(inputs, o);
  checkBackbone(inputs, o);
  const head = pickHead(inputs, o);
  const notes: string[] = [];
  for (const a of inputs) if (a.unused.length > 0) notes.push(`${a.label}: ${a.unused.length} tensor(s) of its file belong to neither the adapter nor its head and were not used (${a.unused[0]}, …)`);
  const paths = [...new Set(inputs.flatMap((a) => [...a.modules.keys()]))].sort();
  const present = (p: string) => inputs.map((a, i) => ({ u: a.modules.get(p), w: o.weights[i], a })).filter((x) => x.u) as { u: ModuleUpdate; w: number; a: AdapterUpdates }[];
  const partial = paths.filter((p) => present(p).length < inputs.length);
  if (partial.length > 0) notes.push(`${partial.length} of ${paths.length} modules are adapted by only some of the adapters: each is merged from those that adapt it`);
  const tensors: NamedTensor[] = [];
  const ranks = new Map<string, number>();
  if (kind === 'ia3') {
    for (const p of paths) {
      const here = present(p);
      const l = new Float32Array((here[0].u as Ia3Update).l.length);
      for (const { u, w } of here) (u as Ia3Update).l.forEach((v, j) => { l[j] += v * w; });
      tensors.push({ name: `${PREFIX}${p}.ia3_l`, shape: (here[0].u as Ia3Update).shape, data: l });
    }
  } else {
    const uniform = uniformStream(((o.seed ?? 0) ^ 0x5eed) >>> 0);
    const density = o.density ?? 1;
    const majoritySign = o.majoritySign ?? 'total';
    const factors = new Map<string, MergedFactors>();
    if (o.method === 'cat') {
      for (const p of paths) {
        const here = present(p);
        factors.set(p, concatFactors(here.map((x) => x.u as LoraUpdate), here.map((x) => x.w)));
      }
    } else if ((FACTOR_METHODS as readonly string[]).includes(o.method)) {
      for (const p of paths) {
        const here = present(p);
        const rs = new Set(here.map((x) => (x.u as LoraUpdate).r));
        if (rs.size > 1) {
          throw new PeftError('FORMAT', `--method ${o.method} merges LoRA factors of equal rank, and ${p} has ranks ${here.map((x) => `${(x.u as LoraUpdate).r} (${x.a.label})`).join(', ')}`, {
            hint: 'use cat (exact, rank r1 + r2), task_arithmetic (exact ΔW sum), svd or ties_svd for adapters of different ranks',
          });
        }
        factors.set(p, mergeFactors(o.method as FactorMethod, here.map((x) => x.u as LoraUpdate), here.map((x) => x.w), { density, majoritySign, uniform }));
      }
    } else {
      const method = o.method as DeltaMethod;
      const rankOf = (u: ModuleUpdate) => (u.kind === 'lora' ? u.r : u.kind === 'dense' ? u.rank : 0);
      const maxRank = Math.max(...inputs.flatMap((a) => [...a.modules.values()].map(rankOf)));
      const merged = method === 'pcb'
        ? mergePcb(paths, inputs.map((a) => a.modules as Map<string, LoraUpdate | DenseUpdate>), o.weights, density)
        : new Map(paths.map((p) => {
          const here = present(p);
          return [p, mergeDeltas(method, here.map((x) => x.u as LoraUpdate | DenseUpdate), here.map((x) => x.w), { density, majoritySign, uniform, exactScale: Boolean(o.exactScale) })];
        }));
      for (const p of paths) {
        const here = present(p);
        const { outDim, inDim } = here[0].u as LoraUpdate | DenseUpdate;
        const full = Math.min(outDim, inDim);
        const wanted = o.rank === 'full' ? full : o.rank ?? (method === 'task_arithmetic' ? here.reduce((n, x) => n + rankOf(x.u), 0) : maxRank);
        factors.set(p, refactor(merged.get(p)!, outDim, inDim, Math.min(wanted, full)));
      }
      if (method !== 'task_arithmetic' && method !== 'pcb' && !o.exactScale && inputs.some((a) => [...a.modules.values()].some((u) => u.kind === 'lora' && u.scale !== 1))) {
        notes.push(`as Python peft 0.13.2, ${method} weights each LoRA's ΔW by w·s (s = its α/r), so ΔW enters with s²; --exact weights it by w alone (as task_arithmetic does)`);
      }
    }
    for (const [p, f] of factors) {
      ranks.set(p, f.r);
      tensors.push({ name: `${PREFIX}${p}.lora_A.weight`, shape: [f.r, f.A.length / f.r], data: f.A });
      tensors.push({ name: `${PREFIX}${p}.lora_B.weight`, shape: [f.B.length / f.r, f.r], data: f.B });
    }
  }
  if (head) for (const [n, t] of head.head) tensors.push({ name: n, shape: t.shape, data: t.data });
  const config = kind === 'ia3' ? ia3Config(inputs, head) : loraConfig(inputs, ranks, head);
  return { type: kind === 'ia3' ? 'IA3' : 'LORA', config, tensors, ranks, head: head?.label ?? null, notes };
}

/** target_modules for the union of the inputs' modules: their lists' union, one shared value, or the exact paths. */
function targetModules(inputs: AdapterUpdates[], paths: string[]): { target_modules: string[] | string; layers_to_transform: unknown } {
  const lists = inputs.map((a) => a.config.target_modules);
  const layers = inputs.map((a) => a.config.layers_to_transform ?? null);
  if (lists.every(Array.isArray) && layers.every((l) => l === null)) {
    return { target_modules: [...new Set(lists.flatMap((l) => (l as unknown[]).map(String)))].sort(), layers_to_transform: null };
  }
  if (lists.every((l) => JSON.stringify(l) === JSON.stringify(lists[0])) && layers.every((l) => JSON.stringify(l) === JSON.stringify(layers[0]))) {
    return { target_modules: lists[0] as string[] | string, layers_to_transform: layers[0] };
  }
  return { target_modules: `(${paths.map((p) => p.replace(/\./g, '\\.')).join('|')})`, layers_to_transform: null };
}

function common(inputs: AdapterUpdates[], head: AdapterUpdates | null): Record<string, unknown> {
  const from = head ?? inputs[0];
  return {
    base_model_name_or_path: inputs.map((a) => a.config.base_model_name_or_path).find((b) => typeof b === 'string' && b) ?? null,
    modules_to_save: head ? head.config.modules_to_save ?? null : null,
    task_type: from.config.task_type ?? null,
    inference_mode: true,
    revision: null,
    auto_mapping: null,
  };
}

function loraConfig(inputs: AdapterUpdates[], ranks: Map<string, number>, head: AdapterUpdates | null): Record<string, unknown> {
  const paths = [...ranks.keys()];
  const count = new Map<number, number>();
  for (const r of ranks.values()) count.set(r, (count.get(r) ?? 0) + 1);
  const r = [...count].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0][0];
  const rank_pattern: Record<string, number> = {};
  for (const [p, k] of ranks) if (k !== r) rank_pattern[p] = k;
  const first = inputs.find((a) => a.type === 'LORA')?.config ?? {};
  return {
    ...common(inputs, head),
    // scale 1 everywhere: lora_alpha = r, and each module's alpha its own rank
    alpha_pattern: { ...rank_pattern },
    bias: 'none',
    fan_in_fan_out: Boolean(first.fan_in_fan_out),
    init_lora_weights: true,
    layers_pattern: null,
    ...targetModules(inputs, paths),
    loftq_config: {},
    lora_alpha: r,
    lora_dropout: typeof first.lora_dropout === 'number' ? first.lora_dropout : 0,
    megatron_config: null,
    megatron_core: 'megatron.core',
    peft_type: 'LORA',
    r,
    rank_pattern,
    use_dora: false,
    use_rslora: false,
  };
}

function ia3Config(inputs: AdapterUpdates[], head: AdapterUpdates | null): Record<string, unknown> {
  const ff = [...new Set(inputs.flatMap((a) => (Array.isArray(a.config.feedforward_modules) ? a.config.feedforward_modules.map(String) : [])))].sort();
  const paths = [...new Set(inputs.flatMap((a) => [...a.modules.keys()]))].sort();
  return {
    ...inputs[0].config,
    ...common(inputs, head),
    ...targetModules(inputs, paths),
    feedforward_modules: ff.length > 0 ? ff : inputs[0].config.feedforward_modules ?? null,
    peft_type: 'IA3',
  };
}
