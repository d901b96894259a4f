// What one table entry says about a function kind — everything the planner, the schema, the
// docs and the engine need to know about it that is not the computation itself. Adding a
// function kind is adding one entry (a file beside this one) and its module in src/engine/methods.
import type { Composition, Heads, InitKind, Insertion, PositionKind } from './kinds.js';
import type { OptionUse } from './options.js';

/** A position a module would go at, as the planner and the injector see it. */
export interface PositionFit<O> {
  /** Canonical role: `attn.query`, `self_attn.heads`, `ffn.output`, `embeddings`, … */
  role: string;
  /** The kind of representation there (a fused q/k/v slice is an `activation`, not a `linear`). */
  kind: PositionKind;
  /** The role names a projection, but this backbone has no weight of its own there (GPT-2's q/k/v). */
  sliced: boolean;
  heads: Heads;
  options: O;
}

type ValueOf<X> = X extends OptionUse<infer T> ? T : never;
type RequiredKeys<U> = { [K in keyof U]: undefined extends ValueOf<U[K]> ? never : K }[keyof U];
type OptionalKeys<U> = { [K in keyof U]: undefined extends ValueOf<U[K]> ? K : never }[keyof U];

/** The decided options of a function: its table's options (optional ones only when set), plus init and dropout. */
export type DecidedOptions<U> =
  { -readonly [K in RequiredKeys<U>]: ValueOf<U[K]> }
  & { -readonly [K in OptionalKeys<U>]?: Exclude<ValueOf<U[K]>, undefined> }
  & { init: InitKind; dropout: number };

export interface FunctionSpec<K extends string = string, U extends Record<string, OptionUse<unknown>> = Record<string, OptionUse<unknown>>> {
  kind: K;
  /** What the function computes, in a few words (`peft methods`, the schema's enum description). */
  title: string;
  /** The method that made it known, for the schema's description: `lowrank (LoRA)`. */
  knownAs: string;
  /** The paper it comes from. */
  paper: string;
  /** The option that sets its size (rank, bottleneck, length), if any. */
  size: (keyof U & string) | null;
  options: U;
  defaults: { positions: readonly string[]; insertion: Insertion; composition: Composition; init: InitKind; heads: Heads };
  /** The init values it understands (the first is the default). */
  inits: readonly InitKind[];
  /** At attn.heads it works per head (heads: multi is its default there). */
  perHead?: boolean;
  /** Functions that compose in their own way (h ⊙ l, h + b, prepending): a recipe's composition is refused. */
  ownComposition?: string;
  /** Insertions it allows, and why not the other. */
  insertion?: { only: Insertion; why: string };
  /** Why it cannot go at a position (null: it can). */
  misfit(p: PositionFit<DecidedOptions<U>>): string | null;
  /** The scale s of `composition: scaled` when the recipe gives none (1 when the function has no rule). */
  scale(o: DecidedOptions<U>): number;
  /** Checks across options (the recipe path of the module is given for messages); returns problems. */
  check?(o: DecidedOptions<U>, m: ModuleShape): { key: string; message: string; hint?: string }[];
}

/** The dimensions of a module other than its options, for checks across them. */
export interface ModuleShape {
  insertion: Insertion;
  composition: Composition;
  scale: number | 'learned';
  positions: readonly string[];
  heads: Heads;
  /** The backbone's family, when known: is it post-LN (each sublayer normalises x + h)? */
  postLn: boolean | null;
  familyName: string | null;
}

/** Keeps the literal types of an entry (its kind and option types) while checking it against FunctionSpec. */
export function defineFunction<K extends string, U extends Record<string, OptionUse<unknown>>>(spec: FunctionSpec<K, U>): FunctionSpec<K, U> {
  return spec;
}

/** The low-rank scale rule (LoRA, LoHa): s = α/r, or α/√r rank-stabilised (rsLoRA). */
export function alphaOverRank(o: { rank: number; alpha: number; rslora?: boolean }): number {
  return o.rslora ? o.alpha / Math.sqrt(o.rank) : o.alpha / o.rank;
}
