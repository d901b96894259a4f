// Reading an adapter directory (ours or Python peft's) onto a backbone: the config becomes a
// method plan, the plan is injected like any recipe's (shapes only), and every parameter is set
// from the file by its format's names. Unknown config keys and unused tensors are warnings.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { injectMethod, type PeftModel } from '../../methods/inject.js';
import type { TaskModel } from '../../backbones/types.js';
import { PeftError } from '../../../errors.js';
import { ADAPTER_TYPES, adapterEntries, formatOfType } from './codec.js';
import { COMMON_KEYS } from './types.js';
import { ADAPTER_CONFIG } from './save.js';
import { ADAPTER_WEIGHTS, openAdapterWeights } from './weights-file.js';

export interface LoadedAdapter {
  peft: PeftModel;
  type: string;
  /** Backbone parameters the adapter replaced in full (modules_to_save of our own type). */
  backboneNames: string[];
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

/** Loads the adapter in `dir` onto `model` (whose backbone weights are loaded). */
export function loadAdapter(dir: string, model: TaskModel, seed = 0): LoadedAdapter {
  const cfg = readAdapterConfig(dir);
  const type = String(cfg.peft_type ?? '');
  const format = formatOfType(type);
  if (!format) {
    throw new PeftError('FORMAT', `adapter type ${JSON.stringify(cfg.peft_type)} is not supported`, {
      where: `${join(dir, ADAPTER_CONFIG)}: peft_type`, hint: `supported: ${ADAPTER_TYPES.join(', ')}`,
    });
  }
  const warnings: string[] = [];
  const known = new Set<string>([...COMMON_KEYS, ...format.keys]);
  for (const k of Object.keys(cfg)) if (!known.has(k)) warnings.push(`${ADAPTER_CONFIG}: unknown key "${k}" ignored (written by a newer tool?)`);
  const { method, backboneNames, selectionLayout } = format.method(model, cfg, warnings);
  if (method.select && !selectionLayout) {
    throw new PeftError('FORMAT', 'the adapter\'s method has a selection but the config does not say which entries it trained', { where: `${join(dir, ADAPTER_CONFIG)}: selection` });
  }
  const peft = injectMethod(model, method, seed, { noInit: true, selectionLayout });

  const { source: file, path: weightsFile } = openAdapterWeights(dir);
  const used = new Set<string>();
  for (const entry of adapterEntries(peft, format, backboneNames)) {
    const name = [entry.name, ...(entry.aliases ?? [])].find((n) => file.has(n));
    if (!name) {
      if (entry.optional) {
        warnings.push(`${ADAPTER_WEIGHTS}: no ${entry.name}; the backbone's own values are kept`);
        continue;
      }
      throw new PeftError('FORMAT', 'tensor missing from the adapter', { where: `${weightsFile}: ${entry.name}`, hint: 'the file does not match its adapter_config.json' });
    }
    const info = file.info(name);
    if (info.shape.join(',') !== entry.shape.join(',')) {
      throw new PeftError('SHAPE', `expected shape [${entry.shape}], found [${info.shape}]`, {
        where: `${weightsFile}: ${name}`, hint: `the adapter was saved for another backbone than this ${model.family} (${String(cfg.base_model_name_or_path ?? 'base model not recorded')})`,
      });
    }
    const integer = !['F32', 'F16', 'BF16', 'F64'].includes(info.dtype);
    entry.set(integer ? tf.tensor(file.readInt32(name), info.shape, 'int32') : tf.tensor(file.read(name), info.shape));
    used.add(name);
  }
  const unset = peft.store.namedParams().filter(([, p]) => !p.loaded).map(([n]) => n);
  if (unset.length > 0) {
    throw new PeftError('FORMAT', `the adapter has no values for ${unset.length} parameter(s) of its method`, {
      where: `${weightsFile}: ${unset[0]}`, hint: 'the file does not match its adapter_config.json',
    });
  }
  for (const n of file.names()) if (!used.has(n)) warnings.push(`${ADAPTER_WEIGHTS}: tensor ${n} was not used`);
  return { peft, type, backboneNames, warnings };
}
