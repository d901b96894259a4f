// Python peft's VBLORA type ↔ lowrank with basis: bank (vector-bank.ts). Tensors: per site
// `<path>.vblora_logits_A` [r, in/L, N] and `<path>.vblora_logits_B` [out/L, r, N]; the shared
// bank `base_model.vblora_vector_bank` [N, L]. With save_only_topk (peft's save_only_topk_weights)
// each logits tensor is stored as `…_topk_indices` (the smallest integer dtype, as peft) and
// `…_topk_weights` (the k − 1 first softmax weights) and loads as peft loads it: logits log(w) at
// the indices and (a finite) minus infinity elsewhere — the same A and B, for inference.
import * as tf from '@tensorflow/tfjs-core';
import type { PeftModel } from '../../methods/inject.js';
import type { TaskModel } from '../../backbones/types.js';
import type { AdapterEntry, AdapterFormat } from './types.js';
import { PEFT_TASK_TYPES } from './types.js';
import { modulesForSites, targetSitesOf, targetModulesFor } from './targets.js';
import { num, onlyHeadTrains, paramEntry, siteParams, uniformModules, type SiteParam } from './entries.js';
import { headFromConfig, isGpt2Style, modulesToSave, rejectPatterns } from './lora-config.js';
import { peftSiteName, PROMPT_LEARNING_PREFIX } from './names.js';
import { VBLORA_INIT } from '../../methods/vector-bank.js';
import { PeftError } from '../../../errors.js';

/** A logit no top-k picks and that stays finite (−∞ · 0 would be NaN in the admixture). */
const NEVER = -1e30;

export function isPeftVblora(peft: PeftModel, backboneNames: string[] = []): boolean {
  const m = uniformModules(peft, 'lowrank');
  if (!m || peft.modules.length !== 1 || !onlyHeadTrains(peft, backboneNames)) return false;
  const p = m.plan;
  return p.options.basis === 'bank' && p.insertion === 'parallel' && p.composition === 'add' && p.heads === 'single' && m.sites.every((s) => s.kind === 'linear');
}

/** peft's dtype for top-k indices into a bank of N vectors. */
export function indexDtype(N: number): 'U8' | 'I16' | 'I32' | 'I64' {
  return N < 2 ** 8 ? 'U8' : N < 2 ** 15 ? 'I16' : N < 2 ** 31 ? 'I32' : 'I64';
}

/**
 * The two entries of a logits tensor stored as its top-k indices and the k − 1 first softmax
 * weights of those (the last is 1 − their sum); set together, they rebuild the logits as peft does.
 */
function topkEntries(sp: SiteParam, k: number): AdapterEntry[] {
  const shape = [...sp.param.shape];
  const N = shape[shape.length - 1];
  const lead = shape.slice(0, -1);
  const base = peftSiteName(sp.site.path, sp.local);
  let indices: tf.Tensor | null = null;
  const top = () => tf.topk(sp.param.value, k);
  return [
    {
      name: `${base}_topk_indices`, shape: [...lead, k], dtype: indexDtype(N),
      get: () => tf.tidy(() => top().indices),
      set: (t) => { indices = t; },
    },
    {
      name: `${base}_topk_weights`, shape: [...lead, k - 1],
      get: () => tf.tidy(() => tf.slice(tf.softmax(top().values), new Array(lead.length + 1).fill(0), [...lead, k - 1])),
      set: (w) => {
        const idx = indices!;
        const logits = tf.tidy(() => {
          const full = tf.concat([w, tf.sub(1, tf.sum(w, -1, true))], -1);
          const hot = tf.reshape(tf.oneHot(tf.cast(tf.reshape(idx, [-1]), 'int32'), N), [...lead, k, N]);
          const picked = tf.sum(tf.mul(tf.expandDims(tf.log(full), -1), hot), -2);
          const chosen = tf.sum(hot, -2);
          return tf.add(tf.mul(picked, chosen), tf.mul(tf.sub(1, chosen), NEVER));
        });
        sp.param.set(logits);
        idx.dispose();
        w.dispose();
      },
    },
  ];
}

export const VBLORA_FORMAT: AdapterFormat = {
  type: 'VBLORA',
  promptLearning: false,
  keys: [
    'bias', 'fan_in_fan_out', 'init_logits_std', 'init_vector_bank_bound', 'layers_pattern', 'layers_to_transform', 'modules_to_save',
    'num_vectors', 'r', 'save_only_topk_weights', 'target_modules', 'topk', 'vblora_dropout', 'vector_length',
  ],
  expresses: (peft) => isPeftVblora(peft, []),
  config(peft, baseModel) {
    const m = uniformModules(peft, 'lowrank')!;
    const o = m.plan.options;
    const { target_modules, layers_to_transform } = targetModulesFor(peft.model, m.sites);
    return {
      auto_mapping: null,
      base_model_name_or_path: baseModel,
      bias: 'none',
      fan_in_fan_out: isGpt2Style(peft),
      inference_mode: true,
      init_logits_std: VBLORA_INIT.logitsStd,
      init_vector_bank_bound: VBLORA_INIT.bankBound,
      layers_pattern: null,
      layers_to_transform,
      modules_to_save: modulesToSave(peft),
      num_vectors: o.num_vectors,
      peft_type: 'VBLORA',
      r: o.rank,
      revision: null,
      save_only_topk_weights: o.save_only_topk === true,
      target_modules,
      task_type: PEFT_TASK_TYPES[peft.model.task],
      topk: o.top_k,
      vblora_dropout: o.dropout,
      vector_length: o.vector_length,
    };
  },
  method(model: TaskModel, cfg) {
    rejectPatterns(cfg, ['rank_pattern', 'alpha_pattern']);
    if (cfg.bias !== undefined && cfg.bias !== 'none') {
      throw new PeftError('FORMAT', `bias: ${JSON.stringify(cfg.bias)} is not supported yet`, { where: 'adapter_config.json: bias', hint: 'VB-LoRA adapters with bias "none" load' });
    }
    const sites = targetSitesOf(model, cfg);
    const modules = modulesForSites(sites, 'vblora', {
      function: 'lowrank', basis: 'bank', insertion: 'parallel', composition: 'add', heads: 'single',
      rank: num(cfg, 'r', 4), num_vectors: num(cfg, 'num_vectors', 256), vector_length: num(cfg, 'vector_length', 256), top_k: num(cfg, 'topk', 2),
      save_only_topk: cfg.save_only_topk_weights === true, dropout: num(cfg, 'vblora_dropout', 0), init: 'lora',
    }, 'vblora');
    if (modules.length !== 1) {
      throw new PeftError('FORMAT', 'the VB-LoRA targets select different layers at different positions: one shared bank cannot serve them here', { where: 'adapter_config.json: target_modules' });
    }
    return { method: { preset: 'vblora', modules, unfreeze: [], trainHead: headFromConfig(cfg) }, backboneNames: [] };
  },
  entries(peft) {
    const o = uniformModules(peft, 'lowrank')!.plan.options;
    const topkOnly = o.save_only_topk === true;
    const k = o.top_k!;
    const own = siteParams(peft).flatMap((sp) => (topkOnly ? topkEntries(sp, k) : [paramEntry(peftSiteName(sp.site.path, sp.local), sp.param)]));
    const bank = peft.store.namedParams().filter(([n]) => n === `${peft.modules[0].plan.name}.vblora.vector_bank`)
      .map(([, p]) => paramEntry(`${PROMPT_LEARNING_PREFIX}vblora_vector_bank`, p));
    return [...own, ...bank];
  },
};
