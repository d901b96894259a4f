// A trained run, opened for evaluation and prediction: the run directory's plan (or a recipe's,
// with the latest run of it), the backbone with its weights, the saved adapter on it (task head
// included), and the tokenizer. Without an adapter the method is injected fresh (its identity
// initialisation): the numbers a run reports "before" training.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Plan } from '../../plan/index.js';
import { initBackend, type BackendInfo } from '../backend/index.js';
import { loadBackbone, taskOptionsOf } from '../backbones/index.js';
import { prepareLabelPrompts } from '../backbones/label-prompts.js';
import { injectMethod } from '../methods/index.js';
import { loadAnyAdapter } from '../adapters/index.js';
import { mixAdapters, type MixMode } from './adapter-mix.js';
import { taskReadsText } from '../data/task-inputs.js';
import { loadTokenizer } from '../tokenizers/index.js';
import { RunDir, RESOLVED_RECIPE } from '../train/run-dir.js';
import type { Predictor } from './predict.js';
import type { ModelInfo } from '../data/build.js';
import { PeftError } from '../../errors.js';

export interface InferenceSession extends Predictor {
  backend: BackendInfo;
  modelDir: string;
  /** The adapter loaded, or null (a fresh, untrained method). */
  adapterDir: string | null;
  warnings: string[];
  modelInfo: ModelInfo;
  /** Why there is no tokenizer (a model directory without one): rows of token ids still work. */
  tokenizerError: PeftError | null;
}

/** True when `path` is a run directory (it holds the resolved recipe). */
export function isRunDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, RESOLVED_RECIPE));
}

/** The run to use for a recipe's plan: its latest run with an adapter, or null. */
export function latestRunOf(plan: Plan): RunDir | null {
  return RunDir.latestWithAdapter(plan.output.dir, plan.name);
}

/** Several adapters combined on the fly (eval/predict with repeated --adapter). */
export interface AdapterChoice {
  dirs: string[];
  /** One per adapter (default 1 each). */
  weights?: number[];
  mode?: MixMode;
  /** 1-based: the adapter whose task head is used (default: the last one that carries one). */
  head?: number;
}

export interface InferenceOptions {
  backend?: string;
  /** Open without a tokenizer when the model has none (prediction on rows of token ids). */
  tokenizerOptional?: boolean;
}

export async function openInference(plan: Plan, adapter: string | AdapterChoice | null, opts: InferenceOptions = {}): Promise<InferenceSession> {
  const choice: AdapterChoice | null = typeof adapter === 'string' ? { dirs: [adapter] } : adapter && adapter.dirs.length > 0 ? adapter : null;
  const adapterDir = choice ? choice.dirs[0] : null;
  tf.env().set('PROD', true);
  const backend = await initBackend(opts.backend);
  const { dir, model } = loadBackbone(plan.backbone.path, { ...taskOptionsOf(plan), seed: plan.seed });
  const warnings: string[] = [];
  let peft;
  if (choice && choice.dirs.length === 1 && (choice.weights?.[0] ?? 1) === 1) {
    const loaded = loadAnyAdapter(choice.dirs[0], model, plan.seed);
    peft = loaded.peft;
    warnings.push(...loaded.warnings);
  } else if (choice) {
    const weights = choice.weights ?? choice.dirs.map(() => 1);
    if (weights.length !== choice.dirs.length) {
      throw new PeftError('USAGE', `${choice.dirs.length} adapters but ${weights.length} weight${weights.length === 1 ? '' : 's'}`, { hint: 'one weight per --adapter, in the same order' });
    }
    if (choice.head !== undefined && !(Number.isInteger(choice.head) && choice.head >= 1 && choice.head <= choice.dirs.length)) {
      throw new PeftError('USAGE', `--head ${choice.head}: there are ${choice.dirs.length} adapters (1 … ${choice.dirs.length})`);
    }
    // every adapter loads onto the same backbone (each sets the task head it carries): the head
    // adapter loads last, so its head is the one used
    const order = choice.dirs.map((_, i) => i);
    if (choice.head !== undefined) order.push(...order.splice(choice.head - 1, 1));
    const parts = new Array(choice.dirs.length);
    for (const i of order) {
      const loaded = loadAnyAdapter(choice.dirs[i], model, plan.seed);
      warnings.push(...loaded.warnings.map((w) => `${choice.dirs[i]}: ${w}`));
      parts[i] = { peft: loaded.peft, weight: weights[i], label: choice.dirs[i] };
    }
    peft = mixAdapters(parts, choice.mode ?? 'sum');
  } else {
    peft = injectMethod(model, plan.method, plan.seed);
  }
  let tokenizer = null;
  let tokenizerError: PeftError | null = null;
  if (taskReadsText(plan.task.type)) {
    try {
      tokenizer = await loadTokenizer(dir);
    } catch (e) {
      if (!(e instanceof PeftError) || !opts.tokenizerOptional) throw e;
      tokenizerError = e;
    }
  }
  prepareLabelPrompts(model, plan.task, tokenizer);
  return { plan, model, peft, tokenizer, tokenizerError, backend, modelDir: dir, adapterDir, warnings, modelInfo: { config: model.config, dir } };
}
