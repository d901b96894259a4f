// AdapterHub's saved adapter directory: adapter_config.json wraps the adapter's configuration
// (`{config: {...}, name, model_type, hidden_size, version, …}`, as `save_adapter` writes it) next
// to adapter.safetensors. Reading the wrapper, and one architecture's config with its keys checked:
// an unknown key is a warning (a newer library), a known key with a value we do not compute is an
// error naming it (never silently a different model).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PeftError } from '../../../errors.js';

export const HUB_CONFIG = 'adapter_config.json';
export const HUB_WEIGHTS = 'adapter.safetensors';
/** The library's default (pickle) weights file: not readable here. */
export const HUB_PICKLE = 'pytorch_adapter.bin';

export interface HubWrapper {
  /** The adapter configuration (`AdapterConfig.to_dict()`). */
  config: Record<string, unknown>;
  name: string;
  modelType: string | null;
  hiddenSize: number | null;
  version: [number, number, number];
  file: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function readJson(file: string): Obj {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8'));
    if (!isObj(v)) throw new Error('not an object');
    return v;
  } catch (e) {
    throw new PeftError('FORMAT', `${HUB_CONFIG} is not a JSON object (${(e as Error).message})`, { where: file });
  }
}

/** True when `dir` holds an AdapterHub adapter (its config wraps `config`, with no `peft_type`). */
export function isAdapterHubDir(dir: string): boolean {
  const file = join(dir, HUB_CONFIG);
  if (!existsSync(file)) return false;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8'));
    return isObj(v) && v.peft_type === undefined && (isObj(v.config) || typeof v.config === 'string');
  } catch {
    return false;
  }
}

export function parseVersion(v: unknown): [number, number, number] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(String(v ?? ''));
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : [0, 0, 0];
}

/** a ≥ b */
export function versionAtLeast(a: [number, number, number], b: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

export function readHubWrapper(dir: string): HubWrapper {
  const file = join(dir, HUB_CONFIG);
  if (!existsSync(file)) {
    throw new PeftError('FILE', `no ${HUB_CONFIG}`, { where: dir, hint: 'point at a directory written by AdapterHub\'s save_adapter()' });
  }
  const raw = readJson(file);
  if (typeof raw.config === 'string') {
    throw new PeftError('FORMAT', `config is the name "${raw.config}", not the configuration itself`, {
      where: `${file}: config`, hint: 'save_adapter() writes the full configuration; re-save the adapter with adapters ≥ 0.1',
    });
  }
  if (!isObj(raw.config)) {
    throw new PeftError('FORMAT', 'not an AdapterHub adapter config: no "config" object', {
      where: file, hint: 'Python peft adapters (with peft_type) load as peft adapters',
    });
  }
  return {
    config: raw.config,
    name: typeof raw.name === 'string' ? raw.name : 'default',
    modelType: typeof raw.model_type === 'string' ? raw.model_type : null,
    hiddenSize: typeof raw.hidden_size === 'number' ? raw.hidden_size : null,
    version: parseVersion(raw.version),
    file,
  };
}

/**
 * One architecture's config, read key by key. `get` marks a key as known; `finish` warns about the
 * rest. `unsupported` throws a FORMAT error at `where.key`.
 */
export class HubConfig {
  private readonly known = new Set<string>(['architecture']);
  constructor(readonly raw: Obj, readonly where: string, private readonly warnings: string[]) {}

  get(key: string): unknown {
    this.known.add(key);
    return this.raw[key];
  }

  num(key: string, def: number): number {
    const v = this.get(key);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number') this.unsupported(key, v, 'a number');
    return v as number;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.get(key);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') this.unsupported(key, v, 'true or false');
    return v as boolean;
  }

  str(key: string, def: string): string {
    const v = this.get(key);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'string') this.unsupported(key, v, 'a string');
    return v as string;
  }

  /** Marks keys that only affect training or initialisation (read, not needed to compute outputs). */
  ignore(...keys: string[]): void {
    for (const k of keys) this.known.add(k);
  }

  /** Throws: `key` = `value` is something this reader does not compute. */
  unsupported(key: string, value: unknown, expected?: string): never {
    throw new PeftError('FORMAT', `AdapterHub ${key} = ${JSON.stringify(value)} is not supported`, {
      where: `${this.where}.${key}`,
      hint: expected ? `supported: ${expected}` : 'this adapter cannot be reproduced exactly here, so it is not loaded',
    });
  }

  /** Warns about the keys nobody read (a newer library's options at their defaults, one hopes). */
  finish(): void {
    for (const k of Object.keys(this.raw)) {
      if (!this.known.has(k)) this.warnings.push(`${this.where}.${k}: unknown AdapterHub option ignored (written by a newer library?)`);
    }
  }
}
