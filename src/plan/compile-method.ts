// The method compiler: a recipe's method section (or an adapter config's, translated to the same
// words) → MethodPlan. Presets expand into design dimensions, overrides apply, each module's
// options are decided by its function's table entry, and every impossible combination is
// reported at its place. The engine reads what this decides and never re-defaults it.
import type { DocPath, MethodPlan, ModulePlan, SelectPlan, TaskType, UnfreezePlan, UnfreezeTarget } from './types.js';
import { findPreset, type ModuleSpec, type Preset } from './presets.js';
import { USER_POSITIONS, functionMisfit, parsePosition } from './positions.js';
import { positionAbsence, type FamilyInfo } from './families.js';
import {
  FUNCTIONS, FUNCTION_KINDS, functionSpec, type Composition, type FunctionSpec, type Heads, type InitKind, type Insertion, type OptionUse,
} from './functions/index.js';
import { suggest } from './suggest.js';
import { sizeProblems } from './size-checks.js';
import type { ModelSizes } from './model-config.js';
import { parseLayers, checkLayersInRange } from './layers.js';
import { compileSelect, SELECT_KEYS } from './compile-select.js';
import { PeftError } from '../errors.js';

export type Report = (path: DocPath, message: string, hint: string) => void;

export { parseLayers };

/** The dimensions every module has; the rest of a module's keys are its function's options. */
export const DIMENSION_KEYS = ['position', 'function', 'insertion', 'composition', 'scale', 'heads', 'layers', 'init', 'dropout'] as const;

/** Every option key some function takes, and the functions that take it. */
const OPTION_OWNERS: Map<string, string[]> = (() => {
  const m = new Map<string, string[]>();
  for (const kind of FUNCTION_KINDS) for (const key of Object.keys(FUNCTIONS[kind].options)) m.set(key, [...(m.get(key) ?? []), kind]);
  return m;
})();

export const MODULE_KEYS: string[] = [...DIMENSION_KEYS, ...OPTION_OWNERS.keys()];

function pickModuleKeys(obj: Record<string, unknown>): ModuleSpec {
  const out: ModuleSpec = {};
  for (const k of MODULE_KEYS) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

export interface MethodContext {
  family: FamilyInfo | null;
  depth: number | null;
  task: TaskType;
  /** training.dropout: the dropout of modules that set none. */
  dropout?: number;
  /** The backbone's sizes (config.json), when known: module sizes are checked against them. */
  sizes?: ModelSizes | null;
  /** data.max_length (for virtual tokens that take positions). */
  maxLength?: number;
  /** Tasks of a multi-task recipe: n_tasks of the modules that route by task, unless they set it. */
  tasks?: number;
}

/** The options of a function, decided: the spec's value, else the table's default (in the table's order). */
function decideOptions(fn: FunctionSpec, spec: ModuleSpec, dropout: number): Record<string, unknown> {
  // init first: some options exist only for an init (CorDA's); it is listed last in the plan
  const init = (spec.init as InitKind | undefined) ?? fn.defaults.init;
  const decided: Record<string, unknown> = { init };
  for (const [key, use] of Object.entries(fn.options) as [string, OptionUse<unknown>][]) {
    const given = spec[key];
    if (given !== undefined) decided[key] = given;
    else if (typeof use.fallback === 'function') {
      const v = (use.fallback as (o: Record<string, unknown>) => unknown)(decided);
      if (v !== undefined) decided[key] = v;
    } else if (use.fallback !== undefined) decided[key] = use.fallback;
  }
  delete decided.init;
  decided.init = init;
  decided.dropout = spec.dropout ?? dropout;
  return decided;
}

/**
 * A module plan with every option its function has decided: plans written before an option
 * existed (a run's recorded plan, an adapter_config.json of an older version) get its default,
 * so old runs and adapters keep meaning what they meant. Options already present are kept.
 */
export function completeModule(m: ModulePlan): ModulePlan {
  const fn = functionSpec(m.function);
  if (!fn) return m;
  const given = m.options as Record<string, unknown>;
  return { ...m, options: decideOptions(fn, given as ModuleSpec, typeof given.dropout === 'number' ? given.dropout : 0) } as ModulePlan;
}

/**
 * One module spec → ModulePlan, or null when it has no usable function. Problems are reported at
 * `base` + the key; the plan is still returned when they are recoverable, so one run reports all.
 */
export function compileModule(name: string, spec: ModuleSpec, base: DocPath, ctx: MethodContext, report: Report, presetName?: string): ModulePlan | null {
  const kind = spec.function;
  if (kind === undefined) {
    report(base, `module "${name}" has no function`, `name a preset or set function: ${FUNCTION_KINDS.join(', ')}`);
    return null;
  }
  const fn = functionSpec(kind);
  if (!fn) {
    const near = suggest(kind, FUNCTION_KINDS);
    report([...base, 'function'], `unknown function "${kind}"${near ? ` (did you mean "${near}"?)` : ''}`, `functions: ${FUNCTION_KINDS.join(', ')}`);
    return null;
  }
  for (const key of Object.keys(spec)) {
    const owners = OPTION_OWNERS.get(key);
    if (!owners || owners.includes(kind)) continue;
    const sized = key === 'rank' || key === 'bottleneck' || key === 'length';
    report([...base, key], `does not apply to function ${kind}`,
      sized ? (fn.size ? `its size is set by ${fn.size}` : `${kind} has no size`) : `${key} belongs to ${owners.join(', ')}`);
  }
  const positions = spec.position === undefined ? [...fn.defaults.positions] : Array.isArray(spec.position) ? spec.position : [spec.position];
  if (ctx.tasks !== undefined && 'n_tasks' in fn.options) {
    if (spec.n_tasks === undefined) spec = { ...spec, n_tasks: ctx.tasks };
    else if (typeof spec.n_tasks === 'number' && spec.n_tasks < ctx.tasks) {
      report([...base, 'n_tasks'], `n_tasks is ${spec.n_tasks} but the recipe has ${ctx.tasks} tasks`, 'leave n_tasks out: it defaults to the number of tasks');
    }
  }
  const options = decideOptions(fn, spec, ctx.dropout ?? 0);
  const heads: Heads = (spec.heads as Heads | undefined)
    ?? (fn.defaults.heads === 'multi' || (fn.perHead && positions.some((p) => p.endsWith('.heads'))) ? 'multi' : 'single');
  if (!fn.inits.includes(options.init as InitKind)) {
    report([...base, 'init'], `${kind} has no init ${options.init}`, `${kind} takes init: ${fn.inits.join(', ')}`);
  }
  let headsReported = false; // one wrong `heads` is one error, not one per position
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
    const misfit = functionMisfit({ function: kind, heads, options } as ModulePlan, parsed.role, sliced ? 'activation' : undefined);
    if (misfit) {
      report(where, `${kind} cannot go at ${p}: ${misfit}`, `choose another position for ${kind} (peft methods ${kind === 'lowrank' ? 'lora' : kind} shows where it goes)`);
      return; // what else is wrong at a position the function cannot take follows from it
    }
    if (ctx.family) {
      const absent = positionAbsence(ctx.family, parsed.stack, parsed.role);
      if (absent) report(where, `position ${p} does not exist here: ${absent}`, 'docs/recipes.md lists the positions; peft inspect shows the backbone\'s');
    }
    if (heads === 'multi' && !parsed.role.endsWith('.heads') && !headsReported) {
      headsReported = true;
      report([...base, 'heads'], `heads: multi only applies at attn.heads (not ${p})`, 'remove heads: multi, or put the module at attn.heads');
    }
  });
  const insertion = (spec.insertion as Insertion | undefined) ?? fn.defaults.insertion;
  const composition = (spec.composition as Composition | undefined) ?? fn.defaults.composition;
  if (fn.insertion && insertion !== fn.insertion.only) report([...base, 'insertion'], fn.insertion.why, `remove insertion (${kind} is always ${fn.insertion.only})`);
  if (fn.ownComposition && spec.composition !== undefined && composition !== fn.defaults.composition) {
    report([...base, 'composition'], `${kind} composes in its own way (${fn.ownComposition})`, 'remove composition from this module');
  }
  if (spec.scale !== undefined && composition !== 'scaled') {
    report([...base, 'scale'], `scale only applies to composition: scaled (this module's composition is ${composition})`, 'remove scale, or set composition: scaled');
  }
  const scale: number | 'learned' = composition !== 'scaled' ? 1 : spec.scale ?? fn.scale(options as never);
  const layersPath: DocPath = [...base, 'layers'];
  const layers = parseLayers(spec.layers, layersPath, report);
  checkLayersInRange(layers, ctx.depth, layersPath, report);
  for (const [key, use] of Object.entries(fn.options) as [string, OptionUse<unknown>][]) {
    if (use.conditional && spec[key] !== undefined && !use.conditional.applies(options)) {
      report([...base, key], `${key} applies with ${use.conditional.scope} only`, `remove it, or choose ${use.conditional.scope}`);
    }
  }
  const shape = { insertion, composition, scale, positions, heads, postLn: ctx.family?.postLn ?? null, familyName: ctx.family?.name ?? null };
  for (const problem of fn.check?.(options as never, shape) ?? []) report([...base, problem.key], problem.message, problem.hint ?? `peft methods ${kind} shows what ${kind} takes`);
  if (ctx.sizes) {
    for (const problem of sizeProblems({ function: kind, options, positions } as ModulePlan, ctx.sizes, ctx.maxLength ?? 0)) {
      report(spec[problem.key] !== undefined ? [...base, problem.key] : base, problem.message, problem.hint);
    }
  }
  return { name, preset: presetName, positions, function: kind, insertion, composition, scale, heads, layers, options } as ModulePlan;
}

export function compileMethod(raw: unknown, ctx: MethodContext, report: Report): MethodPlan {
  const m = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const presetName = typeof m.preset === 'string' ? m.preset : undefined;
  const preset = presetName ? findPreset(presetName) : undefined;
  const top = pickModuleKeys(m);
  const specs = new Map<string, { spec: ModuleSpec; path: DocPath; preset?: string }>();
  if (preset) {
    for (const [name, spec] of Object.entries(preset.modules)) specs.set(name, { spec: { ...spec }, path: ['method'], preset: presetName });
  }
  const hasTop = Object.keys(top).length > 0;
  const selectOnly = Object.keys(m).filter((k) => SELECT_KEYS.includes(k) && !MODULE_KEYS.includes(k));
  if (selectOnly.length > 0) {
    report(['method', selectOnly[0]], `${selectOnly.join(', ')} belong${selectOnly.length === 1 ? 's' : ''} to the selection`,
      `set ${selectOnly.length === 1 ? 'it' : 'them'} under method.select (method: {${presetName ? `preset: ${presetName}, ` : ''}select: {${selectOnly[0]}: …}})`);
  }
  if (hasTop) {
    if (specs.size === 1) {
      const [[name, entry]] = [...specs];
      specs.set(name, { ...entry, spec: { ...entry.spec, ...top } });
    } else if (specs.size > 1) {
      report(['method'], `preset ${presetName} has several modules (${[...specs.keys()].join(', ')})`, `set their dimensions under method.modules.<name>, e.g. method: {preset: ${presetName}, modules: {${[...specs.keys()][0]}: {…}}}`);
    } else if (top.function) {
      specs.set(String(top.function), { spec: top, path: ['method'] });
    } else if (!m.modules) {
      const selective = preset?.select !== undefined;
      report(['method'], presetName ? `preset ${presetName} has no module to set ${Object.keys(top).join(', ')} on` : 'method needs a preset, a function, or modules',
        selective ? `${presetName} is a selection: set its keys under method.select (method: {preset: ${presetName}, select: {${Object.keys(top)[0]}: …}})`
          : 'e.g. method: {preset: lora} or method: {function: lowrank, position: attn.query}');
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
        if (p && mods.length !== 1) report([...path, 'preset'], `preset ${v.preset} is not a single module and cannot be used inside modules`, 'use a single-module preset here, or name this preset at method.preset');
        else if (mods.length === 1) {
          spec = { ...mods[0] };
          subPreset = v.preset;
        }
      }
      specs.set(name, { spec: { ...spec, ...pickModuleKeys(v) }, path, preset: subPreset });
    }
  }
  if (!preset && !hasTop && !m.modules && !m.unfreeze && !m.select) {
    report(['method'], 'method needs a preset, a function, modules, unfreeze or select', 'e.g. method: {preset: lora}');
  }
  const modules: ModulePlan[] = [];
  for (const [name, { spec, path, preset: p }] of specs) {
    const mod = compileModule(name, spec, path, ctx, report, p);
    if (mod) modules.push(mod);
  }
  const unfreezeTargets = new Set<UnfreezeTarget>([...(preset?.unfreeze ?? [])]);
  if (Array.isArray(m.unfreeze)) for (const t of m.unfreeze) unfreezeTargets.add(t as UnfreezeTarget);
  const unfreezeLayers = !preset?.unfreeze || modules.length > 0 ? 'all' : parseLayers(top.layers, ['method', 'layers'], report);
  const unfreeze: UnfreezePlan[] = [...unfreezeTargets].map((target) => ({ target, layers: unfreezeLayers }));
  const defaultHead = ctx.task !== 'causal-lm' && ctx.task !== 'seq2seq';
  const trainHead = typeof m.train_head === 'boolean' ? m.train_head : defaultHead;
  const select = compileMethodSelect(m, preset, presetName, unfreeze, ctx, report);
  return { preset: presetName ?? 'custom', modules, unfreeze, trainHead, ...(select ? { select } : {}) };
}

/** The method's selection: the preset's `select` with the recipe's keys over it. */
function compileMethodSelect(
  m: Record<string, unknown>, preset: Preset | undefined, presetName: string | undefined, unfreeze: UnfreezePlan[], ctx: MethodContext, report: Report,
): SelectPlan | null {
  const own = m.select && typeof m.select === 'object' ? (m.select as Record<string, unknown>) : null;
  if (!preset?.select && !own) return null;
  const raw: Record<string, unknown> = { ...(preset?.select ?? {}), ...(own ?? {}) };
  if (own?.criterion !== undefined && preset?.select && own.criterion !== preset.select.criterion) {
    // another criterion: the preset's options belong to its own criterion
    for (const key of Object.keys(preset.select)) if (!(key in own)) delete raw[key];
  }
  const select = compileSelect(raw, ['method', 'select'], ctx, report, preset?.select ? presetName : undefined, new Set(Object.keys(own ?? {})));
  if (select && unfreeze.some((u) => u.target === 'all')) {
    report(['method', 'select'], 'unfreeze: [all] already trains every weight: a selection has nothing to choose', 'drop one of them');
  }
  return select;
}

/**
 * A module built from words (an adapter config's, translated), decided exactly as a recipe's
 * would be. Any problem is a FORMAT error at `where` (the config that said it).
 */
export function moduleFromWords(name: string, spec: ModuleSpec, where: string, ctx: Partial<MethodContext> = {}, presetName?: string): ModulePlan {
  const problems: string[] = [];
  const mod = compileModule(name, spec, [], { family: null, depth: null, task: 'causal-lm', ...ctx }, (path, message, hint) => {
    problems.push(`${path.length ? `${path.join('.')}: ` : ''}${message}${hint ? ` (${hint})` : ''}`);
  }, presetName);
  if (!mod || problems.length) {
    throw new PeftError('FORMAT', problems.join('; ') || 'the adapter names no function', { where, hint: 'is this adapter for this backbone and this version of peft?' });
  }
  return mod;
}
