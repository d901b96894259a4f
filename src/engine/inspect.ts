// What a recipe or a backbone directory amounts to, from config.json alone: the backbone's
// exact parameter count, and for a recipe the modules per position and layer with their
// trainable parameters (during training) and stored parameters (in the adapter file).
// No weights are read and no tensors are allocated: parameters only have shapes here.
import type { Plan } from '../plan/index.js';
import { buildBackbone, countParams, familyFor, readModelConfig, resolveModelDir, taskOptionsOf, type TaskModel } from './backbones/index.js';
import { injectMethod } from './methods/inject.js';
import { isHeadParam, layerOf } from './methods/trainable.js';
import { resolveLayers } from '../plan/index.js';
import { paperParams, paperPercent } from './paper-budget.js';

export interface BackboneReport {
  dir: string;
  family: string;
  architecture: string;
  task: string;
  /** The base model's parameters (transformers' XxxModel), tied weights counted once. */
  total_params: number;
  /** With the task head (XxxForYyy). */
  task_params: number;
  dims: TaskModel['dims'];
}

export interface ModuleReport {
  name: string;
  function: string;
  positions: { position: string; stack: string; layers: number[]; sites: number; params: number }[];
  trainable_params: number;
  stored_params: number;
  /** He et al.'s count (App. B): the stored weight matrices, no biases (see paper-budget.ts). */
  paper_params: number;
}

export interface InspectReport extends BackboneReport {
  modules: ModuleReport[];
  unfrozen_params: number;
  head_params: number;
  trainable_params: number;
  stored_params: number;
  trainable_percent: number;
  stored_percent: number;
  /** He et al.'s count: the modules' stored weight matrices (no biases) plus unfrozen backbone parameters. */
  paper_params: number;
  /** paper_params over the backbone's parameters, truncated as the paper prints it (6.7, 0.47). */
  paper_percent: number;
  /** Python peft's print_trainable_parameters() line. */
  peft_line: string;
}

function baseParams(model: TaskModel): number {
  if (model.baseModelParams !== undefined) return model.baseModelParams;
  let n = 0;
  for (const [name, p] of model.root.namedParams()) if (!model.headPrefixes.some((h) => name === h || name.startsWith(h + '.')) && !p.tags.has('lm_head')) n += p.size;
  return n;
}

export function inspectBackbone(dir: string, task?: Plan['task']['type']): BackboneReport {
  const { dir: resolved, model } = buildBackbone(dir, { task: task ?? defaultTask(dir) });
  return {
    dir: resolved, family: model.family, architecture: model.architecture, task: model.task,
    total_params: baseParams(model), task_params: countParams(model), dims: model.dims,
  };
}

/** The task a bare backbone directory is inspected as: the first its family supports. */
function defaultTask(dir: string): Plan['task']['type'] {
  const cfg = readModelConfig(resolveModelDir(dir));
  return familyFor(cfg).info.tasks[0];
}

export function inspectPlan(plan: Plan): InspectReport {
  const { dir, model } = buildBackbone(plan.backbone.path, taskOptionsOf(plan));
  const peft = injectMethod(model, plan.method, plan.seed, { shapesOnly: true });
  const storeParams = peft.store.namedParams();
  const modules: ModuleReport[] = peft.modules.map((m) => {
    const byPos = new Map<string, ModuleReport['positions'][number]>();
    let trainable = 0;
    const shapes: (readonly number[])[] = [];
    for (const site of m.sites) {
      const prefix = `${site.path}.${m.plan.name}.`;
      const own = storeParams.filter(([name]) => name.startsWith(prefix));
      shapes.push(...own.map(([, p]) => p.shape));
      const n = own.reduce((a, [, p]) => a + p.size, 0);
      trainable += n;
      const key = `${site.stack}:${site.position}`;
      const e = byPos.get(key) ?? { position: site.position, stack: site.stack, layers: [], sites: 0, params: 0 };
      e.sites++;
      e.params += n;
      if (site.layer >= 0 && !e.layers.includes(site.layer)) e.layers.push(site.layer);
      byPos.set(key, e);
    }
    const moduleWide = storeParams.filter(([name]) => name.startsWith(`${m.plan.name}.`)).reduce((a, [, p]) => a + p.size, 0);
    trainable += moduleWide;
    const stored = m.storedShapes ? [...m.storedShapes.values()].reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0) : trainable;
    const paper = paperParams(m.storedShapes ? [...m.storedShapes.values()] : shapes);
    return {
      name: m.plan.name, function: m.plan.function, positions: [...byPos.values()], trainable_params: trainable, stored_params: stored, paper_params: paper,
    };
  });
  let unfrozen = 0;
  let head = 0;
  for (const [name, p] of model.root.namedParams()) {
    const isHead = isHeadParam(peft, name);
    let train = peft.method.trainHead && isHead;
    for (const u of peft.method.unfreeze) {
      const layer = layerOf(name);
      const inLayers = layer === null ? u.layers === 'all' : resolveLayers(u.layers, model.dims.layers).includes(layer);
      if (!inLayers) continue;
      if (u.target === 'all' || (u.target === 'head' && (isHead || p.tags.has('lm_head'))) || (u.target === 'norms' && p.tags.has('norm'))
        || (u.target === 'biases' && p.tags.has('bias')) || (u.target === 'embeddings' && p.tags.has('embedding'))) train = true;
    }
    if (train && isHead) head += p.size;
    else if (train) unfrozen += p.size;
  }
  const adapterTrainable = modules.reduce((a, m) => a + m.trainable_params, 0);
  const adapterStored = modules.reduce((a, m) => a + m.stored_params, 0);
  const total = countParams(model);
  const base = baseParams(model);
  const trainable = adapterTrainable + unfrozen + head;
  const stored = adapterStored + unfrozen + head;
  const paper = modules.reduce((a, m) => a + m.paper_params, 0) + unfrozen;
  // Python peft counts the adapter's parameters into "all params"
  const all = total + adapterTrainable;
  return {
    dir, family: model.family, architecture: model.architecture, task: model.task,
    total_params: base, task_params: total, dims: model.dims,
    modules, unfrozen_params: unfrozen, head_params: head,
    trainable_params: trainable, stored_params: stored,
    trainable_percent: (100 * trainable) / base,
    stored_percent: (100 * stored) / base,
    paper_params: paper,
    paper_percent: paperPercent((100 * paper) / base),
    peft_line: `trainable params: ${trainable.toLocaleString('en-US')} || all params: ${all.toLocaleString('en-US')} || trainable%: ${((100 * trainable) / all).toFixed(4)}`,
  };
}
