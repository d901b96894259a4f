// The model a strategy works on (a training session's or an opened run's) and the strategy the
// plan names, built the same way for training and for `peft eval` / `peft predict` of the run.
import type * as tf from '@tensorflow/tfjs-core';
import type { Plan, StreamPlan, TaskEntryPlan } from '../../plan/index.js';
import type { TaskModel } from '../backbones/types.js';
import type { PeftModel } from '../methods/inject.js';
import { isHeadParam } from '../methods/trainable.js';
import type { Batch } from '../data/batches.js';
import { batchInputs } from '../train/task-loss.js';
import { inferenceContext } from '../infer/logits.js';
import { PeftError } from '../../errors.js';
import { sequentialStrategy, type Strategy, type StreamModel } from './strategy.js';
import { laeStrategy } from './lae.js';
import { conpetStrategy } from './conpet.js';
import { mosStrategy } from './mos.js';
import { mixdaStrategy } from './mixda.js';

export type StreamedPlan = Plan & { stream: StreamPlan; tasks: TaskEntryPlan[] };

export function streamModel(plan: StreamedPlan, model: TaskModel, peft: PeftModel): StreamModel {
  const p = { plan, model, peft, tokenizer: null };
  return {
    plan, model, peft,
    pet: new Map(peft.store.namedParams()),
    head: new Map(model.root.namedParams().filter(([n]) => isHeadParam(peft, n))),
    forward: (b: Batch) => model.forward(batchInputs(b), inferenceContext(p, b)).logits as tf.Tensor2D,
    features(b: Batch) {
      const out = model.forward(batchInputs(b), inferenceContext(p, b));
      if (!out.pooled) throw new PeftError('BACKBONE', `${model.family} gives no pooled features for prototypes`, { where: 'stream.strategy', hint: 'mos needs a classification backbone that pools (llama, bert, vit, …)' });
      return out.pooled;
    },
  };
}

export function makeStrategy(m: StreamModel): Strategy {
  const s = m.plan.stream;
  if ((s.strategy === 'lae' || s.strategy === 'conpet' || s.strategy === 'mos') && m.pet.size === 0) {
    throw new PeftError('RECIPE', `strategy ${s.strategy} keeps copies of the method's PET modules, and ${m.plan.method.preset} adds none`, {
      where: 'method', hint: 'use a PET method (lora, adapter-houlsby, …); sequential fine-tuning is strategy: sequential with method: {preset: full}',
    });
  }
  switch (s.strategy) {
    case 'lae': return laeStrategy(m, s.lae!);
    case 'conpet': return conpetStrategy(m, s.conpet!);
    case 'mos': return mosStrategy(m, s.mos!);
    case 'mixda': return mixdaStrategy(m);
    default: return sequentialStrategy();
  }
}

/** Strategies whose code trains a task on its own labels only, in a class-incremental stream too (LAE, MOS, ConPET's experts). */
export function trainsOnOwnClasses(s: StreamPlan): boolean {
  return s.scenario === 'task-incremental' || s.strategy === 'lae' || s.strategy === 'mos' || s.strategy === 'conpet';
}

/** The head columns of the tasks trained in the first `stages` stages (a class-incremental stream's label space then). */
export function seenClasses(plan: StreamedPlan, stages: number): number[] {
  return plan.stream.order.slice(0, stages).flatMap((n) => plan.tasks.find((t) => t.name === n)!.headClasses).sort((a, b) => a - b);
}
