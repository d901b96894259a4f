// The trainable set: every PEFT module parameter (a selection's own included), plus whatever the
// method unfreezes in the backbone (non-additive methods: full, head-only, LN tuning, the whole
// tensors a selection draws: HFT) and the task head. Everything else stays a plain tensor that no
// gradient ever touches.
import type { Param } from '../nn/module.js';
import { batchNorms } from '../nn/batch-norm.js';
import type { PeftModel } from './inject.js';
import { resolveLayers } from '../../plan/index.js';

export interface TrainableSet {
  /** name → parameter, in a stable order (adapter modules first, then backbone). */
  params: Map<string, Param>;
  /** Backbone parameters that train (they are saved in full, as Python peft's modules_to_save), and the
   *  batch-norm running statistics that move with them under full fine-tuning. */
  backboneNames: string[];
}

const LAYER_RE = /\.(?:layers|layer|h|block)\.(\d+)\./;

export function layerOf(name: string): number | null {
  const m = LAYER_RE.exec(name);
  return m ? Number(m[1]) : null;
}

export function isHeadParam(peft: PeftModel, name: string): boolean {
  return peft.model.headPrefixes.some((p) => name === p || name.startsWith(p + '.'));
}

export function selectTrainable(peft: PeftModel): TrainableSet {
  const params = new Map<string, Param>();
  // adapter parameters train, but for the frozen parts of a method (orthogonal adaptation's A)
  for (const [name, p] of peft.store.namedParams()) if (!p.tags.has('frozen')) params.set(name, p);
  const backboneNames: string[] = [];
  const depth = peft.model.dims.layers;
  const whole = new Set(peft.selection?.whole ?? []);
  for (const [name, p] of peft.model.root.namedParams()) {
    let train = (peft.method.trainHead && isHeadParam(peft, name)) || whole.has(name);
    for (const u of peft.method.unfreeze) {
      const layer = peft.model.layerOf?.(name) ?? layerOf(name);
      const inLayers = layer === null ? u.layers === 'all' : resolveLayers(u.layers, depth).includes(layer);
      if (!inLayers) continue;
      if (u.target === 'all') train = true;
      else if (u.target === 'head' && (isHeadParam(peft, name) || p.tags.has('lm_head'))) train = true;
      else if (u.target === 'norms' && p.tags.has('norm')) train = true;
      else if (u.target === 'biases' && p.tags.has('bias')) train = true;
      else if (u.target === 'embeddings' && p.tags.has('embedding')) train = true;
    }
    if (train) {
      params.set(name, p);
      backboneNames.push(name);
    }
  }
  for (const p of params.values()) p.makeTrainable();
  backboneNames.push(...runningStatistics(peft, params));
  return { params, backboneNames };
}

/**
 * Batch norms keep their running statistics frozen (training normalises with them, as inference
 * does) unless the method trains the whole backbone: full fine-tuning normalises with each
 * batch's statistics and moves the running ones, as torch's train() mode does. Returns the
 * names of the statistics that move (saved with the trained parameters).
 */
function runningStatistics(peft: PeftModel, params: Map<string, Param>): string[] {
  const full = peft.method.unfreeze.some((u) => u.target === 'all');
  const moving: string[] = [];
  for (const [, bn] of batchNorms(peft.model.root)) {
    bn.updates = full && [bn.weight, bn.bias].some((p) => p !== null && params.has(p.fullName));
    if (bn.updates) moving.push(bn.runningMean.fullName, bn.runningVar.fullName);
  }
  return moving;
}
