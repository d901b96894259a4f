// Reading an adapter directory (ours or Python peft's) onto a backbone: the config becomes a
// method plan, the plan is injected like any recipe's, and the tensors are set by name.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors } from '../safetensors.js';
import { injectMethod, type PeftModel } from '../../methods/inject.js';
import type { TaskModel } from '../../backbones/types.js';
import type { MethodPlan } from '../../../recipes/types.js';
import { PeftError } from '../../../errors.js';
import { fileNames } from './codec.js';
import { loraModuleFromConfig } from './lora-config.js';
import { PEFT_PREFIX } from './names.js';
import { UNIFIED_PEFT_TYPE } from './types.js';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from './save.js';

/** Keys of peft's LoraConfig we understand (others: a warning, not a failure). */
const LORA_KEYS = new Set([
  'alpha_pattern', 'auto_mapping', 'base_model_name_or_path', 'bias', 'fan_in_fan_out', 'inference_mode',
  'init_lora_weights', 'layers_pattern', 'layers_to_transform', 'loftq_config', 'lora_alpha', 'lora_dropout',
  'megatron_config', 'megatron_core', 'modules_to_save', 'peft_type', 'r', 'rank_pattern', 'revision',
  'target_modules', 'task_type', 'use_rslora', 'use_dora', 'peft_version', 'exclude_modules', 'lora_bias',
  'eva_config', 'corda_config', 'layer_replication', 'runtime_config', 'trainable_token_indices', 'target_parameters',
]);

export interface LoadedAdapter {
  peft: PeftModel;
  type: string;
  warnings: string[];
}

export function readAdapterConfig(dir: string): Record<string, unknown> {
  const file = join(dir, ADAPTER_CONFIG);
  if (!existsSync(file)) {
    throw new PeftError('FILE', `no ${ADAPTER_CONFIG}`, { where: dir, hint: 'point at a directory saved by peft or by Python peft' });
  }
  try {
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) throw new Error('not an object');
    return cfg as Record<string, unknown>;
  } catch (e) {
    throw new PeftError('FORMAT', `${ADAPTER_CONFIG} is not a JSON object (${(e as Error).message})`, { where: file });
  }
}

function methodFromConfig(model: TaskModel, cfg: Record<string, unknown>, warnings: string[]): { method: MethodPlan; backboneNames: string[] } {
  const type = String(cfg.peft_type ?? '');
  const mts = Array.isArray(cfg.modules_to_save) ? cfg.modules_to_save.map(String) : [];
  if (type === 'LORA') {
    for (const k of Object.keys(cfg)) if (!LORA_KEYS.has(k)) warnings.push(`adapter_config.json: unknown key "${k}" ignored (written by a newer tool?)`);
    for (const k of ['rank_pattern', 'alpha_pattern'] as const) {
      const v = cfg[k];
      if (v && typeof v === 'object' && Object.keys(v).length > 0) {
        throw new PeftError('FORMAT', `${k} is not supported yet`, { where: `adapter_config.json: ${k}`, hint: 'use one rank for all modules' });
      }
    }
    const { plan } = loraModuleFromConfig(model, cfg);
    const trainHead = mts.length > 0;
    return { method: { preset: 'lora', modules: [plan], unfreeze: [], trainHead }, backboneNames: [] };
  }
  if (type === UNIFIED_PEFT_TYPE) {
    const method = cfg.method as MethodPlan;
    if (!method || !Array.isArray(method.modules)) throw new PeftError('FORMAT', 'adapter_config.json has no method plan', { where: 'adapter_config.json: method' });
    return { method, backboneNames: mts };
  }
  throw new PeftError('FORMAT', `adapter type ${JSON.stringify(cfg.peft_type)} is not supported`, {
    where: 'adapter_config.json: peft_type', hint: `supported: LORA, ${UNIFIED_PEFT_TYPE}`,
  });
}

/** Loads the adapter in `dir` onto `model` (whose backbone weights are loaded). */
export function loadAdapter(dir: string, model: TaskModel, seed = 0): LoadedAdapter {
  const cfg = readAdapterConfig(dir);
  const warnings: string[] = [];
  const { method, backboneNames } = methodFromConfig(model, cfg, warnings);
  const peft = injectMethod(model, method, seed);
  const weightsFile = join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(weightsFile)) throw new PeftError('FILE', `no ${ADAPTER_WEIGHTS}`, { where: dir });
  const file = openSafetensors(weightsFile);
  const type = String(cfg.peft_type);
  const names = fileNames(peft, type === 'LORA' ? 'LORA' : UNIFIED_PEFT_TYPE, backboneNames);
  const params = new Map([...peft.store.namedParams(), ...model.root.namedParams()]);
  const used = new Set<string>();
  for (const [ours, fileName] of names) {
    if (!file.has(fileName)) {
      throw new PeftError('FORMAT', 'tensor missing from the adapter', { where: `${weightsFile}: ${fileName}`, hint: 'the file does not match its adapter_config.json' });
    }
    const p = params.get(ours)!;
    const info = file.info(fileName);
    if (info.shape.join(',') !== p.shape.join(',')) {
      throw new PeftError('SHAPE', `expected shape [${p.shape}], found [${info.shape}]`, { where: `${weightsFile}: ${fileName}` });
    }
    p.set(tf.tensor(file.read(fileName), info.shape));
    used.add(fileName);
  }
  // modules_to_save of Python peft: the head's full copy, saved under base_model.model.<name>
  if (method.trainHead) {
    for (const [name, p] of model.root.namedParams()) {
      if (!model.headPrefixes.some((h) => name === h || name.startsWith(h + '.'))) continue;
      const fileName = [PEFT_PREFIX + name, 'base_model.' + name].find((n) => file.has(n));
      if (!fileName) continue;
      p.set(tf.tensor(file.read(fileName), file.info(fileName).shape));
      used.add(fileName);
    }
  }
  for (const n of file.names()) if (!used.has(n)) warnings.push(`${ADAPTER_WEIGHTS}: tensor ${n} was not used`);
  return { peft, type, warnings };
}
