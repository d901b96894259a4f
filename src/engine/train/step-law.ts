// `optimizer.lr: auto` and `training.batch_size: auto`: the Step Law of "Predictable Scale:
// Part I" (Li et al. 2025, arXiv 2503.04715), fitted on 3,700 pretraining runs:
//   η(N, D) = 1.79 · N^-0.713 · D^0.307        B(D) = 0.58 · D^0.571 (tokens per optimizer step)
// with N the model's non-embedding parameters and D the training tokens. A law of pretraining
// from scratch, used here as a starting point for fine-tuning; `peft sweep` checks it.
import type { Plan } from '../../plan/index.js';
import type { TaskModel } from '../backbones/index.js';

export const STEP_LAW = { lrCoef: 1.79, lrN: -0.713, lrD: 0.307, bCoef: 0.58, bD: 0.571 } as const;

export interface StepLawResult {
  /** Non-embedding parameters of the backbone. */
  n: number;
  /** Training tokens of the run (steps × tokens per step, or epochs × the split's tokens). */
  d: number;
  lr: number | null;
  /** Tokens per optimizer step the law asks for, and the examples per forward pass that gives. */
  batchTokens: number | null;
  batchSize: number | null;
  /** The plan with the computed values in place and `stepLaw` removed. */
  plan: Plan;
}

export function stepLawLr(n: number, d: number): number {
  return STEP_LAW.lrCoef * n ** STEP_LAW.lrN * d ** STEP_LAW.lrD;
}

export function stepLawBatchTokens(d: number): number {
  return STEP_LAW.bCoef * d ** STEP_LAW.bD;
}

/**
 * Tokens per step when the run is S steps long and D = S·B itself: B = 0.58·(S·B)^0.571 solved
 * for B, B = (0.58·S^0.571)^(1/0.429).
 */
export function stepLawBatchTokensForSteps(steps: number): number {
  return (STEP_LAW.bCoef * steps ** STEP_LAW.bD) ** (1 / (1 - STEP_LAW.bD));
}

const EMBEDDING = /(^|\.)(embed_tokens|embeddings|embed_positions|wte|wpe|shared|lm_head|word_embeddings|position_embeddings)(\.|$)/;

/** Parameters of the backbone outside its embeddings and output head (N of the law). */
export function nonEmbeddingParams(model: TaskModel): number {
  let n = 0;
  for (const [name, p] of model.root.namedParams()) {
    if (EMBEDDING.test(name) || p.tags.has('lm_head')) continue;
    if (model.headPrefixes.some((h) => name === h || name.startsWith(h + '.'))) continue;
    n += p.size;
  }
  return n;
}

/**
 * The plan's auto values from the backbone and the training split (examples and tokens as read).
 * An epoch-based run's D is epochs × the split's tokens; a step-based one's is steps × batch tokens.
 */
export function applyStepLaw(plan: Plan, model: TaskModel, train: { examples: number; tokens: number }): StepLawResult {
  const auto = plan.stepLaw ?? { lr: false, batchSize: false };
  const t = plan.training;
  const n = nonEmbeddingParams(model);
  const meanTokens = Math.max(1, train.tokens / Math.max(1, train.examples));
  let batchSize = t.batchSize;
  let batchTokens: number | null = null;
  let d: number;
  if (t.maxSteps === null) {
    d = (t.epochs ?? 1) * train.tokens;
    if (auto.batchSize) batchTokens = stepLawBatchTokens(d);
  } else if (auto.batchSize) {
    batchTokens = stepLawBatchTokensForSteps(t.maxSteps);
    d = t.maxSteps * batchTokens;
  } else {
    d = t.maxSteps * batchSize * t.gradAccum * meanTokens;
  }
  if (batchTokens !== null) {
    batchSize = Math.min(train.examples, Math.max(1, Math.round(batchTokens / t.gradAccum / meanTokens)));
    if (t.maxSteps !== null) d = t.maxSteps * batchSize * t.gradAccum * meanTokens; // the tokens it will really see
  }
  const lr = auto.lr ? Number(stepLawLr(n, d).toPrecision(3)) : null;
  const { stepLaw: _done, ...rest } = plan;
  const resolved: Plan = {
    ...rest,
    training: { ...t, batchSize },
    optimizer: lr === null ? plan.optimizer : { ...plan.optimizer, lr },
  };
  return { n, d: Math.round(d), lr, batchTokens: batchTokens === null ? null : Math.round(batchTokens), batchSize: auto.batchSize ? batchSize : null, plan: resolved };
}
