// Sharded safetensors checkpoints as transformers writes them: `model-00001-of-00003.safetensors`
// … plus `model.safetensors.index.json` = {"metadata": {"total_size": N}, "weight_map": {name: shard}}.
// The reader presents the union of the shards with the single-file API; the writer splits
// tensors into shards of at most `maxShardBytes` (a larger tensor gets a shard of its own).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PeftError } from '../../errors.js';
import { writeJsonAtomic } from './atomic.js';
import {
  DTYPE_SIZE, SafetensorsFile, naturalDtype, writeSafetensors,
  type NamedTensor, type TensorData, type TensorInfo, type TensorSource, type TypedArray,
} from './safetensors.js';

export const SAFETENSORS_INDEX = 'model.safetensors.index.json';
export const SAFETENSORS_SINGLE = 'model.safetensors';

export class ShardedSafetensors implements TensorSource {
  private constructor(
    readonly indexPath: string,
    private readonly owner: Map<string, SafetensorsFile>,
    private readonly indexMeta: Record<string, unknown>,
  ) {}

  /** Opens the index and every shard it names (headers only); checks they agree. */
  static open(indexPath: string): ShardedSafetensors {
    const bad = (msg: string, hint = 'the index is corrupt or does not belong to these shards') =>
      new PeftError('FORMAT', msg, { where: indexPath, hint });
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(indexPath, 'utf8'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code) throw new PeftError('FILE', 'cannot read the safetensors index', { where: indexPath, hint: 'check the path', cause: e });
      throw bad(`index is not valid JSON (${(e as Error).message})`);
    }
    if (!isObject(json) || !isObject(json.weight_map)) throw bad('index has no "weight_map" object');
    const meta = isObject(json.metadata) ? json.metadata : {};
    const dir = dirname(indexPath);
    const shards = new Map<string, SafetensorsFile>();
    const owner = new Map<string, SafetensorsFile>();
    for (const [name, shard] of Object.entries(json.weight_map)) {
      if (typeof shard !== 'string' || shard === '' || shard !== basename(shard) || shard === '.' || shard === '..') {
        throw bad(`weight_map["${name}"] = ${JSON.stringify(shard)} is not a file name in the index's directory`);
      }
      let file = shards.get(shard);
      if (!file) {
        const p = join(dir, shard);
        if (!existsSync(p)) {
          throw new PeftError('FILE', `shard ${shard} named by the index is missing`, {
            where: p, hint: 'download every shard listed in model.safetensors.index.json',
          });
        }
        file = SafetensorsFile.open(p);
        shards.set(shard, file);
      }
      if (!file.has(name)) throw bad(`weight_map puts tensor ${name} in ${shard}, which does not hold it`);
      owner.set(name, file);
    }
    // Tensors in a shard that the index forgot are still part of the checkpoint.
    for (const file of shards.values()) {
      for (const name of file.names()) {
        const o = owner.get(name);
        if (o && o !== file) throw bad(`tensor ${name} is in both ${basename(o.path)} and ${basename(file.path)}`);
        owner.set(name, file);
      }
    }
    return new ShardedSafetensors(indexPath, owner, meta);
  }

  names(): string[] {
    return [...this.owner.keys()];
  }
  has(name: string): boolean {
    return this.owner.has(name);
  }
  info(name: string): TensorInfo {
    return this.file(name).info(name);
  }
  read(name: string): Float32Array {
    return this.file(name).read(name);
  }
  readRaw(name: string): TypedArray {
    return this.file(name).readRaw(name);
  }
  readInt32(name: string): Int32Array {
    return this.file(name).readInt32(name);
  }
  /** The index's `metadata` (e.g. total_size), with string values only as in safetensors. */
  metadata(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.indexMeta).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  }
  /** The shard files, in index order. */
  shardPaths(): string[] {
    return [...new Set([...this.owner.values()].map((f) => f.path))];
  }

  private file(name: string): SafetensorsFile {
    const f = this.owner.get(name);
    if (!f) {
      throw new PeftError('FORMAT', 'no such tensor in the checkpoint', {
        where: `${this.indexPath}: tensor ${name}`, hint: 'is it the checkpoint of the model the recipe names?',
      });
    }
    return f;
  }
}

/**
 * Opens the weights of a Hugging Face model directory: `model.safetensors`, else
 * `model.safetensors.index.json` and its shards. A path to a .safetensors or index file works too.
 */
export function openSafetensorsModel(dirOrFile: string): TensorSource {
  if (existsSync(dirOrFile) && statSync(dirOrFile).isFile()) {
    return dirOrFile.endsWith('.json') ? ShardedSafetensors.open(dirOrFile) : SafetensorsFile.open(dirOrFile);
  }
  const single = join(dirOrFile, SAFETENSORS_SINGLE);
  if (existsSync(single)) return SafetensorsFile.open(single);
  const index = join(dirOrFile, SAFETENSORS_INDEX);
  if (existsSync(index)) return ShardedSafetensors.open(index);
  throw new PeftError('FILE', `no weights found (looked for ${SAFETENSORS_SINGLE} and ${SAFETENSORS_INDEX})`, {
    where: dirOrFile, hint: 'point at a Hugging Face model directory with safetensors weights (convert .bin checkpoints first)',
  });
}

export interface ShardOptions {
  /** Upper bound of a shard's data bytes (transformers' max_shard_size). */
  maxShardBytes: number;
  /** File name stem: `<prefix>-00001-of-00003.safetensors`, `<prefix>.safetensors.index.json`. */
  prefix?: string;
  metadata?: Record<string, string>;
}

/**
 * Writes tensors into `dir` in shards of at most `maxShardBytes` each, in the given order, plus
 * the index (sorted keys, as transformers writes it). One shard only → a plain
 * `<prefix>.safetensors` and no index, as transformers does. Returns the file names written.
 */
export function writeShardedSafetensors(
  dir: string,
  tensors: readonly NamedTensor[] | ReadonlyMap<string, TensorData>,
  options: ShardOptions,
): string[] {
  const prefix = options.prefix ?? 'model';
  if (!(options.maxShardBytes > 0)) {
    throw new PeftError('USAGE', `maxShardBytes must be positive (got ${options.maxShardBytes})`);
  }
  const list: NamedTensor[] = Array.isArray(tensors)
    ? [...(tensors as readonly NamedTensor[])]
    : [...(tensors as ReadonlyMap<string, TensorData>)].map(([name, t]) => ({ name, ...t }));
  const shards: NamedTensor[][] = [];
  let current: NamedTensor[] = [];
  let currentBytes = 0;
  let total = 0;
  for (const t of list) {
    const bytes = t.data.length * DTYPE_SIZE[t.dtype ?? naturalDtype(t.data)];
    if (current.length > 0 && currentBytes + bytes > options.maxShardBytes) {
      shards.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(t);
    currentBytes += bytes;
    total += bytes;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  if (shards.length === 1) {
    writeSafetensors(join(dir, `${prefix}.safetensors`), shards[0], options.metadata);
    return [`${prefix}.safetensors`];
  }
  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  const n = String(shards.length).padStart(5, '0');
  shards.forEach((shard, i) => {
    const file = `${prefix}-${String(i + 1).padStart(5, '0')}-of-${n}.safetensors`;
    writeSafetensors(join(dir, file), shard, options.metadata);
    for (const t of shard) weightMap[t.name] = file;
    files.push(file);
  });
  const sortedMap = Object.fromEntries(Object.keys(weightMap).sort().map((k) => [k, weightMap[k]]));
  const indexName = `${prefix}.safetensors.index.json`;
  writeJsonAtomic(join(dir, indexName), { metadata: { total_size: total }, weight_map: sortedMap });
  files.push(indexName);
  return files;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}
