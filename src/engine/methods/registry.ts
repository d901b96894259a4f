// The engine's half of the function table: each function kind's module (a file each). A kind in
// the plan's table without a module here fails to compile.
import type { FunctionKind } from '../../plan/index.js';
import type { FunctionModule } from './types.js';
import { lowrankModule } from './lowrank.js';
import { bottleneckModule } from './bottleneck.js';
import { scalingModule } from './scaling.js';
import { biasModule } from './bias.js';
import { prefixModule } from './prefix.js';
import { promptModule } from './prompt.js';
import { hadamardModule } from './hadamard.js';
import { svdModule } from './svd.js';
import { subspaceModule } from './subspace.js';
import { polyModule } from './poly.js';
import { mtloraModule } from './mtlora.js';
import { mixtureModule } from './mixture.js';

export const MODULES: { [K in FunctionKind]: FunctionModule<K> } = {
  lowrank: lowrankModule,
  bottleneck: bottleneckModule,
  scaling: scalingModule,
  bias: biasModule,
  prefix: prefixModule,
  prompt: promptModule,
  hadamard: hadamardModule,
  svd: svdModule,
  subspace: subspaceModule,
  poly: polyModule,
  mtlora: mtloraModule,
  mixture: mixtureModule,
};
