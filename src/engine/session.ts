// Compile: a Plan becomes a runnable session — backend chosen, backbone built and loaded by name,
// PEFT modules injected at their sites, the trainable set fixed, the tokenizer loaded.
import * as tf from '@tensorflow/tfjs-core';
import type { Plan } from '../plan/index.js';
import { initBackend, type BackendInfo } from './backend/index.js';
import { ensureGradients } from './backend/gradients.js';
import { loadBackbone, countParams, taskOptionsOf, type TaskModel } from './backbones/index.js';
import { prepareLabelPrompts } from './backbones/label-prompts.js';
import type { LoadReport } from './backbones/weights.js';
import { injectMethod, selectTrainable, type PeftModel, type TrainableSet } from './methods/index.js';
import { taskReadsText } from './data/task-inputs.js';
import { loadTokenizer, type TextTokenizer } from './tokenizers/index.js';

export interface Session {
  plan: Plan;
  backend: BackendInfo;
  modelDir: string;
  model: TaskModel;
  peft: PeftModel;
  trainable: TrainableSet;
  tokenizer: TextTokenizer | null;
  load: LoadReport;
  totalParams: number;
  trainableParams: number;
}

export interface SessionOptions {
  backend?: string;
  /** Skip the tokenizer (image models). */
  noTokenizer?: boolean;
}

export async function openSession(plan: Plan, opts: SessionOptions = {}): Promise<Session> {
  // PROD silences tfjs's console banners ("looks like you are running TensorFlow.js in Node.js")
  tf.env().set('PROD', true);
  const backend = await initBackend(opts.backend);
  await ensureGradients();
  const { dir, model, report } = loadBackbone(plan.backbone.path, { ...taskOptionsOf(plan), seed: plan.seed });
  const tokenizer = opts.noTokenizer || !taskReadsText(plan.task.type) ? null : await loadTokenizer(dir);
  prepareLabelPrompts(model, plan.task, tokenizer);
  // a prompt initialised from text (init: text) needs the tokenizer while it is built
  const tokenize = tokenizer ? (text: string) => tokenizer.encode(text, { addSpecialTokens: false }) : undefined;
  const peft = injectMethod(model, plan.method, plan.seed, { tokenize });
  const trainable = selectTrainable(peft);
  const totalParams = countParams(model);
  const trainableParams = [...trainable.params.values()].reduce((n, p) => n + p.size, 0);
  return { plan, backend, modelDir: dir, model, peft, trainable, tokenizer, load: report, totalParams, trainableParams };
}
