// Loading an AdapterHub adapter directory (adapter_config.json + adapter.safetensors, as
// `save_adapter` writes them) onto a backbone: its configuration becomes our method — written as a
// recipe's `method.modules` would be, and planned and injected by the same code as any recipe — and
// every parameter is set from the file by AdapterHub's tensor names. The result has the shape of
// Python peft adapters' `loadAdapter`, so callers take either layout (see detect.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors } from '../../io/safetensors.js';
import { injectMethod } from '../../methods/inject.js';
import type { TaskModel } from '../../backbones/types.js';
import type { MethodPlan } from '../../../plan/index.js';
import { compileMethod } from '../../../plan/index.js';
import { catalogEntry } from '../../../plan/index.js';
import { PeftError } from '../../../errors.js';
import type { LoadedAdapter } from '../peft/load.js';
import { HUB_PICKLE, HUB_WEIGHTS, readHubWrapper, type HubWrapper } from './config.js';
import { checkFamily } from './locations.js';
import { bottleneckModules } from './bn-config.js';
import { loraModules } from './lora-config.js';
import { prefixModules } from './prefix-config.js';
import { promptModules } from './prompt-config.js';
import type { HubContext, HubModule } from './types.js';

type Obj = Record<string, unknown>;

/** The library also saves each prefix under every attention's pool: the same values, read once. */
const DUPLICATE = /\.prefix_tuning\.pool\.prefix_tunings\./;

function translate(cfg: Obj, where: string, ctx: HubContext, taken: Set<string>): HubModule[] {
  const arch = cfg.architecture ?? 'bottleneck';
  const unique = (base: string) => {
    let n = base;
    for (let i = 2; taken.has(n); i++) n = `${base}${i}`;
    taken.add(n);
    return n;
  };
  switch (arch) {
    case 'bottleneck': return bottleneckModules(cfg, where, ctx, unique('adapter'));
    case 'prefix_tuning': return prefixModules(cfg, where, ctx, unique('prefix'));
    case 'lora': return loraModules(cfg, where, ctx, unique(cfg.composition_mode === 'scale' ? 'ia3' : 'lora'));
    case 'prompt_tuning': return promptModules(cfg, where, ctx, unique('prompt'));
    case 'union': {
      const parts = Array.isArray(cfg.configs) ? cfg.configs : [];
      if (parts.length === 0) throw new PeftError('FORMAT', 'a union with no configs', { where: `${where}.configs` });
      return parts.flatMap((p, i) => {
        if (!p || typeof p !== 'object' || (p as Obj).architecture === 'union') {
          throw new PeftError('FORMAT', 'a union member must be one adapter configuration', { where: `${where}.configs[${i}]` });
        }
        return translate(p as Obj, `${where}.configs[${i}]`, ctx, taken);
      });
    }
    default:
      throw new PeftError('FORMAT', `AdapterHub architecture "${String(arch)}" is not supported`, {
        where: `${where}.architecture`, hint: 'supported: bottleneck (seq_bn, double_seq_bn, par_bn, …), prefix_tuning, lora, ia3, prompt_tuning, union (mam)',
      });
  }
}

/** What the AdapterHub configuration amounts to in our vocabulary: the method and its modules. */
export function hubMethod(w: HubWrapper, model: TaskModel, warnings: string[]): { method: MethodPlan; modules: HubModule[] } {
  const where = `${w.file}: config`;
  checkFamily(model, where);
  if (w.hiddenSize !== null && w.hiddenSize !== model.dims.hidden) {
    throw new PeftError('SHAPE', `the adapter was made for hidden size ${w.hiddenSize}, this backbone has ${model.dims.hidden}`, {
      where: `${w.file}: hidden_size`, hint: 'load it onto the backbone it was trained on',
    });
  }
  const modelType = String(model.config.model_type ?? model.family);
  if (w.modelType && w.modelType !== modelType) warnings.push(`${w.file}: made for model_type ${w.modelType}, loaded onto ${modelType}`);
  const ctx: HubContext = { model, adapter: w.name, version: w.version, warnings };
  const modules = translate(w.config, where, ctx, new Set());
  const doc = { modules: Object.fromEntries(modules.map((m) => [m.name, m.spec])), train_head: false };
  const problems: string[] = [];
  const method = compileMethod(doc, { family: catalogEntry(modelType), depth: model.dims.layers, task: model.task }, (path, message) => {
    problems.push(`${path.join('.')}: ${message}`);
  });
  if (problems.length > 0) {
    throw new PeftError('FORMAT', `the AdapterHub configuration does not fit this ${model.family} backbone: ${problems[0]}`, { where });
  }
  return { method, modules };
}

/** Loads the AdapterHub adapter in `dir` onto `model` (whose backbone weights are loaded). */
export function loadAdapterHub(dir: string, model: TaskModel, seed = 0): LoadedAdapter {
  const w = readHubWrapper(dir);
  const warnings: string[] = [];
  const { method, modules } = hubMethod(w, model, warnings);
  const weightsFile = join(dir, HUB_WEIGHTS);
  if (!existsSync(weightsFile)) {
    throw new PeftError('FILE', `no ${HUB_WEIGHTS}`, {
      where: dir,
      hint: existsSync(join(dir, HUB_PICKLE)) ? `${HUB_PICKLE} is a pickle, which is not read here: save it as safetensors (the same names) first` : undefined,
    });
  }
  const peft = injectMethod(model, method, seed, { noInit: true });
  const params = new Map(peft.store.namedParams());
  const file = openSafetensors(weightsFile);
  const used = new Set<string>();
  for (const inj of peft.modules) {
    const hub = modules.find((m) => m.name === inj.plan.name)!;
    for (const b of hub.bindings(inj, params)) {
      const name = b.names.find((n) => file.has(n));
      if (!name) {
        throw new PeftError('FORMAT', 'tensor missing from the adapter', { where: `${weightsFile}: ${b.names[0]}`, hint: 'the file does not match its adapter_config.json' });
      }
      const info = file.info(name);
      if (info.shape.join(',') !== b.shape.join(',')) {
        throw new PeftError('SHAPE', `expected shape [${b.shape}], found [${info.shape}]`, { where: `${weightsFile}: ${name}` });
      }
      b.set(tf.tensor(file.read(name), info.shape));
      for (const n of b.names) if (file.has(n)) used.add(n);
    }
  }
  const unset = peft.store.namedParams().filter(([, p]) => !p.loaded).map(([n]) => n);
  if (unset.length > 0) {
    throw new PeftError('FORMAT', `the adapter has no values for ${unset.length} parameter(s) of its method`, {
      where: `${weightsFile}: ${unset[0]}`, hint: 'the file does not match its adapter_config.json',
    });
  }
  for (const n of file.names()) if (!used.has(n) && !DUPLICATE.test(n)) warnings.push(`${HUB_WEIGHTS}: tensor ${n} was not used`);
  if (existsSync(join(dir, 'head_config.json'))) warnings.push('the adapter directory has a prediction head; it is not loaded (the backbone\'s own head is used)');
  const kinds = [...new Set(modules.map((m) => String(m.spec.function)))].join('+');
  return { peft, type: `adapterhub:${kinds}`, backboneNames: [], warnings };
}
