// The one factory the training loop calls: an optimizer from the plan's `optimizer` section.
import type * as tf from '@tensorflow/tfjs-core';
import type { OptimizerPlan } from '../../../plan/index.js';
import { Adam } from './adam.js';
import { AdamW } from './adamw.js';
import { Lion } from './lion.js';
import type { Optimizer } from './optimizer.js';
import { Sgd } from './sgd.js';

/**
 * Builds the optimizer the plan names over `params` (the trainable set, by full name). Every
 * setting comes from the plan (the planner decides defaults, e.g. Lion's betas (0.9, 0.99)).
 * SGD uses `momentum` without Nesterov; the other optimizers ignore `momentum`, Lion ignores `eps`.
 */
export function createOptimizer(plan: OptimizerPlan, params: Map<string, tf.Variable>): Optimizer {
  const common = { lr: plan.lr, weightDecay: plan.weightDecay, groups: plan.groups };
  switch (plan.name) {
    case 'adamw':
      return new AdamW(params, { ...common, betas: plan.betas, eps: plan.eps });
    case 'adam':
      return new Adam(params, { ...common, betas: plan.betas, eps: plan.eps });
    case 'sgd':
      return new Sgd(params, { ...common, momentum: plan.momentum });
    case 'lion':
      return new Lion(params, { ...common, betas: plan.betas });
  }
}
