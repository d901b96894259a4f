// CorDA (lowrank init: corda) written as Python peft's LORA type, the way peft itself converts a
// CorDA adapter to be applied to the original weights (path_initial_model_for_weight_conversion):
// Δh = s·u·(B·A − B0·A0)ᵀ is the LoRA of rank 2r with lora_A = [A; A0] [2r, in],
// lora_B = [B, −B0] [out, 2r] and lora_alpha = s·2r. It loads in Python peft, and here, as that
// plain LoRA (the same function); nothing of it is read back into a CorDA module.
import * as tf from '@tensorflow/tfjs-core';
import type { PeftModel } from '../../methods/inject.js';
import type { AdapterEntry, AdapterFormat } from './types.js';
import { onlyHeadTrains, scaleIs, siteParams, uniformModules } from './entries.js';
import { LORA_FORMAT } from './lora-config.js';
import { peftSiteName } from './names.js';
import { FUNCTIONS } from '../../../plan/index.js';
import { PeftError } from '../../../errors.js';

export function isCordaLora(peft: PeftModel, backboneNames: string[] = []): boolean {
  const m = uniformModules(peft, 'lowrank');
  if (!m || !onlyHeadTrains(peft, backboneNames)) return false;
  const p = m.plan;
  const o = p.options;
  return o.init === 'corda' && !o.rslora && p.insertion === 'parallel' && p.heads === 'single' && m.sites.every((s) => s.kind === 'linear')
    && scaleIs(p, FUNCTIONS.lowrank.scale(o));
}

export const CORDA_LORA_FORMAT: AdapterFormat = {
  ...LORA_FORMAT,
  expresses: (peft) => isCordaLora(peft, []),
  config(peft, baseModel, backboneNames) {
    const cfg = LORA_FORMAT.config(peft, baseModel, backboneNames);
    const o = uniformModules(peft, 'lowrank')!.plan.options;
    // rank 2r with the same s = α/r: lora_alpha doubles with the rank
    return { ...cfg, r: 2 * o.rank, lora_alpha: 2 * o.alpha };
  },
  entries(peft) {
    const params = siteParams(peft);
    const buffers = new Map(peft.store.namedBuffers());
    const out: AdapterEntry[] = [];
    const readOnly = (name: string) => () => { throw new PeftError('RUN', 'a CorDA adapter written as LoRA loads as that LoRA', { where: name }); };
    for (const sp of params) {
      if (sp.local !== 'lora_A' && sp.local !== 'lora_B') continue;
      const frozen = buffers.get(sp.name.replace(/lora_([AB])$/, 'corda_$10'))!;
      const name = peftSiteName(sp.site.path, sp.local, '.weight');
      const [d0, d1] = sp.param.shape;
      out.push({
        name,
        shape: sp.local === 'lora_A' ? [2 * d0, d1] : [d0, 2 * d1],
        get: () => tf.tidy(() => (sp.local === 'lora_A' ? tf.concat([sp.param.value, frozen.value], 0) : tf.concat([sp.param.value, tf.neg(frozen.value)], 1))),
        set: readOnly(name),
      });
    }
    return out;
  },
};
