// What a recipe or a backbone directory amounts to, from config.json alone: the backbone's
// exact parameter count, and for a recipe the modules per position and layer with their
// trainable parameters (during training), stored parameters (in the adapter file) and the
// adapter file's size in bytes.
// No weights are read and no tensors are allocated: parameters only have shapes here.
import { join } from 'node:path';
import type { Plan } from '../plan/index.js';
import { buildBackbone, countParams, familyFor, readModelConfig, resolveModelDir, taskOptionsOf, type TaskModel } from './backbones/index.js';
import { injectMethod } from './methods/inject.js';
import { isHeadParam, layerOf } from './methods/trainable.js';
import { resolveLayers, selectText } from '../plan/index.js';
import { selectionCandidates } from './selection/candidates.js';
import { budgetCount } from './selection/choose.js';
import { drawHalf } from './selection/half.js';
import { layerTensors } from './selection/candidates.js';
import { paperParams, paperPercent } from './paper-budget.js';
import { adapterSize } from './adapters/peft/save.js';

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
  /** Of the trainable ones, those shared by all its sites (a vector bank, shard pools, a subspace's d). */
  shared_params: number;
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
  /** The type the adapter is saved as (LORA, VERA, UNIFIED_VIEW, …). */
  adapter_type: string;
  /** Bytes of adapter_model.safetensors as training would write it (tensors of the stored shapes, F32). */
  adapter_bytes: number;
  /** Bytes of adapter_config.json (the seed of regenerated tensors lives there). */
  adapter_config_bytes: number;
  /** Python peft's print_trainable_parameters() line. */
  peft_line: string;
  /** The method's selection: its candidate weights and, where the budget fixes it, the entries each gets. */
  selection: SelectionPlanReport | null;
}

export interface SelectionPlanReport {
  text: string;
  candidates: number;
  /** Entries selected in all (null when only training decides: data-ranked entries, learned masks). */
  entries: number | null;
  /** Parameters the selection trains (selected values, a learned mask's scores, whole tensors), when known before training. */
  trainable: number | null;
  /** Values the adapter file will hold for it (an index and a delta per entry, or whole tensors), when known. */
  stored: number | null;
  weights: { weight: string; total: number; selected: number | null }[];
}

/** What a selection will choose, as far as the plan and the shapes say. */
function selectionReport(model: TaskModel, plan: Plan['method'], seed: number): SelectionPlanReport | null {
  const s = plan.select;
  if (!s) return null;
  const cands = selectionCandidates(model, s);
  const fixed = s.budget && s.scope === 'matrix' && s.criterion !== 'sensitivity' ? s.budget : null;
  let weights = cands.map((c) => ({ weight: c.name, total: c.param.size, selected: fixed ? budgetCount(fixed, c.param.size) : null }));
  const candidates = weights.reduce((n, w) => n + w.total, 0);
  let entries = fixed ? weights.reduce((n, w) => n + (w.selected ?? 0), 0)
    : s.budget && s.criterion !== 'sensitivity' ? budgetCount(s.budget, candidates) : null;
  let trainable = s.criterion === 'learned' ? candidates : entries;
  if (s.criterion === 'half') {
    // the draw needs names only: the tensors of every round, whole
    const chosen = new Set(Array.from({ length: s.options.rounds }, (_, r) => drawHalf(layerTensors(model, cands, s.options.norms), seed, r)).flat());
    const sizes = new Map(model.root.namedParams().map(([n, p]) => [n, p.size]));
    weights = [...chosen].map((n) => ({ weight: n, total: sizes.get(n)!, selected: sizes.get(n)! }));
    entries = weights.reduce((n, w) => n + w.total, 0);
    trainable = entries;
  }
  const stored = s.criterion === 'half' ? entries : s.criterion === 'learned' || entries === null ? null : 2 * entries;
  return { text: selectText(s), candidates, entries, trainable, stored, weights };
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
  const resolved = resolveModelDir(dir);
  return familyFor(readModelConfig(resolved), join(resolved, 'config.json')).info.tasks[0];
}

export function inspectPlan(plan: Plan): InspectReport {
  const { dir, model } = buildBackbone(plan.backbone.path, taskOptionsOf(plan));
  const peft = injectMethod(model, plan.method, plan.seed, { shapesOnly: true });
  const storeParams = peft.store.namedParams();
  const storedBuffers = peft.store.namedBuffers().filter(([, b]) => b.tags.has('stored'));
  const modules: ModuleReport[] = peft.modules.map((m) => {
    const byPos = new Map<string, ModuleReport['positions'][number]>();
    let trainable = 0;
    let all = 0;
    const shapes: (readonly number[])[] = [];
    for (const site of m.sites) {
      const prefix = `${site.path}.${m.plan.name}.`;
      const own = storeParams.filter(([name]) => name.startsWith(prefix));
      shapes.push(...own.map(([, p]) => p.shape));
      const n = own.reduce((a, [, p]) => a + p.size, 0);
      all += n;
      trainable += own.reduce((a, [, p]) => a + (p.tags.has('frozen') ? 0 : p.size), 0);
      const key = `${site.stack}:${site.position}`;
      const e = byPos.get(key) ?? { position: site.position, stack: site.stack, layers: [], sites: 0, params: 0 };
      e.sites++;
      e.params += n;
      if (site.layer >= 0 && !e.layers.includes(site.layer)) e.layers.push(site.layer);
      byPos.set(key, e);
    }
    const mine = (name: string) => name.startsWith(`${m.plan.name}.`) || m.sites.some((site) => name.startsWith(`${site.path}.${m.plan.name}.`));
    const moduleWide = storeParams.filter(([name]) => name.startsWith(`${m.plan.name}.`)).reduce((a, [, p]) => a + p.size, 0);
    trainable += moduleWide;
    all += moduleWide;
    // frozen tensors the adapter file keeps (save_projection, CorDA's initial pair, grown ranks);
    // frozen parameters (an orthogonal basis) are stored though they do not train
    const keptBuffers = storedBuffers.filter(([name]) => mine(name)).reduce((a, [, b]) => a + b.size, 0);
    let stored = m.storedShapes ? [...m.storedShapes.values()].reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0) : all + keptBuffers;
    if (m.counts) ({ trainable, stored } = m.counts());
    const paper = paperParams(m.storedShapes ? [...m.storedShapes.values()] : shapes);
    return {
      name: m.plan.name, function: m.plan.function, positions: [...byPos.values()], trainable_params: trainable, shared_params: moduleWide, stored_params: stored, paper_params: paper,
    };
  });
  let unfrozen = 0;
  let head = 0;
  const backboneNames: string[] = [];
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
    if (train) backboneNames.push(name);
  }
  const selection = selectionReport(model, plan.method, plan.seed);
  const file = adapterSize(peft, { baseModel: plan.backbone.path, backboneNames });
  const adapterTrainable = modules.reduce((a, m) => a + m.trainable_params, 0) + (selection?.trainable ?? 0);
  const adapterStored = modules.reduce((a, m) => a + m.stored_params, 0) + (selection?.stored ?? 0);
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
    adapter_type: file.type,
    adapter_bytes: file.weights,
    adapter_config_bytes: file.config,
    peft_line: `trainable params: ${trainable.toLocaleString('en-US')} || all params: ${all.toLocaleString('en-US')} || trainable%: ${((100 * trainable) / all).toFixed(4)}`,
    selection,
  };
}
