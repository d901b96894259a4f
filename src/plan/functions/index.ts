// The function table: one entry per function kind (a file each). Everything that lists the
// functions — the planner, the recipe schema, `peft methods`, the engine's module registry —
// reads this object, so a new kind is an entry here plus its module in src/engine/methods.
import { LOWRANK } from './lowrank.js';
import { BOTTLENECK } from './bottleneck.js';
import { PREFIX } from './prefix.js';
import { SCALING } from './scaling.js';
import { BIAS } from './bias.js';
import { PROMPT } from './prompt.js';
import { HADAMARD } from './hadamard.js';
import { SVD } from './svd.js';
import { SUBSPACE } from './subspace.js';
import { POLY } from './poly.js';
import { MTLORA } from './mtlora.js';
import { MIXTURE } from './mixture.js';
import type { DecidedOptions, FunctionSpec } from './spec.js';

export const FUNCTIONS = {
  lowrank: LOWRANK,
  bottleneck: BOTTLENECK,
  prefix: PREFIX,
  scaling: SCALING,
  bias: BIAS,
  prompt: PROMPT,
  hadamard: HADAMARD,
  svd: SVD,
  subspace: SUBSPACE,
  poly: POLY,
  mtlora: MTLORA,
  mixture: MIXTURE,
} as const;

export type FunctionKind = keyof typeof FUNCTIONS;
export const FUNCTION_KINDS = Object.keys(FUNCTIONS) as FunctionKind[];

/** The decided options of function K. */
export type OptionsOf<K extends FunctionKind> = DecidedOptions<(typeof FUNCTIONS)[K]['options']>;

export function functionSpec(kind: string): FunctionSpec | null {
  return (FUNCTIONS as unknown as Record<string, FunctionSpec>)[kind] ?? null;
}

export * from './kinds.js';
export { OPTIONS, COMMON_OPTION_SCHEMAS, MAX_SIZE, MAX_LENGTH, NONLINEARITIES, INIT_KINDS } from './options.js';
export type { OptionSchema, OptionUse } from './options.js';
export type { FunctionSpec, DecidedOptions, PositionFit, ModuleShape } from './spec.js';
export { alphaOverRank } from './spec.js';
export { adaloraScale } from './svd.js';
