// AdapterHub prefix tuning (PrefixTuningConfig: `architecture: prefix_tuning`) as our `prefix`
// module: gated (real prefix attention), multi-head, parallel, positions kept. One prefix per
// location: BERT's self-attention (`self_prefix`); BART's encoder self-attention
// (`encoder_prefix`, if encoder_prefix), decoder self-attention (`self_prefix`) and decoder
// cross-attention (`cross_prefix`, if cross_prefix). The MLP version (`wte` → control_trans.0 →
// tanh → control_trans.2) is our `reparam: {hidden: bottleneck_size}`, one MLP per location group,
// with the same [P, layers·2, heads, head_dim] output layout; the flat version's `control_trans`
// vector is viewed in that layout and split into each attention's keys (slot 2i) and values (2i+1).
import * as tf from '@tensorflow/tfjs-core';
import type { SiteInfo } from '../../backbones/types.js';
import { prefixGroup } from '../../methods/prefix.js';
import { HubConfig } from './config.js';
import { poolPath, prefixLocation } from './locations.js';
import { bind, paramNamed } from './bindings.js';
import type { Binding, HubContext, HubModule, ParamLookup } from './types.js';

const MLP: [string, string][] = [
  ['wte.weight', 'embedding'],
  ['control_trans.0.weight', 'transform.0.weight'], ['control_trans.0.bias', 'transform.0.bias'],
  ['control_trans.2.weight', 'transform.2.weight'], ['control_trans.2.bias', 'transform.2.bias'],
];

export function prefixModules(raw: Record<string, unknown>, where: string, ctx: HubContext, name: string): HubModule[] {
  const c: HubConfig = new HubConfig(raw, where, ctx.warnings);
  const model = ctx.model;
  const encoderDecoder = model.sites.some((s) => s.stack === 'decoder');
  const encoder = c.bool('encoder_prefix', true);
  const cross = c.bool('cross_prefix', true);
  let positions = ['attn.heads'];
  if (encoderDecoder && !(encoder && cross)) {
    positions = ['decoder.self_attn.heads'];
    if (encoder) positions.push('encoder.self_attn.heads');
    if (cross) positions.push('decoder.cross_attn.heads');
  }
  const leave = c.get('leave_out');
  if (Array.isArray(leave) && leave.length > 0) c.unsupported('leave_out', leave, '[] (prefixes in every layer)');
  const flat = c.bool('flat', false);
  const length = c.num('prefix_length', 30);
  const hidden = c.num('bottleneck_size', 512);
  const act = c.str('non_linearity', 'tanh');
  if (!flat && act !== 'tanh') c.unsupported('non_linearity', act, 'tanh');
  if (c.bool('use_gating', false)) c.unsupported('use_gating', true, 'false');
  c.ignore('shared_gating');
  const dropout = c.num('dropout', 0);
  if (dropout > 0) ctx.warnings.push(`${where}.dropout: AdapterHub drops the prefixes themselves, we do not (training only; outputs are the same)`);
  c.finish();

  const spec: Record<string, unknown> = {
    function: 'prefix', position: positions, length, reparam: flat ? null : { hidden },
    heads: 'multi', insertion: 'parallel', composition: 'gated', init: 'random',
  };
  return [{
    name, spec,
    bindings: (inj, params) => {
      const groups = new Map<string, SiteInfo[]>();
      for (const s of [...inj.sites].sort((a, b) => a.layer - b.layer)) groups.set(prefixGroup(s), [...(groups.get(prefixGroup(s)) ?? []), s]);
      const out: Binding[] = [];
      for (const [g, members] of groups) {
        const file = `${poolPath(model, 'prefix_tuning', ctx.adapter)}.${prefixLocation(model, members[0])}`;
        if (flat) out.push(flatBinding(`${file}.control_trans`, members, inj.plan.name, length, params));
        else for (const [theirs, ours] of MLP) out.push(bind([`${file}.${theirs}`], paramNamed(params, `${inj.plan.name}.${g}.${ours}`)));
      }
      return out;
    },
  }];
}

/** The flat `control_trans` [P·L·2·H·d] of one location, split into its L attentions' keys and values. */
function flatBinding(file: string, members: SiteInfo[], name: string, length: number, params: ParamLookup): Binding {
  const { kv, dim } = members[0].heads!;
  const L = members.length;
  return {
    names: [file], shape: [length * L * 2 * kv * dim],
    set: (t) => {
      const all = tf.reshape(t, [length, L * 2, kv, dim]);
      members.forEach((site, i) => {
        for (const [slot, part] of [[2 * i, 'prefix_key'], [2 * i + 1, 'prefix_value']] as const) {
          const v = tf.tidy(() => tf.transpose(tf.reshape(tf.slice(all, [0, slot, 0, 0], [-1, 1, -1, -1]), [length, kv, dim]), [1, 0, 2]));
          paramNamed(params, `${site.path}.${name}.${part}`).set(v);
        }
      });
      all.dispose();
      t.dispose();
    },
  };
}
