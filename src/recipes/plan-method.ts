// The method section → MethodPlan: presets expanded into design dimensions, overrides applied,
// defaults decided per function, and every impossible combination reported at its place.
import type {
  Composition, FunctionKind, Insertion, LayerSelector, MethodPlan, ModulePlan, Nonlinearity, InitKind, UnfreezePlan,
  UnfreezeTarget, TaskType, DocPath,
} from './types.js';
import { findPreset, type ModuleSpec } from './presets.js';
import { USER_POSITIONS, functionMisfit, parsePosition } from './positions.js';
import { positionAbsence, type FamilyInfo } from './families.js';
import { suggest } from './suggest.js';

export type Report = (path: DocPath, message: string, hint?: string) => void;

/** Dimension keys a module spec may carry, and the functions each option belongs to. */
const OPTION_FUNCTIONS: Record<string, FunctionKind[]> = {
  rank: ['lowrank', 'hadamard', 'svd', 'bottleneck'],
  alpha: ['lowrank', 'hadamard', 'svd'],
  rslora: ['lowrank'],
  dora: ['lowrank'],
  target_rank: ['svd'], tinit: ['svd'], tfinal: ['svd'], delta_t: ['svd'], beta1: ['svd'], beta2: ['svd'], orth_reg: ['svd'],
  bottleneck: ['bottleneck'],
  nonlinearity: ['bottleneck'],
  layernorm: ['bottleneck'],
  ln_input: ['bottleneck'],
  length: ['prefix', 'prompt'],
  reparam: ['prefix'],
  shift_positions: ['prefix'],
  init_text: ['prompt'],
};
const DIM_KEYS = [
  'position', 'function', 'insertion', 'composition', 'scale', 'heads', 'layers', 'init', 'dropout',
  ...Object.keys(OPTION_FUNCTIONS),
];

const DEFAULTS: Record<FunctionKind, { positions: string[]; insertion: Insertion; composition: Composition; init: InitKind }> = {
  lowrank: { positions: ['attn.query', 'attn.value'], insertion: 'parallel', composition: 'scaled', init: 'lora' },
  hadamard: { positions: ['attn.query', 'attn.value'], insertion: 'parallel', composition: 'scaled', init: 'lora' },
  svd: { positions: ['attn.query', 'attn.value'], insertion: 'parallel', composition: 'scaled', init: 'lora' },
  bottleneck: { positions: ['ffn.output'], insertion: 'sequential', composition: 'add', init: 'bert' },
  prefix: { positions: ['attn.heads'], insertion: 'parallel', composition: 'gated', init: 'random' },
  prompt: { positions: ['embeddings'], insertion: 'sequential', composition: 'add', init: 'vocab' },
  scaling: { positions: ['attn.key', 'attn.value', 'ffn.intermediate'], insertion: 'sequential', composition: 'add', init: 'ones' },
  bias: { positions: ['attn.output', 'ffn.output'], insertion: 'sequential', composition: 'add', init: 'zero' },
};

function pickDims(obj: Record<string, unknown>): ModuleSpec {
  const out: Record<string, unknown> = {};
  for (const k of DIM_KEYS) if (obj[k] !== undefined) out[k] = obj[k];
  return out as ModuleSpec;
}

export function parseLayers(v: unknown, path: DocPath, report: Report): LayerSelector {
  if (v === undefined || v === 'all') return 'all';
  if (Array.isArray(v) && v.every((x) => Number.isInteger(x))) return v as number[];
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Number.isInteger(o.top)) return { top: o.top as number };
    if (Number.isInteger(o.bottom)) return { bottom: o.bottom as number };
    if (Number.isInteger(o.from) && Number.isInteger(o.to)) {
      if ((o.from as number) > (o.to as number)) report(path, `layers from ${o.from} to ${o.to} is empty`, 'from must be ≤ to (both inclusive)');
      return { from: o.from as number, to: o.to as number };
    }
  }
  report(path, `must be all, a list of layer indices, {from, to}, {top: k} or {bottom: k} (got ${JSON.stringify(v)})`);
  return 'all';
}

function checkLayersInRange(sel: LayerSelector, depth: number | null, path: DocPath, report: Report): void {
  if (depth === null) return;
  const bad = Array.isArray(sel) ? sel.filter((i) => i >= depth || i < -depth)
    : typeof sel === 'object' && 'to' in sel ? [sel.to].filter((i) => i >= depth) : [];
  if (bad.length) report(path, `layer ${bad.join(', ')} does not exist (the backbone has ${depth} layers: 0–${depth - 1})`);
  if (typeof sel === 'object' && !Array.isArray(sel) && ('top' in sel || 'bottom' in sel)) {
    const k = 'top' in sel ? sel.top : sel.bottom;
    if (k < 1 || k > depth) report(path, `must be between 1 and ${depth} (got ${k})`);
  }
}

export interface MethodContext {
  family: FamilyInfo | null;
  depth: number | null;
  task: TaskType;
  /** training.dropout: the dropout of modules that set none. */
  dropout?: number;
}

function moduleFromSpec(name: string, spec: ModuleSpec, base: DocPath, ctx: MethodContext, report: Report, presetName?: string): ModulePlan | null {
  const fn = spec.function as FunctionKind | undefined;
  if (!fn) {
    report(base, `module "${name}" has no function`, 'name a preset or set function: lowrank, bottleneck, prefix, scaling, bias, prompt, hadamard or svd');
    return null;
  }
  const d = DEFAULTS[fn];
  if (!d) return null;
  for (const [key, fns] of Object.entries(OPTION_FUNCTIONS)) {
    if ((spec as Record<string, unknown>)[key] !== undefined && !fns.includes(fn)) {
      const alt = fn === 'bottleneck' ? 'bottleneck' : fn === 'prefix' || fn === 'prompt' ? 'length' : 'rank';
      report([...base, key], `does not apply to function ${fn}`, key === 'rank' || key === 'bottleneck' || key === 'length' ? `its size is set by ${alt}` : undefined);
    }
  }
  const positions = spec.position === undefined ? d.positions : Array.isArray(spec.position) ? spec.position : [spec.position];
  const heads = (spec.heads as 'single' | 'multi' | undefined) ?? (fn === 'prefix' ? 'multi' : positions.some((p) => p.endsWith('.heads')) && fn !== 'scaling' ? 'multi' : 'single');
  positions.forEach((p, i) => {
    const where: DocPath = Array.isArray(spec.position) ? [...base, 'position', i] : [...base, 'position'];
    const parsed = parsePosition(p);
    if (!parsed) {
      const near = suggest(p, USER_POSITIONS);
      report(where, `unknown position "${p}"${near ? ` (did you mean "${near}"?)` : ''}`, 'positions are listed in docs/recipes.md');
      return;
    }
    // on fused-q/k/v families (GPT-2) query/key/value are slices of one projection, not weights
    const sliced = ctx.family?.fusedQkv && /(^|_)attn\.(query|key|value)$/.test(parsed.role);
    const misfit = functionMisfit(fn, parsed.role, { heads, dora: spec.dora, kind: sliced ? 'activation' : undefined });
    if (misfit) report(where, `${fn} cannot go at ${p}: ${misfit}`);
    if (ctx.family) {
      const absent = positionAbsence(ctx.family, parsed.stack, parsed.role);
      if (absent) report(where, `position ${p} does not exist here: ${absent}`);
    }
    if (heads === 'multi' && !parsed.role.endsWith('.heads')) report([...base, 'heads'], `heads: multi only applies at attn.heads (not ${p})`);
  });
  const insertion = (spec.insertion as Insertion | undefined) ?? d.insertion;
  const composition = (spec.composition as Composition | undefined) ?? d.composition;
  if (fn === 'prefix' && insertion !== 'parallel') {
    report([...base, 'insertion'], 'prefix tuning is parallel by nature: its Δh is computed from the attention\'s query, not its output');
  }
  if ((fn === 'scaling' || fn === 'bias' || fn === 'prompt') && spec.composition !== undefined && composition !== d.composition) {
    report([...base, 'composition'], `${fn} composes in its own way (${fn === 'scaling' ? 'h ⊙ l' : fn === 'bias' ? 'h + b' : 'prepending'}); remove composition`);
  }
  if (spec.scale !== undefined && composition !== 'scaled') {
    report([...base, 'scale'], `scale only applies to composition: scaled (this module's composition is ${composition})`);
  }
  const rank = spec.rank ?? (fn === 'svd' ? 12 : 8);
  const alpha = spec.alpha ?? (presetName ? spec.alpha : undefined) ?? rank;
  let scale: number | 'learned' = 1;
  if (composition === 'scaled') {
    if (spec.scale !== undefined) scale = spec.scale;
    // AdaLoRA divides by ranknum + 1e-5, as Python peft does
    else if (fn === 'svd') scale = alpha / (rank + 1e-5);
    else if (fn === 'lowrank' || fn === 'hadamard') scale = spec.rslora ? alpha / Math.sqrt(rank) : alpha / rank;
  }
  const layersPath: DocPath = [...base, 'layers'];
  const layers = parseLayers(spec.layers, layersPath, report);
  checkLayersInRange(layers, ctx.depth, layersPath, report);
  const options: ModulePlan['options'] = { init: (spec.init as InitKind | undefined) ?? d.init, dropout: spec.dropout ?? ctx.dropout ?? 0 };
  if (fn === 'lowrank' || fn === 'hadamard' || fn === 'svd') Object.assign(options, { rank, alpha });
  if (fn === 'lowrank') Object.assign(options, { rslora: Boolean(spec.rslora), dora: Boolean(spec.dora) });
  if (fn === 'svd') {
    Object.assign(options, { target_rank: spec.target_rank ?? Math.max(1, Math.round((rank * 2) / 3)) });
    // AdaLoRA's schedule and regulariser, Python peft's defaults unless set
    const svdDefaults = { tinit: 0, tfinal: 0, delta_t: 1, beta1: 0.85, beta2: 0.85, orth_reg: 0.5 } as const;
    for (const k of Object.keys(svdDefaults) as (keyof typeof svdDefaults)[]) (options as Record<string, unknown>)[k] = spec[k] ?? svdDefaults[k];
  }
  if (fn === 'bottleneck' || (heads === 'multi' && fn === 'lowrank')) {
    Object.assign(options, {
      bottleneck: spec.bottleneck ?? (fn === 'lowrank' ? rank : 64),
      nonlinearity: (spec.nonlinearity as Nonlinearity | undefined) ?? (fn === 'lowrank' ? 'identity' : 'relu'),
      layernorm: (spec.layernorm as 'none' | 'before' | 'after' | undefined) ?? 'none',
    });
  }
  if (fn === 'bottleneck' && spec.ln_input !== undefined) {
    options.ln_input = spec.ln_input as 'none' | 'original';
    if (spec.ln_input === 'original') checkOriginalLn(positions, insertion, ctx, [...base, 'ln_input'], report);
  }
  if (fn === 'prefix' || fn === 'prompt') options.length = spec.length ?? (fn === 'prefix' ? 30 : 20);
  if (fn === 'prefix') Object.assign(options, { reparam: spec.reparam ?? null, shift_positions: Boolean(spec.shift_positions) });
  if (fn === 'prompt' && spec.init_text !== undefined) options.init_text = spec.init_text;
  if (fn === 'prompt' && options.init === 'text' && !spec.init_text) report([...base, 'init'], 'init: text needs init_text');
  return {
    name, preset: presetName, positions, function: fn, insertion, composition, scale, heads, layers, options,
  };
}

/** `ln_input: original` reads LN(x + h) with the sublayer's own LayerNorm: sequential, at a post-LN sublayer's output. */
function checkOriginalLn(positions: string[], insertion: Insertion, ctx: MethodContext, path: DocPath, report: Report): void {
  if (insertion !== 'sequential') report(path, 'ln_input: original needs insertion: sequential (the input replaces h, the sublayer\'s output)');
  const notSublayer = positions.filter((p) => !/(^|\.)(attn|self_attn|cross_attn|ffn)\.output$/.test(p));
  if (notSublayer.length) report(path, `ln_input: original only applies at a sublayer's output (attn.output, ffn.output), not ${notSublayer.join(', ')}`);
  if (ctx.family && !ctx.family.postLn) {
    report(path, `ln_input: original needs post-LN layers, and ${ctx.family.name} is pre-LN`, 'its sublayers have no LayerNorm after the residual add; use ln_input: none');
  }
}

export function planMethod(raw: unknown, ctx: MethodContext, report: Report): MethodPlan {
  const m = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const presetName = typeof m.preset === 'string' ? m.preset : undefined;
  const preset = presetName ? findPreset(presetName) : undefined;
  const top = pickDims(m);
  const specs = new Map<string, { spec: ModuleSpec; path: DocPath; preset?: string }>();
  if (preset) {
    for (const [name, spec] of Object.entries(preset.modules)) specs.set(name, { spec: { ...spec }, path: ['method'], preset: presetName });
  }
  const hasTop = Object.keys(top).length > 0;
  if (hasTop) {
    if (specs.size === 1) {
      const [[name, entry]] = [...specs];
      specs.set(name, { ...entry, spec: { ...entry.spec, ...top } });
    } else if (specs.size > 1) {
      report(['method'], `preset ${presetName} has several modules (${[...specs.keys()].join(', ')}): set their dimensions under method.modules.<name>`);
    } else if (top.function) {
      specs.set(String(top.function), { spec: top, path: ['method'] });
    } else if (!m.modules) {
      report(['method'], presetName ? `preset ${presetName} has no module to set ${Object.keys(top).join(', ')} on` : 'method needs a preset, a function, or modules',
        'e.g. method: {preset: lora} or method: {function: lowrank, position: attn.query}');
    }
  }
  if (m.modules && typeof m.modules === 'object') {
    for (const [name, value] of Object.entries(m.modules as Record<string, unknown>)) {
      const v = (value ?? {}) as Record<string, unknown>;
      const path: DocPath = ['method', 'modules', name];
      let spec: ModuleSpec = specs.get(name)?.spec ?? {};
      let subPreset = specs.get(name)?.preset;
      if (typeof v.preset === 'string') {
        const p = findPreset(v.preset);
        const mods = p ? Object.values(p.modules) : [];
        if (p && mods.length !== 1) report([...path, 'preset'], `preset ${v.preset} is not a single module and cannot be used inside modules`);
        else if (mods.length === 1) {
          spec = { ...mods[0] };
          subPreset = v.preset;
        }
      }
      specs.set(name, { spec: { ...spec, ...pickDims(v) }, path, preset: subPreset });
    }
  }
  if (!preset && !hasTop && !m.modules && !m.unfreeze) {
    report(['method'], 'method needs a preset, a function, modules or unfreeze', 'e.g. method: {preset: lora}');
  }
  const modules: ModulePlan[] = [];
  for (const [name, { spec, path, preset: p }] of specs) {
    const mod = moduleFromSpec(name, spec, path, ctx, report, p);
    if (mod) modules.push(mod);
  }
  const unfreezeTargets = new Set<UnfreezeTarget>([...(preset?.unfreeze ?? [])]);
  if (Array.isArray(m.unfreeze)) for (const t of m.unfreeze) unfreezeTargets.add(t as UnfreezeTarget);
  const unfreezeLayers = !preset?.unfreeze || modules.length > 0 ? 'all' : parseLayers(top.layers, ['method', 'layers'], report);
  const unfreeze: UnfreezePlan[] = [...unfreezeTargets].map((target) => ({ target, layers: unfreezeLayers }));
  const defaultHead = ctx.task !== 'causal-lm' && ctx.task !== 'seq2seq';
  const trainHead = typeof m.train_head === 'boolean' ? m.train_head : defaultHead;
  return { preset: presetName ?? (modules.length === 1 ? 'custom' : 'custom'), modules, unfreeze, trainHead };
}
