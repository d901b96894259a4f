// Shared by the selection tests: the reference fixtures' tensors, and a tiny task model made of
// plain linear layers (the fixtures' MLPs) with unified-view sites, so that a selection is chosen,
// injected and trained exactly as on a real backbone.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { REPO, readJson } from '../../helpers/fixtures.js';
import { openSafetensors, type SafetensorsFile } from '../../../src/engine/io/safetensors.js';
import { Container } from '../../../src/engine/nn/module.js';
import { Linear } from '../../../src/engine/nn/linear.js';
import type { SiteInfo, TaskModel } from '../../../src/engine/backbones/types.js';
import { compileSelect, type MethodPlan, type SelectPlan } from '../../../src/plan/index.js';

export function reference(method: string): { file: SafetensorsFile; f32(name: string): Float32Array; i32(name: string): Int32Array; t(name: string): tf.Tensor; case: any } {
  const file = openSafetensors(join(REPO, 'test', 'fixtures', 'reference', method, 'tensors.safetensors'));
  return {
    file,
    f32: (name) => file.read(name),
    i32: (name) => file.readInt32(name),
    t: (name) => tf.tensor(file.read(name), file.info(name).shape),
    case: readJson(REPO, 'test', 'fixtures', 'reference', method, 'case.json'),
  };
}

export interface TinyLayer {
  name: string;
  position: string;
  inDim: number;
  outDim: number;
  bias?: boolean;
}

/** A task model of named linear layers in layer 0 (its forward is the test's own: `ctx.linear(name, x, layer)`). */
export function tinyModel(layers: TinyLayer[]): { model: TaskModel; linears: Map<string, Linear> } {
  const root = new Container();
  const linears = new Map<string, Linear>();
  const sites: SiteInfo[] = [];
  for (const l of layers) {
    linears.set(l.name, root.add(l.name, new Linear(l.inDim, l.outDim, { bias: l.bias ?? true })));
    sites.push({ path: l.name, stack: 'model', layer: 0, position: l.position, kind: 'linear', inDim: l.inDim, outDim: l.outDim });
  }
  root.nameTree();
  const model = {
    family: 'tiny', architecture: 'Tiny', task: 'causal-lm', config: {}, root, sites, headPrefixes: [], tied: {}, basePrefix: '',
    dims: { hidden: 0, layers: 1, heads: 1, kvHeads: 1, headDim: 1, intermediate: 0, vocab: 0, maxPositions: 0 },
    forward: () => { throw new Error('tiny models are run by the test'); },
  } as unknown as TaskModel;
  return { model, linears };
}

/** A selection plan from recipe words (no issues allowed). */
export function selectPlan(words: Record<string, unknown>): SelectPlan {
  const issues: string[] = [];
  const plan = compileSelect(words, ['select'], { family: null, depth: null, task: 'causal-lm' }, (p, m) => issues.push(`${p.join('.')}: ${m}`));
  if (issues.length || !plan) throw new Error(issues.join('; '));
  return plan;
}

export function selectMethod(words: Record<string, unknown>): MethodPlan {
  return { preset: 'custom', modules: [], unfreeze: [], trainHead: false, select: selectPlan(words) };
}
