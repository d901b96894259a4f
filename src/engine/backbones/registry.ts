// Which family builds a config.json: by `model_type`, else by `architectures`.
import { PeftError } from '../../errors.js';
import type { Family } from './types.js';
import { llamaFamily } from './llama.js';
import { bertFamily } from './bert.js';
import { robertaFamily } from './roberta.js';
import { distilbertFamily } from './distilbert.js';
import { vitFamily } from './vit.js';
import { gpt2Family } from './gpt2.js';
import { bartFamily } from './bart.js';
import { mbartFamily } from './mbart.js';
import { t5Family } from './t5.js';
import { VISION_FAMILIES } from './vision-registry.js';

export const FAMILIES: Family[] = [
  llamaFamily,
  bertFamily,
  robertaFamily,
  distilbertFamily,
  vitFamily,
  gpt2Family,
  bartFamily,
  mbartFamily,
  t5Family,
  ...VISION_FAMILIES,
];

export function supportedModelTypes(): string[] {
  return FAMILIES.flatMap((f) => f.info.modelTypes);
}

export function familyFor(config: Record<string, unknown>, where = 'config.json'): Family {
  const modelType = typeof config.model_type === 'string' ? config.model_type : null;
  if (modelType) {
    const f = FAMILIES.find((fam) => fam.info.modelTypes.includes(modelType));
    if (f) return f;
  }
  const archs = Array.isArray(config.architectures) ? config.architectures.map(String) : [];
  for (const a of archs) {
    const lower = a.toLowerCase();
    const f = FAMILIES.find((fam) => fam.info.modelTypes.some((t) => lower.startsWith(t.replace(/[-_]/g, ''))));
    if (f) return f;
  }
  const what = modelType ? `model_type "${modelType}"` : archs.length ? `architectures ${JSON.stringify(archs)}` : 'no model_type';
  throw new PeftError('BACKBONE', `unsupported backbone family (${what})`, {
    where,
    hint: `supported model types: ${supportedModelTypes().join(', ')}`,
  });
}
