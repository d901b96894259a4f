// Our own adapter type, UNIFIED_VIEW, for every method Python peft has no type for (bottleneck
// and parallel adapters, MAM, ungated prefixes, mixes, unfrozen backbone parts). Same layout as
// peft's files: adapter_config.json holds the method plan as stored (a prefix MLP collapsed to
// plain prefixes), the tensors keep our internal names under `base_model.model.`, and backbone
// parameters that trained are saved in full under their own names. modules_to_save lists them as
// Python peft does, by module (`score`, not `score.weight`); a module only some of whose
// parameters trained (biases alone) is listed by those parameters. Both forms load. A selection's
// trained entries are sparse deltas (selection-entries.ts).
import type { MethodPlan } from '../../../plan/index.js';
import type { TaskModel } from '../../backbones/types.js';
import { PEFT_TASK_TYPES, UNIFIED_PEFT_TYPE, type AdapterEntry, type AdapterFormat } from './types.js';
import { backboneParams, paramEntry, storedBuffers, storedMethod, storedValue } from './entries.js';
import { PEFT_PREFIX, unifiedName } from './names.js';
import { selectionEntries, selectionFromConfig, storedSelection } from './selection-entries.js';
import { PeftError } from '../../../errors.js';

export const PEFT_TS_VERSION = '0.1.0';

export const UNIFIED_FORMAT: AdapterFormat = {
  type: UNIFIED_PEFT_TYPE,
  promptLearning: false,
  keys: ['modules_to_save', 'method', 'backbone_family', 'peft_ts_version', 'selection'],
  expresses: () => true,
  config(peft, baseModel, backboneNames) {
    return {
      peft_type: UNIFIED_PEFT_TYPE,
      task_type: PEFT_TASK_TYPES[peft.model.task],
      base_model_name_or_path: baseModel,
      inference_mode: true,
      modules_to_save: backboneNames.length > 0 ? modulesOf(peft.model, backboneNames) : null,
      method: storedMethod(peft.method),
      backbone_family: peft.model.family,
      peft_ts_version: PEFT_TS_VERSION,
      ...(peft.selection ? { selection: storedSelection(peft) } : {}),
    };
  },
  method(model, cfg, warnings) {
    const method = cfg.method as MethodPlan;
    if (!method || typeof method !== 'object' || !Array.isArray(method.modules)) {
      throw new PeftError('FORMAT', 'adapter_config.json has no method plan', { where: 'adapter_config.json: method' });
    }
    const backboneNames = Array.isArray(cfg.modules_to_save) ? paramsOf(model, cfg.modules_to_save.map(String), warnings) : [];
    return { method, backboneNames, selectionLayout: method.select ? selectionFromConfig(cfg) : undefined };
  },
  entries(peft, backboneNames) {
    const out: AdapterEntry[] = [];
    const collapsed = new Map<string, (typeof peft.modules)[number]>();
    for (const m of peft.modules) if (m.storedShapes && m.storedTensors) for (const n of m.storedShapes.keys()) collapsed.set(n, m);
    const moduleWide = (name: string) => peft.modules.some((m) => m.storedTensors && name.startsWith(`${m.plan.name}.`));
    for (const [name, p] of peft.store.namedParams()) {
      if (collapsed.has(name) || moduleWide(name) || peft.selection?.owns(name)) continue;
      out.push(paramEntry(unifiedName(name), p));
    }
    // frozen tensors a module keeps in the file (save_projection, CorDA's initial pair, grown ranks)
    for (const [name, b] of storedBuffers(peft)) out.push(paramEntry(unifiedName(name), b));
    for (const [name, m] of collapsed) {
      const shape = m.storedShapes!.get(name)!;
      out.push({
        name: unifiedName(name), shape,
        get: () => storedValue(peft, m, name),
        set: () => {
          throw new PeftError('RUN', 'a reparameterised module cannot be set from its stored form', { where: name });
        },
      });
    }
    out.push(...selectionEntries(peft));
    for (const [name, p] of backboneParams(peft, backboneNames)) out.push(paramEntry(PEFT_PREFIX + name, p));
    return out;
  },
};

/** Parameter names → modules_to_save entries: a module when all its parameters (and moving buffers: batch-norm statistics) are listed, else the parameters. */
export function modulesOf(model: TaskModel, names: readonly string[]): string[] {
  const listed = new Set(names);
  const all = [...model.root.namedParams(), ...model.root.namedBuffers()].map(([n]) => n);
  const out: string[] = [];
  for (const name of names) {
    const module = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : name;
    const members = all.filter((n) => n.startsWith(`${module}.`));
    const entry = members.length > 0 && members.every((n) => listed.has(n)) ? module : name;
    if (!out.includes(entry)) out.push(entry);
  }
  return out;
}

/** Task heads (Hugging Face names): an adapter trained for one task may be applied to another's model. */
const TASK_HEADS = new Set(['score', 'classifier', 'qa_outputs', 'lm_head']);

/** modules_to_save entries → parameter names: a parameter as it is, a module as all its parameters. */
function paramsOf(model: TaskModel, entries: readonly string[], warnings?: string[]): string[] {
  const all = [...model.root.namedParams(), ...model.root.namedBuffers()].map(([n]) => n);
  const out: string[] = [];
  for (const e of entries) {
    const hits = all.includes(e) ? [e] : all.filter((n) => n.startsWith(`${e}.`));
    if (hits.length === 0 && TASK_HEADS.has(e.split('.')[0]!)) {
      // the head of the task the adapter was trained for, absent from this task's model: its body applies
      warnings?.push(`adapter_config.json: modules_to_save: ${e} is the task head of another task; this ${model.task} model has none, so it is not used`);
      continue;
    }
    if (hits.length === 0) {
      throw new PeftError('FORMAT', `modules_to_save names ${JSON.stringify(e)}, which is no module or parameter of this ${model.family} backbone`, {
        where: 'adapter_config.json: modules_to_save', hint: 'is this adapter for this backbone?',
      });
    }
    for (const h of hits) if (!out.includes(h)) out.push(h);
  }
  return out;
}
