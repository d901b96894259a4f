// The small closed vocabularies of the design space (He et al. 2022, Table 1): where Δh comes
// from, how it returns into h, and the options every function shares.

export type Insertion = 'parallel' | 'sequential';
export type Composition = 'add' | 'scaled' | 'gated';
export type Heads = 'single' | 'multi';
export type Nonlinearity = 'relu' | 'gelu' | 'gelu_new' | 'tanh' | 'silu' | 'swish' | 'sigmoid' | 'identity';
export type InitKind = 'lora' | 'bert' | 'zero' | 'gaussian' | 'ones' | 'random' | 'uniform' | 'vocab' | 'text' | 'corda';

export const INSERTIONS: readonly Insertion[] = ['parallel', 'sequential'];
export const COMPOSITIONS: readonly Composition[] = ['add', 'scaled', 'gated'];

/** What kind of representation a position is, as families report their sites. */
export type PositionKind = 'linear' | 'sublayer' | 'heads' | 'embeddings' | 'activation' | 'conv';

/** Which layers of each stack a module goes into. Resolved against the backbone's depth. */
export type LayerSelector =
  | 'all'
  | number[]
  | { from: number; to: number }
  | { top: number }
  | { bottom: number };
