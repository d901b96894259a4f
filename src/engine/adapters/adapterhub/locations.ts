// Where AdapterHub keeps each method's tensors in a family's module tree, against our sites:
// bottleneck adapters under the sublayer's module (BERT's BertSelfOutput/BertOutput) or the
// layer's `attention_adapters` / `cross_attention_adapters` / `output_adapters` (BART, DistilBERT);
// prefixes per location group (`self_prefix`, `encoder_prefix`, `cross_prefix`) under the base
// model; LoRA and (IA)³ under the wrapped linear layer, whose path is our linear site's path.
import type { SiteInfo, TaskModel } from '../../backbones/types.js';
import { PeftError } from '../../../errors.js';

type Locator = (layer: string, position: string) => string | null;

const BERT_LIKE: Locator = (layer, position) => {
  if (position === 'self_attn.output') return `${layer}.attention.output`;
  if (position === 'ffn.output') return `${layer}.output`;
  return null;
};

const LAYER_SLOTS: Locator = (layer, position) => {
  if (position === 'self_attn.output') return `${layer}.attention_adapters`;
  if (position === 'cross_attn.output') return `${layer}.cross_attention_adapters`;
  if (position === 'ffn.output') return `${layer}.output_adapters`;
  return null;
};

const FAMILIES: Record<string, Locator> = {
  bert: BERT_LIKE,
  roberta: BERT_LIKE,
  distilbert: LAYER_SLOTS,
  bart: LAYER_SLOTS,
  mbart: LAYER_SLOTS,
};

export const HUB_FAMILIES = Object.keys(FAMILIES);

export function checkFamily(model: TaskModel, where: string): void {
  if (!FAMILIES[model.family]) {
    throw new PeftError('FORMAT', `AdapterHub adapters on ${model.family} backbones are not mapped yet`, {
      where, hint: `supported families: ${HUB_FAMILIES.join(', ')}`,
    });
  }
}

/** The layer module's path of a site (`bert.encoder.layer.0`, `model.decoder.layers.1`). */
function layerPath(site: SiteInfo): string {
  const m = /^(.*\.(?:layer|layers)\.\d+)\./.exec(site.path);
  if (!m) throw new PeftError('FORMAT', `cannot tell the layer of site ${site.path}`);
  return m[1];
}

/** The module whose `.adapters.<name>.` holds the bottleneck adapter at a sublayer site. */
export function bottleneckLocation(model: TaskModel, site: SiteInfo): string {
  const at = FAMILIES[model.family]?.(layerPath(site), site.position) ?? null;
  if (!at) throw new PeftError('FORMAT', `AdapterHub has no bottleneck adapter slot at ${site.position} of ${model.family}`);
  return at;
}

/** AdapterHub's prefix location of an attention site. */
export function prefixLocation(model: TaskModel, site: SiteInfo): string {
  if (site.position.startsWith('cross_attn.')) return 'cross_prefix';
  return site.stack === 'encoder' ? 'encoder_prefix' : 'self_prefix';
}

/** The layer index AdapterHub gives a site: encoder-decoders number decoder layers after the encoder's. */
export function hubLayerIndex(model: TaskModel, stack: SiteInfo['stack'], layer: number): number {
  return stack === 'decoder' ? model.dims.layers + layer : layer;
}

/** `<base>.prefix_tuning.prefix_tunings.<adapter>` / `<base>.prompt_tuning.prompt_tunings.<adapter>`. */
export function poolPath(model: TaskModel, kind: 'prefix_tuning' | 'prompt_tuning', adapter: string): string {
  return `${model.basePrefix}.${kind}.${kind === 'prefix_tuning' ? 'prefix_tunings' : 'prompt_tunings'}.${adapter}`;
}
