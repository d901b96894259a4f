// Loading a task model's parameters by name from a tensor source (safetensors files), with
// errors that name the tensor, and seeded initialisation of a task head the checkpoint lacks.
import * as tf from '@tensorflow/tfjs-core';
import { PeftError } from '../../errors.js';
import type { TaskModel } from './types.js';
import type { Param } from '../nn/module.js';
import type { TensorSource } from '../io/safetensors.js';
import { normalArray, seedFor } from '../random.js';

export interface LoadReport {
  loaded: number;
  /** Head parameters the checkpoint lacks, initialised from the seed (like transformers warns). */
  initialized: string[];
  /** Tensors in the files that no parameter took. */
  unused: string[];
}

function candidates(name: string, basePrefix: string): string[] {
  const out = [name];
  if (name.startsWith(basePrefix + '.')) out.push(name.slice(basePrefix.length + 1));
  else out.push(`${basePrefix}.${name}`);
  // old TF-converted checkpoints name LayerNorm parameters gamma/beta (transformers renames them too)
  if (/LayerNorm\.(weight|bias)$/.test(name)) {
    for (const c of [...out]) out.push(c.replace(/\.weight$/, '.gamma').replace(/\.bias$/, '.beta'));
  }
  return out;
}

function readInto(p: Param, src: TensorSource, found: string): void {
  const shape = src.info(found).shape;
  if (shape.length !== p.shape.length || shape.some((d, i) => d !== p.shape[i])) {
    throw new PeftError('SHAPE', `expected shape [${p.shape}], found [${shape}] in the checkpoint`, {
      where: found,
      hint: 'the weights do not match config.json (hidden size, heads, vocabulary?)',
    });
  }
  p.set(tf.tensor(src.read(found), shape));
}

export function loadWeights(model: TaskModel, src: TensorSource, opts: { seed?: number; initStd?: number } = {}): LoadReport {
  const taken = new Set<string>();
  const initialized: string[] = [];
  let loaded = 0;
  const isHead = (n: string) => model.headPrefixes.some((p) => n === p || n.startsWith(p + '.'));
  for (const [name, p] of model.root.namedParams()) {
    const found = candidates(name, model.basePrefix).find((c) => src.has(c));
    if (!found) {
      if (isHead(name)) {
        const values = name.endsWith('bias') ? new Float32Array(p.size) : normalArray(p.size, opts.initStd ?? 0.02, seedFor(opts.seed ?? 0, name));
        p.set(tf.tensor(values, [...p.shape]));
        initialized.push(name);
        continue;
      }
      throw new PeftError('FORMAT', `tensor missing from the checkpoint (expected shape [${p.shape}])`, {
        where: name,
        hint: 'the weights file does not belong to this config.json, or it is incomplete',
      });
    }
    taken.add(found);
    // a task head of another size than the checkpoint's (a new label set): initialised afresh,
    // as transformers does with ignore_mismatched_sizes
    const shape = src.info(found).shape;
    if (isHead(name) && (shape.length !== p.shape.length || shape.some((d, i) => d !== p.shape[i]))) {
      const values = name.endsWith('bias') ? new Float32Array(p.size) : normalArray(p.size, opts.initStd ?? 0.02, seedFor(opts.seed ?? 0, name));
      p.set(tf.tensor(values, [...p.shape]));
      initialized.push(name);
      continue;
    }
    readInto(p, src, found);
    loaded++;
  }
  // buffers the checkpoint stores (BART's final_logits_bias): read when present, zeros otherwise
  for (const [name, b] of model.root.namedBuffers()) {
    const found = candidates(name, model.basePrefix).find((c) => src.has(c));
    if (found) {
      readInto(b, src, found);
      taken.add(found);
    } else {
      b.set(tf.zeros([...b.shape]));
      initialized.push(name);
    }
  }
  // torch's BatchNorm bookkeeping (an int64 step count): not model state here
  for (const n of src.names()) if (n.endsWith('.num_batches_tracked')) taken.add(n);
  for (const [alias] of Object.entries(model.tied)) {
    for (const c of candidates(alias, model.basePrefix)) if (src.has(c)) taken.add(c);
  }
  const unused = src.names().filter((n) => !taken.has(n));
  return { loaded, initialized, unused };
}

/** Parameters of the task model (tied ones counted once, as torch's `parameters()` does). */
export function countParams(model: TaskModel): number {
  return model.root.namedParams().reduce((n, [, p]) => n + p.size, 0);
}
