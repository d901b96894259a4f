// prompt (prompt tuning, Lester et al. 2021): `length` learned vectors prepended to the input
// sequence. At `embeddings` they join the word embeddings before anything else is added, so
// they get positions (Python peft); at `embeddings.output` they come after the embedding module
// (AdapterHub). The attention mask grows with ones; the family's embeddingSite does that.
// Init: `random` N(0, 1) (peft's RANDOM: a fresh torch Embedding), `uniform` U(±0.5)
// (AdapterHub), `vocab` rows of the word embedding at seeded token ids drawn uniformly from the
// vocabulary (Lester et al.; peft's SAMPLE_VOCAB), `text` the embeddings of init_text's tokens,
// repeated or cut to `length` (peft's TEXT), `zero`, `gaussian`/`bert` N(0, 0.02).
import * as tf from '@tensorflow/tfjs-core';
import { Module, type Param } from '../nn/module.js';
import type { Attachment, ForwardContext } from '../nn/context.js';
import type { TaskModel } from '../backbones/types.js';
import type { BuildContext, Foldable, FunctionModule, WeightFold } from './types.js';
import type { InitKind, ModulePlanOf } from '../../plan/index.js';
import type { InitRule } from './init.js';
import { seedFor, uniformStream } from '../random.js';
import { PeftError } from '../../errors.js';

export class PromptEmbedding extends Module implements Attachment, Foldable {
  readonly embedding: Param;
  constructor(readonly length: number, readonly dim: number) {
    super();
    this.embedding = this.param('embedding', [length, dim], ['adapter']);
  }

  prepend(batch: number, _ctx: ForwardContext): tf.Tensor3D {
    return tf.tile(tf.expandDims(this.embedding.value, 0), [batch, 1, 1]) as tf.Tensor3D;
  }

  fold(): WeightFold {
    return { kind: 'refuse', why: 'it adds positions to the sequence, not weights' };
  }
}

/** The word-embedding table [vocab, hidden] of a backbone. */
export function wordEmbedding(model: TaskModel): Param | null {
  const { vocab, hidden } = model.dims;
  const hit = model.root.namedParams().find(([, p]) => p.tags.has('embedding') && p.shape[0] === vocab && p.shape[1] === hidden);
  return hit ? hit[1] : null;
}

/** Token ids for `text` init: the text's tokens repeated until there are `length`, then cut. */
export function textTokenIds(ids: number[], length: number): number[] {
  if (ids.length === 0) return [];
  const out: number[] = [];
  while (out.length < length) out.push(...ids);
  return out.slice(0, length);
}

/** The simple vector inits shared by prompt and prefix (null: a data-dependent one). */
export function vectorInitRule(init: InitKind): InitRule | null {
  switch (init) {
    case 'random': return { kind: 'normal', std: 1 };
    case 'uniform': return { kind: 'uniform', bound: 0.5 };
    case 'zero': return { kind: 'zeros' };
    case 'ones': return { kind: 'ones' };
    case 'gaussian':
    case 'bert':
    case 'lora': return { kind: 'normal', std: 0.02 };
    default: return null;
  }
}

function rowsOf(table: Param, ids: number[]): tf.Tensor2D {
  return tf.tidy(() => tf.gather(table.value, tf.tensor1d(ids, 'int32')) as tf.Tensor2D);
}

function initFromVocabulary(c: BuildContext<ModulePlanOf<'prompt'>>, m: PromptEmbedding): void {
  const init = c.plan.options.init;
  // the vocabulary is read only when values are wanted (not for inspect's shapes)
  c.init(m.embedding, { kind: 'zeros' });
  if (!m.embedding.loaded) return;
  const table = wordEmbedding(c.model);
  if (!table || !table.loaded) {
    throw new PeftError('RECIPE', `prompt init: ${init} copies word embeddings, but this ${c.model.family} backbone has no loaded word-embedding table`, {
      where: `method.modules.${c.plan.name}.init`, hint: 'use init: random or uniform',
    });
  }
  let ids: number[];
  if (init === 'text') {
    const text = c.plan.options.init_text ?? '';
    if (!c.tokenize) {
      throw new PeftError('RECIPE', 'prompt init: text needs the backbone\'s tokenizer, and none was loaded', {
        where: `method.modules.${c.plan.name}.init`, hint: 'the backbone directory needs tokenizer.json, or use init: vocab',
      });
    }
    ids = textTokenIds(c.tokenize(text), m.length);
    if (ids.length === 0) {
      throw new PeftError('RECIPE', `init_text ${JSON.stringify(text)} has no tokens`, { where: `method.modules.${c.plan.name}.init_text` });
    }
  } else {
    const next = uniformStream(seedFor(c.seed, m.embedding.fullName));
    const vocab = table.shape[0];
    ids = Array.from({ length: m.length }, () => Math.min(vocab - 1, Math.floor(next() * vocab)));
  }
  m.embedding.set(rowsOf(table, ids));
}

export const promptModule: FunctionModule<'prompt'> = {
  kind: 'prompt',
  build(c) {
    const { length, init } = c.plan.options;
    const made = c.sites.map((site) => ({ site, m: c.store.add(`${site.path}.${c.plan.name}`, new PromptEmbedding(length, site.outDim)) }));
    c.store.nameTree();
    const rule = vectorInitRule(init);
    for (const { m } of made) {
      if (rule) c.init(m.embedding, rule);
      else initFromVocabulary(c, m);
    }
    return { attachments: new Map(made.map(({ site, m }) => [site.path, m])) };
  },
};
