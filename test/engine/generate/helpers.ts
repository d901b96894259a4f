// Shared by the generation tests: models (fixtures, stories260K, a tiny random LLaMA), method
// plans with random adapter values, each step's logits of a generation, and their comparison.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, REPO } from '../../helpers/fixtures.js';
import { loadBackbone, type TaskModel } from '../../../src/engine/backbones/index.js';
import { llamaFamily } from '../../../src/engine/backbones/llama.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { injectMethod, type PeftModel } from '../../../src/engine/methods/index.js';
import { compileMethod } from '../../../src/plan/index.js';
import { normalArray } from '../../../src/engine/random.js';
import { generate, type GenerateInputs, type GenerateOptions, type GenerateResult } from '../../../src/engine/generate/index.js';
import type { TaskType } from '../../../src/plan/index.js';

export const STORIES = `${REPO}/assets/models/stories260K`;

export function fixtureModel(name: string): TaskModel {
  const task: TaskType = ['bart', 'mbart', 't5'].includes(name) ? 'seq2seq' : 'causal-lm';
  return loadBackbone(fixture('models', name), { task }).model;
}

export function stories(): TaskModel {
  return loadBackbone(STORIES, { task: 'causal-lm' }).model;
}

/** A LLaMA with random weights (std 1): vocab 4, eos 0, one layer. */
export function tinyLlama(vocab = 4, seed = 3): TaskModel {
  const model = llamaFamily.build({
    model_type: 'llama', vocab_size: vocab, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1,
    num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 32, eos_token_id: 0, pad_token_id: 0,
  }, { task: 'causal-lm' });
  model.root.namedParams().forEach(([, p], i) => p.set(tf.tensor(normalArray(p.size, 1, seed * 100 + i), [...p.shape])));
  return model;
}

/** A method plan as the planner makes it from a recipe's `method:` mapping. */
export function methodPlan(method: Record<string, unknown>, task: TaskType) {
  const issues: string[] = [];
  const out = compileMethod(method, { family: null, depth: null, task }, (p, m) => issues.push(`${p.join('.')}: ${m}`));
  assert.deepEqual(issues, []);
  return out;
}

/** Injects `method` with every adapter parameter random (so that it visibly changes the outputs). */
export function withMethod(model: TaskModel, method: Record<string, unknown>, seed = 1): PeftModel {
  const peft = injectMethod(model, methodPlan(method, model.task), seed);
  peft.store.namedParams().forEach(([name, p], i) => {
    const mean = /ia3_l|magnitude|scale$/.test(name) ? 1 : 0;
    p.set(tf.tensor(normalArray(p.size, 0.3, seed * 1000 + i, mean), [...p.shape]));
  });
  return peft;
}

export function contextOf(peft: PeftModel | null): () => ForwardContext {
  return peft ? () => peft.context({ training: false }) : () => ForwardContext.plain(false);
}

/** A generation and a copy of every step's logits (rows × vocab). */
export function withSteps(
  model: TaskModel, ctx: () => ForwardContext, inputs: GenerateInputs, opts: GenerateOptions,
): GenerateResult & { steps: Float32Array[][] } {
  const steps: Float32Array[][] = [];
  const r = generate(model, ctx, inputs, { ...opts, onStep: (_s, logits) => steps.push(logits.map((l) => Float32Array.from(l))) });
  return { ...r, steps };
}

/** Every step's logits within |a − b| ≤ tol·(1 + |b|); returns the largest difference. */
export function assertStepsClose(a: Float32Array[][], b: Float32Array[][], what: string, tol = 1e-4): number {
  assert.equal(a.length, b.length, `${what}: number of steps`);
  let worst = 0;
  a.forEach((rows, s) => {
    assert.equal(rows.length, b[s].length, `${what}: rows at step ${s}`);
    rows.forEach((row, r) => {
      for (let v = 0; v < row.length; v++) {
        const err = Math.abs(row[v] - b[s][r][v]);
        worst = Math.max(worst, err);
        assert.ok(err <= tol * (1 + Math.abs(b[s][r][v])), `${what}: step ${s} row ${r} token ${v}: ${row[v]} vs ${b[s][r][v]}`);
      }
    });
  });
  return worst;
}

/** Cached and uncached generation agree: same tokens, every step's logits to 1e-4. */
export function checkCacheParity(
  model: TaskModel, ctx: () => ForwardContext, inputs: GenerateInputs, opts: GenerateOptions, what: string,
): { worst: number; cached: GenerateResult } {
  const cached = withSteps(model, ctx, inputs, { ...opts, useCache: true });
  const full = withSteps(model, ctx, inputs, { ...opts, useCache: false });
  assert.deepEqual(cached.sequences, full.sequences, `${what}: same tokens`);
  if (full.scores) cached.scores!.forEach((s, i) => assert.ok(Math.abs(s - full.scores![i]) < 1e-4, `${what}: beam score ${i}`));
  const worst = assertStepsClose(cached.steps, full.steps, what);
  assert.ok(cached.steps.length > 1, `${what}: more than one step ran`);
  return { worst, cached };
}
