// Which layout an adapter directory has, so that a command taking an adapter accepts both: Python
// peft's (adapter_config.json with peft_type + adapter_model.safetensors, also ours) or
// AdapterHub's (adapter_config.json wrapping `config` + adapter.safetensors).
import type { TaskModel } from '../backbones/types.js';
import { loadAdapter, type LoadedAdapter } from './peft/load.js';
import { isAdapterHubDir } from './adapterhub/config.js';
import { loadAdapterHub } from './adapterhub/load.js';

export type AdapterLayout = 'peft' | 'adapterhub';

export function adapterLayout(dir: string): AdapterLayout {
  return isAdapterHubDir(dir) ? 'adapterhub' : 'peft';
}

/** Loads an adapter directory of either layout onto `model`. */
export function loadAnyAdapter(dir: string, model: TaskModel, seed = 0): LoadedAdapter {
  return adapterLayout(dir) === 'adapterhub' ? loadAdapterHub(dir, model, seed) : loadAdapter(dir, model, seed);
}
