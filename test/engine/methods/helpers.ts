// Shared by the method tests: the tiny LLaMA fixture, method plans from recipe-style specs,
// random adapter values, and a forward pass on the fixture's inputs.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, toTensor } from '../../helpers/fixtures.js';
import { loadBackbone, type TaskModel } from '../../../src/engine/backbones/index.js';
import { compileMethod } from '../../../src/plan/index.js';
import type { MethodPlan, TaskType } from '../../../src/plan/index.js';
import type { PeftModel } from '../../../src/engine/methods/inject.js';
import { normalArray } from '../../../src/engine/random.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import * as linearModule from '../../../src/engine/nn/linear.js';

/** The fixture LLaMA; a seq-cls head it lacks is initialised from `seed`. */
export function llama(task: TaskType = 'causal-lm', seed = 0): TaskModel {
  return loadBackbone(fixture('models', 'llama'), { task, numLabels: task === 'seq-cls' ? 3 : undefined, seed }).model;
}

/** A method plan as the planner makes it from a recipe's `method:` mapping (no issues allowed). */
export function plan(method: Record<string, unknown>, task: TaskType = 'causal-lm'): MethodPlan {
  const issues: string[] = [];
  const out = compileMethod(method, { family: null, depth: null, task }, (p, m) => issues.push(`${p.join('.')}: ${m}`));
  assert.deepEqual(issues, []);
  return out;
}

/** Every adapter parameter set to N(mean, std²) (seeded), so that the adapter visibly changes outputs. */
export function randomize(peft: PeftModel, seed = 1, std = 0.2): void {
  peft.store.namedParams().forEach(([name, p], i) => {
    const mean = /ia3_l|magnitude|scale$/.test(name) ? 1 : 0;
    p.set(tf.tensor(normalArray(p.size, std, seed * 1000 + i, mean), [...p.shape]));
  });
}

export function fixtureInputs(): { inputIds: tf.Tensor2D; attentionMask: tf.Tensor2D } {
  const inputs = readJson(fixture('models', 'llama', 'inputs.json'));
  return { inputIds: toTensor(inputs.input_ids, 'int32') as tf.Tensor2D, attentionMask: toTensor(inputs.attention_mask, 'int32') as tf.Tensor2D };
}

export function logits(model: TaskModel, peft: PeftModel | null): tf.Tensor {
  return model.forward(fixtureInputs(), peft ? peft.context({ training: false }) : ForwardContext.plain(false)).logits;
}

/** Max |a − b|. */
export function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** A frozen Linear with the given weight [out, in] and bias. */
export function linearOf(w: tf.Tensor, b: tf.Tensor | null): import('../../../src/engine/nn/linear.js').Linear {
  const { Linear } = linearModule;
  const [out, inn] = w.shape;
  const l = new Linear(inn, out, { bias: b !== null });
  l.nameTree();
  l.weight.set(tf.clone(w));
  if (b) l.bias!.set(tf.clone(b));
  return l;
}

/** A composition for a standalone site module: `scaled` with s, or `add`. */
export function composition(scale: number | null): import('../../../src/plan/index.js').ModulePlan {
  return {
    name: 'm', positions: ['attn.query'], function: 'lowrank', insertion: 'parallel', composition: scale === null ? 'add' : 'scaled',
    scale: scale ?? 1, heads: 'single', layers: 'all', options: { dropout: 0 } as never,
  } as import('../../../src/plan/index.js').ModulePlan;
}

/**
 * y = the site's output with module `m` attached at a Linear `base`, and the gradients of
 * L = Σ y ⊙ G with respect to the named parameters of m (made trainable).
 */
export function siteRun(m: import('../../../src/engine/methods/compose.js').SiteModule, base: import('../../../src/engine/nn/linear.js').Linear, x: tf.Tensor, G: tf.Tensor | null, training = false):
{ y: tf.Tensor; grads: Map<string, tf.Tensor>; loss: number } {
  const ctx = new ForwardContext(new Map([['site', [m]]]), { training });
  const params = m.namedParams();
  if (!G) return { y: ctx.linear('site', x, base), grads: new Map(), loss: NaN };
  for (const [, p] of params) p.makeTrainable();
  let y: tf.Tensor | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const out = ctx.linear('site', x, base);
    y = tf.keep(out);
    return tf.sum(tf.mul(out, G)) as tf.Scalar;
  }, params.map(([, p]) => p.variable));
  const byVar = new Map(params.map(([n, p]) => [p.variable.name, n]));
  return { y: y!, grads: new Map(Object.entries(grads).map(([k, g]) => [byVar.get(k)!, g])), loss: value.dataSync()[0] };
}
