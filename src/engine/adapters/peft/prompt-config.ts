// Python peft's prompt-learning types ↔ our `prefix` and `prompt` functions. Both store one
// tensor, `prompt_embeddings`, and keep the task head under `base_model.`.
//  - PREFIX_TUNING: [P, L·2·token_dim] viewed [P, L·2, heads, token_dim/heads]; layer l's keys
//    are slot 2l and its values slot 2l + 1, prepended in every self-attention, and real tokens'
//    positions start at P (shift_positions). For GQA models heads/token_dim are the key/value
//    heads'. A prefix MLP (ours or peft's prefix_projection) is stored collapsed: the file holds
//    its output. Encoder-decoders (num_transformer_submodules 2) are not supported yet.
//  - PROMPT_TUNING: [P, hidden] prepended to the input (word) embeddings: our `embeddings`. For
//    encoder-decoders with num_transformer_submodules 2, [2P, hidden]: the encoder's P, then the
//    decoder's (1: the encoder's only).
import * as tf from '@tensorflow/tfjs-core';
import { moduleFromWords, type InitKind } from '../../../plan/index.js';
import type { InjectedModule, PeftModel } from '../../methods/inject.js';
import type { SiteInfo, TaskModel } from '../../backbones/types.js';
import { PEFT_TASK_TYPES, type AdapterEntry, type AdapterFormat } from './types.js';
import { num, onlyHeadTrains, paramEntry, singleModule, siteParams, storedValue } from './entries.js';
import { headFromConfig } from './lora-config.js';
import { PROMPT_EMBEDDINGS } from './names.js';
import { userPosition } from './targets.js';
import { PeftError } from '../../../errors.js';

const PROMPT_KEYS = ['num_virtual_tokens', 'token_dim', 'num_transformer_submodules', 'num_attention_heads', 'num_layers', 'modules_to_save'];

/** The self-attention heads sites of a single-stack model, in layer order (where peft's prefixes go). */
function selfAttentionSites(model: TaskModel): SiteInfo[] {
  return model.sites.filter((s) => s.position === 'self_attn.heads' && s.stack === 'model').sort((a, b) => a.layer - b.layer);
}

function singleStack(model: TaskModel): boolean {
  return model.sites.every((s) => s.stack === 'model');
}

export function isPeftPrefix(peft: PeftModel, backboneNames: string[] = []): boolean {
  const m = singleModule(peft, 'prefix');
  if (!m || !onlyHeadTrains(peft, backboneNames) || !singleStack(peft.model)) return false;
  const all = selfAttentionSites(peft.model);
  return m.plan.composition === 'gated' && Boolean(m.plan.options.shift_positions)
    && m.sites.length === all.length && all.every((s) => m.sites.includes(s));
}

/** The word-embedding sites peft's prompt tuning prepends to: the model's, or the encoder's then the decoder's. */
function promptSites(model: TaskModel, submodules: number): SiteInfo[] {
  const at = (stack: SiteInfo['stack']) => model.sites.filter((s) => s.position === 'embeddings' && s.stack === stack);
  if (singleStack(model)) return submodules === 1 ? at('model') : [];
  return submodules === 1 ? at('encoder') : submodules === 2 ? [...at('encoder'), ...at('decoder')] : [];
}

export function isPeftPrompt(peft: PeftModel, backboneNames: string[] = []): boolean {
  const m = singleModule(peft, 'prompt');
  if (!m || !onlyHeadTrains(peft, backboneNames)) return false;
  const want = promptSites(peft.model, m.sites.length);
  return want.length === m.sites.length && want.every((s) => m.sites.includes(s));
}

/** The prompt module's sites in peft's order (encoder before decoder). */
function orderedSites(m: InjectedModule): SiteInfo[] {
  const rank = (s: SiteInfo) => ['model', 'encoder', 'decoder'].indexOf(s.stack);
  return [...m.sites].sort((a, b) => rank(a) - rank(b));
}

function promptLearningConfig(peft: PeftModel, baseModel: string, type: string, submodules = 1): Record<string, unknown> {
  return {
    auto_mapping: null,
    base_model_name_or_path: baseModel,
    inference_mode: true,
    num_layers: peft.model.dims.layers,
    num_transformer_submodules: submodules,
    peft_type: type,
    revision: null,
    task_type: PEFT_TASK_TYPES[peft.model.task],
  };
}

function checkSubmodules(cfg: Record<string, unknown>): void {
  const n = num(cfg, 'num_transformer_submodules', 1);
  if (n !== 1) {
    throw new PeftError('FORMAT', `num_transformer_submodules ${n} (an encoder-decoder adapter) is not supported yet`, {
      where: 'adapter_config.json: num_transformer_submodules',
    });
  }
}

/** Keys and values of the prefix in layer order: per site [kv, P, d] tensors (from the parameters or the collapsed MLP). */
function prefixTensors(peft: PeftModel, m: InjectedModule): { site: SiteInfo; key: tf.Tensor; value: tf.Tensor }[] {
  return [...m.sites].sort((a, b) => a.layer - b.layer).map((site) => ({
    site,
    key: storedValue(peft, m, `${site.path}.${m.plan.name}.prefix_key`),
    value: storedValue(peft, m, `${site.path}.${m.plan.name}.prefix_value`),
  }));
}

export const PREFIX_TUNING_FORMAT: AdapterFormat = {
  type: 'PREFIX_TUNING',
  promptLearning: true,
  keys: [...PROMPT_KEYS, 'encoder_hidden_size', 'prefix_projection'],
  expresses: (peft) => isPeftPrefix(peft, []),
  config(peft, baseModel) {
    const m = singleModule(peft, 'prefix')!;
    const { kv, dim } = m.sites[0].heads!;
    return {
      ...promptLearningConfig(peft, baseModel, 'PREFIX_TUNING'),
      encoder_hidden_size: kv * dim,
      num_attention_heads: kv,
      num_virtual_tokens: m.plan.options.length,
      prefix_projection: false,
      token_dim: kv * dim,
    };
  },
  method(model, cfg, warnings) {
    checkSubmodules(cfg);
    const sites = selfAttentionSites(model);
    if (!singleStack(model) || sites.length === 0) {
      throw new PeftError('FORMAT', `PREFIX_TUNING on this ${model.family} backbone is not supported yet`, { where: 'adapter_config.json: peft_type' });
    }
    const { kv, dim } = sites[0].heads!;
    const layers = num(cfg, 'num_layers', sites.length);
    const heads = num(cfg, 'num_attention_heads', kv);
    const tokenDim = num(cfg, 'token_dim', kv * dim);
    if (layers !== sites.length || heads !== kv || tokenDim !== kv * dim) {
      throw new PeftError('FORMAT', `prefix geometry (num_layers ${layers}, num_attention_heads ${heads}, token_dim ${tokenDim}) does not fit this backbone`
        + ` (${sites.length} layers, ${kv} key/value heads of ${dim})`, { where: 'adapter_config.json', hint: 'is this adapter for this backbone?' });
    }
    if (cfg.prefix_projection) warnings.push('adapter_config.json: prefix_projection — the stored prefixes are the projection\'s output and load as plain prefixes');
    const plan = moduleFromWords('prefix', {
      function: 'prefix', position: 'self_attn.heads', composition: 'gated', length: num(cfg, 'num_virtual_tokens', 20), reparam: null,
      shift_positions: true, init: 'random', dropout: 0,
    }, 'adapter_config.json', {}, 'prefix');
    return { method: { preset: 'prefix', modules: [plan], unfreeze: [], trainHead: headFromConfig(cfg) }, backboneNames: [] };
  },
  entries(peft) {
    const m = singleModule(peft, 'prefix')!;
    const { kv, dim } = m.sites[0].heads!;
    const P = m.plan.options.length;
    const L = m.sites.length;
    const params = new Map(siteParams(peft).map((sp) => [sp.name, sp.param]));
    const entry: AdapterEntry = {
      name: PROMPT_EMBEDDINGS,
      shape: [P, L * 2 * kv * dim],
      get: () => tf.tidy(() => {
        // [kv, P, d] per key/value → [P, 1, kv, d], slots in layer order → [P, L·2·kv·d]
        const slots = prefixTensors(peft, m).flatMap(({ key, value }) => [key, value].map((t) => tf.expandDims(tf.transpose(t, [1, 0, 2]), 1)));
        return tf.reshape(tf.concat(slots, 1), [P, L * 2 * kv * dim]);
      }),
      set: (t) => {
        const view = tf.reshape(t, [P, L * 2, kv, dim]);
        [...m.sites].sort((a, b) => a.layer - b.layer).forEach((site, l) => {
          for (const [slot, part] of [[2 * l, 'prefix_key'], [2 * l + 1, 'prefix_value']] as const) {
            const v = tf.tidy(() => tf.transpose(tf.reshape(tf.slice(view, [0, slot, 0, 0], [P, 1, kv, dim]), [P, kv, dim]), [1, 0, 2]));
            params.get(`${site.path}.${m.plan.name}.${part}`)!.set(v);
          }
        });
        view.dispose();
        t.dispose();
      },
    };
    return [entry];
  },
};

const PROMPT_INIT: Record<string, InitKind> = { RANDOM: 'random', TEXT: 'text', SAMPLE_VOCAB: 'vocab' };

export const PROMPT_TUNING_FORMAT: AdapterFormat = {
  type: 'PROMPT_TUNING',
  promptLearning: true,
  keys: [...PROMPT_KEYS, 'prompt_tuning_init', 'prompt_tuning_init_text', 'tokenizer_name_or_path', 'tokenizer_kwargs'],
  expresses: (peft) => isPeftPrompt(peft, []),
  config(peft, baseModel) {
    const o = singleModule(peft, 'prompt')!.plan.options;
    const text = o.init === 'text';
    return {
      ...promptLearningConfig(peft, baseModel, 'PROMPT_TUNING', peft.modules[0].sites.length),
      num_attention_heads: peft.model.dims.heads,
      num_virtual_tokens: o.length,
      prompt_tuning_init: text ? 'TEXT' : o.init === 'vocab' ? 'SAMPLE_VOCAB' : 'RANDOM',
      prompt_tuning_init_text: text ? o.init_text ?? null : null,
      token_dim: peft.model.dims.hidden,
      tokenizer_kwargs: null,
      tokenizer_name_or_path: text ? baseModel : null,
    };
  },
  method(model, cfg) {
    const submodules = num(cfg, 'num_transformer_submodules', 1);
    const sites = promptSites(model, submodules);
    if (sites.length === 0) {
      throw new PeftError('FORMAT', `PROMPT_TUNING with num_transformer_submodules ${submodules} does not fit this ${model.family} backbone`, {
        where: 'adapter_config.json: num_transformer_submodules', hint: '1 for encoder-only and decoder-only models, 1 or 2 for encoder-decoders',
      });
    }
    const init = PROMPT_INIT[String(cfg.prompt_tuning_init ?? 'RANDOM')] ?? 'random';
    const text = init === 'text' && typeof cfg.prompt_tuning_init_text === 'string' ? { init_text: cfg.prompt_tuning_init_text } : {};
    const plan = moduleFromWords('prompt', {
      function: 'prompt', position: sites.map(userPosition), length: num(cfg, 'num_virtual_tokens', 20), init, dropout: 0, ...text,
    }, 'adapter_config.json', {}, 'prompt');
    return { method: { preset: 'prompt', modules: [plan], unfreeze: [], trainHead: headFromConfig(cfg) }, backboneNames: [] };
  },
  entries(peft) {
    const m = singleModule(peft, 'prompt')!;
    const P = m.plan.options.length;
    const D = peft.model.dims.hidden;
    const byName = new Map(siteParams(peft).map((sp) => [sp.site.path, sp.param]));
    const params = orderedSites(m).map((s) => byName.get(s.path)!);
    if (params.length === 1) return [paramEntry(PROMPT_EMBEDDINGS, params[0])];
    // encoder-decoders: the encoder's P rows, then the decoder's
    return [{
      name: PROMPT_EMBEDDINGS,
      shape: [params.length * P, D],
      get: () => tf.concat(params.map((p) => p.value), 0),
      set: (t) => {
        params.forEach((p, i) => p.set(tf.slice(t, [i * P, 0], [P, D])));
        t.dispose();
      },
    }];
  },
};
