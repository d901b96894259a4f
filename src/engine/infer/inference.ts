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
  const run = RunDir.latest(plan.output.dir, plan.name);
  return run && run.hasAdapter() ? run : null;
}

export interface InferenceOptions {
  backend?: string;
  /** Open without a tokenizer when the model has none (prediction on rows of token ids). */
  tokenizerOptional?: boolean;
}

export async function openInference(plan: Plan, adapterDir: string | null, opts: InferenceOptions = {}): Promise<InferenceSession> {
  tf.env().set('PROD', true);
  const backend = await initBackend(opts.backend);
  const { dir, model } = loadBackbone(plan.backbone.path, { ...taskOptionsOf(plan), seed: plan.seed });
  const warnings: string[] = [];
  let peft;
  if (adapterDir) {
    const loaded = loadAnyAdapter(adapterDir, model, plan.seed);
    peft = loaded.peft;
    warnings.push(...loaded.warnings);
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
