// clip-cls: the label names written into the recipe's prompt templates and tokenised once, for
// the zero-shot head the model encodes at each pass (clip.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { TaskPlan } from '../../plan/index.js';
import type { TextTokenizer } from '../tokenizers/index.js';
import type { TaskModel } from './types.js';
import { PeftError } from '../../errors.js';

/** Gives a clip-cls model its label prompts (a no-op for every other task). */
export function prepareLabelPrompts(model: TaskModel, task: TaskPlan, tok: TextTokenizer | null): void {
  if (task.type !== 'clip-cls' || !model.setLabelPrompts) return;
  const labels = task.labels ?? [];
  const templates = task.prompts ?? ['a photo of a {label}.'];
  if (labels.length === 0) throw new PeftError('RECIPE', 'clip-cls needs label names', { where: 'task.labels', hint: 'e.g. labels: [cat, dog]' });
  if (!tok) throw new PeftError('BACKBONE', 'clip-cls needs the backbone\'s tokenizer for its label prompts', { where: 'backbone.path', hint: 'the model directory has no tokenizer.json' });
  const rows = labels.flatMap((l) => templates.map((t) => tok.encode(t.split('{label}').join(l), { addSpecialTokens: true })));
  const T = Math.max(...rows.map((r) => r.length));
  const pad = tok.padId ?? tok.eosId ?? 0;
  const ids = new Int32Array(rows.length * T).fill(pad);
  const mask = new Float32Array(rows.length * T);
  rows.forEach((r, i) => {
    ids.set(r, i * T);
    mask.fill(1, i * T, i * T + r.length);
  });
  model.setLabelPrompts({ ids: tf.tensor2d(ids, [rows.length, T], 'int32'), mask: tf.tensor2d(mask, [rows.length, T]), labels: labels.length, templates: templates.length });
}
