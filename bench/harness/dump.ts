// What `torch_lora.py --dump DIR` writes, read and loaded into the bench model by name:
// weights.bin (every parameter as float32, in ref.json's `params` order) and ref.json (the
// parameter names and shapes, the batch, the logits and losses it computed).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { TaskModel } from '../../src/engine/backbones/index.js';
import type { PeftModel } from '../../src/engine/methods/index.js';
import type { Param } from '../../src/engine/nn/module.js';

export interface TorchDump {
  /** Tensors by the reference's parameter name. */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  ids: Int32Array;
  labels: Int32Array;
  logits0: number[];
  loss0: number;
  /** Loss of each of the 3 AdamW steps (before its update), then the loss after them. */
  losses: number[];
}

interface RefJson {
  params: { name: string; shape: number[] }[];
  ids: number[];
  labels: number[];
  logits0: number[];
  loss0: number;
  losses_after_steps: number[];
}

export function readTorchDump(dir: string): TorchDump {
  const ref = JSON.parse(readFileSync(join(dir, 'ref.json'), 'utf8')) as RefJson;
  const bin = readFileSync(join(dir, 'weights.bin'));
  const all = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  let at = 0;
  for (const p of ref.params) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    tensors.set(p.name, { shape: p.shape, data: all.slice(at, at + n) });
    at += n;
  }
  if (at !== all.length) throw new Error(`weights.bin holds ${all.length} floats, ref.json describes ${at}`);
  return {
    tensors, ids: Int32Array.from(ref.ids), labels: Int32Array.from(ref.labels),
    logits0: ref.logits0, loss0: ref.loss0, losses: ref.losses_after_steps,
  };
}

/**
 * Loads the dump into the bench model and its injected LoRA modules: `layers.i.q.base.weight` is
 * the layer's `layers.i.q.weight`, `layers.i.q.lora_A` the lowrank module's `lora_A` at the site
 * `layers.i.q`; every other name is the model's own. Every parameter must get a value.
 */
export function loadTorchDump(model: TaskModel, peft: PeftModel, dump: TorchDump): void {
  const targets = new Map<string, Param>(model.root.namedParams());
  for (const [name, p] of peft.store.namedParams()) {
    const m = /^(.*)\.[^.]+\.(lora_[AB])$/.exec(name);
    if (m) targets.set(`${m[1]}.${m[2]}`, p);
  }
  const missing = new Set(targets.keys());
  for (const [torchName, t] of dump.tensors) {
    const name = torchName.replace(/\.base\.(weight|bias)$/, '.$1');
    const p = targets.get(name);
    if (!p) throw new Error(`dump tensor ${torchName} has no parameter here`);
    p.set(tf.tensor(t.data, t.shape));
    missing.delete(name);
  }
  if (missing.size) throw new Error(`parameters the dump lacks: ${[...missing].join(', ')}`);
}
