// Writing a Hugging Face model directory from a task model (merged exports): config.json with
// the task's architecture, the weights under their checkpoint names (tied weights omitted, as
// transformers saves them; buffers such as BART's final_logits_bias included), sharded with an
// index past `maxShardBytes`, and the tokenizer files copied from the source directory.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskModel } from '../backbones/types.js';
import { writeSafetensors, type NamedTensor } from './safetensors.js';
import { writeShardedSafetensors } from './safetensors-index.js';
import { writeJsonAtomic } from './atomic.js';
import { PeftError } from '../../errors.js';

const COPIED = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt', 'vocab.json', 'merges.txt',
  'tokenizer.model', 'spiece.model', 'sentencepiece.bpe.model', 'generation_config.json', 'preprocessor_config.json',
];

export interface ModelDirOptions {
  /** Shard past this many bytes (transformers' default max_shard_size is 5 GB). */
  maxShardBytes?: number;
  /** Extra config.json fields (label names). */
  config?: Record<string, unknown>;
}

export function modelTensors(model: TaskModel): NamedTensor[] {
  const out: NamedTensor[] = [];
  for (const [name, p] of [...model.root.namedParams(), ...model.root.namedBuffers()]) {
    out.push({ name, shape: [...p.shape], data: p.value.dataSync() as Float32Array });
  }
  return out;
}

export function writeModelDir(model: TaskModel, srcDir: string, outDir: string, opts: ModelDirOptions = {}): string[] {
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PeftError('FILE', `cannot create the output directory (${code === 'EEXIST' || code === 'ENOTDIR' ? 'a path on the way is a file' : code === 'EACCES' ? 'permission denied' : code ?? (e as Error).message})`, {
      where: outDir, hint: 'name a directory that can be created', cause: e,
    });
  }
  const tensors = modelTensors(model);
  const bytes = tensors.reduce((n, t) => n + t.data.length * 4, 0);
  const max = opts.maxShardBytes ?? 5e9;
  const files: string[] = [];
  if (bytes <= max) {
    writeSafetensors(join(outDir, 'model.safetensors'), tensors);
    files.push('model.safetensors');
  } else {
    files.push(...writeShardedSafetensors(outDir, tensors, { maxShardBytes: max }));
  }
  const src = existsSync(join(srcDir, 'config.json')) ? JSON.parse(readFileSync(join(srcDir, 'config.json'), 'utf8')) : {};
  writeJsonAtomic(join(outDir, 'config.json'), { ...src, ...model.config, ...opts.config, architectures: [model.architecture], torch_dtype: 'float32' });
  files.push('config.json');
  for (const f of COPIED) {
    if (existsSync(join(srcDir, f))) {
      copyFileSync(join(srcDir, f), join(outDir, f));
      files.push(f);
    }
  }
  return files;
}
