// The unified-view injector: for each module of the plan, find the backbone's sites its positions
// and layers select, let the function kind build its parameters there, and collect the
// attachments the forward pass calls. Every method goes through this one path.
import * as tf from '@tensorflow/tfjs-core';
import { Container } from '../nn/module.js';
import { ForwardContext, type Attachment } from '../nn/context.js';
import type { SiteInfo, TaskModel } from '../backbones/types.js';
import type { MethodPlan, ModulePlan } from '../../plan/index.js';
import { parsePosition, positionMatches, resolveLayers, functionMisfit, completeModule } from '../../plan/index.js';
import { MODULES } from './registry.js';
import type { BuiltModule, Calibration, FunctionModule } from './types.js';
import { seededInit, shapesOnly } from './init.js';
import { Selection, type GradContext, type SelectionLayout } from '../selection/selection.js';
import { PeftError } from '../../errors.js';

export interface InjectedModule {
  plan: ModulePlan;
  sites: SiteInfo[];
  storedShapes?: Map<string, number[]>;
  /** Values of the stored tensors when they differ from the parameters (see BuiltModule). */
  storedTensors?: () => Map<string, tf.Tensor>;
  /** Counts the shapes do not say (see BuiltModule.counts). */
  counts?: () => { trainable: number; stored: number };
}

export interface PeftModel {
  model: TaskModel;
  method: MethodPlan;
  /** The PEFT modules' parameters (names `<site path>.<module>.<param>`). */
  store: Container;
  attachments: Map<string, Attachment[]>;
  modules: InjectedModule[];
  positionOffset: number;
  /** A forward context with the modules attached. */
  context(opts: { training: boolean; seed?: number; taskIds?: readonly number[] | null }): ForwardContext;
  /** Runs every module's after-step hook (see BuiltModule.afterStep). */
  afterStep(info: { step: number; totalSteps: number; grads: Map<string, tf.Tensor> }): void;
  /** Sum of the modules' training regularisers, or null when none has one. */
  extraLoss(): tf.Scalar | null;
  /** The modules' training state beyond parameters (for checkpoints); arrays named `<module index>.<name>`. */
  trainingState(): { meta: Record<string, unknown>; arrays: Map<string, Float32Array> };
  restoreTrainingState(meta: Record<string, unknown> | undefined, read: (name: string) => Float32Array | null): void;
  /** The modules that initialise from data (CorDA), or null when none does. */
  calibration: Calibration | null;
  /** The method's selection of backbone weights (method.select), or null. */
  selection: Selection | null;
  /** One micro-batch's gradients as the selection adjusts them (HFT's rounds, R-AMT's gradient dropout). */
  adjustGrads(grads: Map<string, tf.Tensor>, g: GradContext): Map<string, tf.Tensor>;
}

function stackDepths(sites: SiteInfo[]): Map<string, number> {
  const depth = new Map<string, number>();
  for (const s of sites) if (s.layer >= 0) depth.set(s.stack, Math.max(depth.get(s.stack) ?? 0, s.layer + 1));
  return depth;
}

/** The sites of `model` a module plan selects. Throws if a position selects nothing. */
export function matchSites(model: TaskModel, plan: ModulePlan): SiteInfo[] {
  const depths = stackDepths(model.sites);
  const layersByStack = new Map<string, Set<number>>();
  for (const [stack, d] of depths) layersByStack.set(stack, new Set(resolveLayers(plan.layers, d)));
  const out: SiteInfo[] = [];
  for (const pos of plan.positions) {
    const parsed = parsePosition(pos);
    if (!parsed) throw new PeftError('RECIPE', `unknown position "${pos}"`, { where: `method.modules.${plan.name}.position` });
    const found = model.sites.filter((s) =>
      positionMatches(parsed, s.stack, s.position) && (s.layer < 0 || layersByStack.get(s.stack)!.has(s.layer)));
    if (found.length === 0) {
      const available = [...new Set(model.sites.map((s) => s.position))].join(', ');
      throw new PeftError('RECIPE', `position "${pos}" selects no site of this ${model.family} backbone`, {
        where: `method.modules.${plan.name}.position`,
        hint: `this family has: ${available}`,
      });
    }
    for (const s of found) {
      const why = functionMisfit(plan, s.position, s.kind);
      if (why) throw new PeftError('RECIPE', `${plan.function} cannot go at ${s.position}: ${why}`, { where: `method.modules.${plan.name}` });
      const strided = stridedInput(plan, s);
      if (strided) throw new PeftError('RECIPE', `${plan.function} cannot read x at ${s.path}: ${strided}`, { where: `method.modules.${plan.name}`, hint: 'use insertion: sequential there, or another position' });
      if (!out.includes(s)) out.push(s);
    }
  }
  return out;
}

/**
 * Why a parallel module cannot read x at a site whose h is on a coarser grid (a strided
 * convolution, a downsampling block): x and h differ in size. A low-rank update of a convolution
 * kernel convolves x like the site, so it can.
 */
function stridedInput(plan: ModulePlan, s: SiteInfo): string | null {
  if (plan.insertion !== 'parallel' || !s.stride || s.stride <= 1) return null;
  if (plan.function === 'lowrank' && s.kind === 'conv') return null;
  return `h is ${s.stride}× coarser than x there (a downsampling ${s.kind === 'conv' ? 'convolution' : 'block'})`;
}

export interface InjectOptions {
  /** Parameters get shapes and no values, and nothing is regenerated or derived (inspect). */
  shapesOnly?: boolean;
  /** Parameters are left unset (an adapter file sets them), but frozen tensors are made (loading). */
  noInit?: boolean;
  /** The backbone's tokenizer, for modules initialised from text (prompt `init: text`). */
  tokenize?: (text: string) => number[];
  /** A selection's layout read from an adapter file (its values follow from the file's tensors). */
  selectionLayout?: SelectionLayout;
}

export function injectMethod(model: TaskModel, methodIn: MethodPlan, seed: number, opts: InjectOptions = {}): PeftModel {
  // plans recorded or saved before an option existed get its default (the module builders trust a decided plan)
  const method: MethodPlan = { ...methodIn, modules: methodIn.modules.map(completeModule) };
  const init = opts.shapesOnly || opts.noInit ? shapesOnly : seededInit(seed);
  const values = !opts.shapesOnly;
  const store = new Container();
  const attachments = new Map<string, Attachment[]>();
  const modules: InjectedModule[] = [];
  const hooks: BuiltModule[] = [];
  let positionOffset = 0;
  for (const plan of method.modules) {
    const module = MODULES[plan.function] as FunctionModule<typeof plan.function>;
    const sites = matchSites(model, plan);
    const built = module.build({ plan: plan as never, sites, model, store, seed, init, values, tokenize: opts.tokenize });
    for (const [key, a] of built.attachments) {
      const list = attachments.get(key) ?? [];
      list.push(a);
      attachments.set(key, list);
    }
    positionOffset += built.positionOffset ?? 0;
    hooks.push(built);
    modules.push({ plan, sites, storedShapes: built.storedShapes, storedTensors: built.storedTensors?.bind(built), counts: built.counts?.bind(built) });
  }
  store.nameTree();
  const calibrations = hooks.map((h) => h.calibration).filter((c): c is Calibration => Boolean(c));
  const calibration: Calibration | null = calibrations.length === 0 ? null : {
    batches: Math.max(...calibrations.map((c) => c.batches)),
    start: () => calibrations.forEach((c) => c.start()),
    finish: () => calibrations.forEach((c) => c.finish()),
  };
  // the selection attaches after the modules (it checks that none of them rewrites its weights)
  const selection = method.select ? new Selection(model, method.select, seed, store, attachments) : null;
  if (selection && opts.selectionLayout) selection.apply(opts.selectionLayout, new Map(), false);
  else if (selection && !opts.shapesOnly && !opts.noInit && !selection.needsData) selection.prepare();
  return {
    model, method, store, attachments, modules, positionOffset, calibration, selection,
    context: (opts) => new ForwardContext(attachments, { ...opts, positionOffset }),
    afterStep: (info) => {
      for (const h of hooks) h.afterStep?.(info);
      selection?.afterStep(info);
    },
    extraLoss: () => {
      const terms = [...hooks.map((h) => h.extraLoss?.() ?? null), selection?.extraLoss() ?? null].filter((t): t is tf.Scalar => t !== null);
      return terms.length === 0 ? null : (tf.addN(terms) as tf.Scalar);
    },
    adjustGrads: (grads, g) => (selection ? selection.adjustGrads(grads, g) : grads),
    trainingState: () => {
      const meta: Record<string, unknown> = {};
      const arrays = new Map<string, Float32Array>();
      const add = (key: string, st: { meta: unknown; arrays: Map<string, Float32Array> } | undefined) => {
        if (!st) return;
        meta[key] = st.meta;
        for (const [name, a] of st.arrays) arrays.set(`${key}.${name}`, a);
      };
      hooks.forEach((h, i) => add(String(i), h.trainingState?.()));
      add('select', selection?.trainingState());
      return { meta, arrays };
    },
    restoreTrainingState: (meta, read) => {
      hooks.forEach((h, i) => h.restoreTrainingState?.(meta?.[String(i)], (name) => read(`${i}.${name}`)));
      selection?.restoreTrainingState(meta?.select, (name) => read(`select.${name}`));
    },
  };
}
