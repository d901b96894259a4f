import type { FunctionKind } from '../../recipes/types.js';
import type { FunctionBuilder } from './types.js';
import { lowrankBuilder } from './lowrank.js';
import { bottleneckBuilder } from './bottleneck.js';
import { scalingBuilder } from './scaling.js';
import { biasBuilder } from './bias.js';
import { prefixBuilder } from './prefix.js';
import { promptBuilder } from './prompt.js';
import { hadamardBuilder } from './hadamard.js';
import { svdBuilder } from './svd.js';

export const BUILDERS: Partial<Record<FunctionKind, FunctionBuilder>> = {
  lowrank: lowrankBuilder,
  bottleneck: bottleneckBuilder,
  scaling: scalingBuilder,
  bias: biasBuilder,
  prefix: prefixBuilder,
  prompt: promptBuilder,
  hadamard: hadamardBuilder,
  svd: svdBuilder,
};
