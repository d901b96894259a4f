// AdapterHub bottleneck adapters (BnConfig: seq_bn, double_seq_bn, par_bn, scaled_par_bn, the
// adapter half of mam) as our `bottleneck` modules. mh_adapter → self_attn.output, cross_adapter →
// cross_attn.output, output_adapter → ffn.output; bottleneck = hidden // reduction_factor;
// is_parallel → insertion; scaling → composition (scaled s, or learned); original_ln_before (at a
// post-LN sublayer) → ln_input: original; ln_before / ln_after → layernorm. Options whose maths we
// do not compute (gating, PHM/Compacter, invertible adapters, channel scaling, LN-before residuals)
// are errors naming the key.
import type { Param } from '../../nn/module.js';
import { catalogEntry } from '../../../plan/index.js';
import { HubConfig } from './config.js';
import { groupLayers, keepUnless } from './layers.js';
import { bottleneckLocation } from './locations.js';
import { bind, paramNamed } from './bindings.js';
import type { Binding, HubContext, HubModule } from './types.js';

const NONLINEARITIES: Record<string, string> = {
  relu: 'relu', swish: 'swish', silu: 'silu', gelu: 'gelu', gelu_new: 'gelu_new', tanh: 'tanh', sigmoid: 'sigmoid', linear: 'identity', identity: 'identity',
};

const INITS: Record<string, string> = { bert: 'bert', mam_adapter: 'lora', houlsby: 'bert' };

/** Python's `int(hidden // rf)`, at least 1 (as the library). */
function sizeFor(hidden: number, rf: number): number {
  return Math.max(1, Math.floor(hidden / rf));
}

export function bottleneckModules(raw: Record<string, unknown>, where: string, ctx: HubContext, name: string): HubModule[] {
  const c: HubConfig = new HubConfig(raw, where, ctx.warnings);
  const model = ctx.model;
  const family = catalogEntry(String(model.config.model_type ?? model.family));
  const roles: string[] = [];
  if (c.bool('mh_adapter', false)) roles.push('self_attn.output');
  if (c.bool('cross_adapter', false)) roles.push('cross_attn.output');
  if (c.bool('output_adapter', false)) roles.push('ffn.output');
  if (roles.length === 0) c.unsupported('output_adapter', false, 'mh_adapter or output_adapter true (an adapter somewhere)');

  const act = c.str('non_linearity', 'relu').toLowerCase();
  if (!NONLINEARITIES[act]) c.unsupported('non_linearity', act, Object.keys(NONLINEARITIES).join(', '));
  const parallel = c.bool('is_parallel', false);
  const scaling = c.get('scaling') ?? 1.0;
  if (!(typeof scaling === 'number' || scaling === 'learned')) c.unsupported('scaling', scaling, 'a number or "learned"');
  const lnBefore = c.bool('ln_before', false);
  const lnAfter = c.bool('ln_after', false);
  if (lnBefore && lnAfter) c.unsupported('ln_after', true, 'ln_before or ln_after, not both');
  // ln_after normalises s·Up(…); ours normalises Up(…) and scales after: equal only for s = 1
  if (lnAfter && scaling !== 1) c.unsupported('ln_after', true, 'ln_after with scaling 1');
  if (lnAfter && c.bool('adapter_residual_before_ln', false)) c.unsupported('adapter_residual_before_ln', true, 'false with ln_after');
  else c.get('adapter_residual_before_ln');
  if (!c.bool('original_ln_after', true)) c.unsupported('original_ln_after', false, 'true (the sublayer keeps its residual and LayerNorm)');
  let lnInput = 'none';
  if (!parallel) {
    const before = c.bool('original_ln_before', false);
    const residual = c.get('residual_before_ln') ?? true;
    if (residual !== true && (before || residual !== false)) c.unsupported('residual_before_ln', residual, 'true');
    if (before) {
      if (!family?.postLn) c.unsupported('original_ln_before', true, `false on pre-LN ${model.family} (AdapterHub adds no LayerNorm there)`);
      lnInput = 'original';
    }
  } else c.ignore('original_ln_before', 'residual_before_ln');
  if (c.bool('use_gating', false)) c.unsupported('use_gating', true, 'false');
  if (c.bool('phm_layer', false)) c.unsupported('phm_layer', true, 'false (Compacter is not available)');
  const inv = c.get('inv_adapter');
  if (inv !== undefined && inv !== null) c.unsupported('inv_adapter', inv, 'null (invertible adapters are not available)');
  const init = c.str('init_weights', 'bert');
  if (!INITS[init]) c.unsupported('init_weights', init, Object.keys(INITS).join(', '));
  const dropout = c.num('dropout', 0);
  if (dropout > 0) ctx.warnings.push(`${where}.dropout: AdapterHub drops the adapter's output, we drop its input (training only; outputs are the same)`);
  if (c.num('stochastic_depth', 0) > 0) ctx.warnings.push(`${where}.stochastic_depth: not applied (training only)`);
  // Compacter's and invertible adapters' own knobs: inert while phm_layer / inv_adapter are off
  c.ignore('phm_dim', 'shared_phm_rule', 'factorized_phm_rule', 'learn_phm', 'phm_c_init', 'phm_init_range', 'hypercomplex_nonlinearity',
    'phm_rank', 'phm_bias', 'shared_W_phm', 'factorized_phm_W', 'inv_adapter_reduction_factor', 'init_weights_seed');

  const rf = c.get('reduction_factor') ?? 16;
  const leave = keepUnless(c.get('leave_out'));
  const hidden = model.dims.hidden;
  let decide: (l: number) => number | null;
  if (typeof rf === 'number') decide = (l) => (leave(l) ? sizeFor(hidden, rf) : null);
  else if (rf && typeof rf === 'object' && !Array.isArray(rf)) {
    const map = rf as Record<string, unknown>;
    if (typeof map.default !== 'number') c.unsupported('reduction_factor', rf, 'a number, or a mapping with a numeric "default"');
    decide = (l) => (leave(l) ? sizeFor(hidden, Number(map[String(l)] ?? map.default)) : null);
  } else c.unsupported('reduction_factor', rf, 'a number or a mapping');
  c.finish();

  const composition = scaling === 1 ? 'add' : 'scaled';
  const groups = groupLayers(model, roles, decide);
  return groups.map((g, i) => {
    const spec: Record<string, unknown> = {
      function: 'bottleneck', position: g.positions, layers: g.layers, bottleneck: g.key,
      nonlinearity: NONLINEARITIES[act], insertion: parallel ? 'parallel' : 'sequential', composition,
      init: INITS[init], layernorm: lnBefore ? 'before' : lnAfter ? 'after' : 'none', dropout,
    };
    if (composition === 'scaled') spec.scale = scaling;
    if (lnInput !== 'none') spec.ln_input = lnInput;
    return {
      name: groups.length === 1 ? name : `${name}_${i + 1}`,
      spec,
      bindings: (inj, params) => inj.sites.flatMap((site) => siteBindings(`${bottleneckLocation(model, site)}.adapters.${ctx.adapter}`, `${site.path}.${inj.plan.name}`, params, lnBefore, lnAfter)),
    };
  });
}

function siteBindings(file: string, ours: string, params: Map<string, Param>, lnBefore: boolean, lnAfter: boolean): Binding[] {
  const p = (n: string) => paramNamed(params, `${ours}.${n}`);
  const down = lnBefore ? 'adapter_down.1' : 'adapter_down.0';
  const out: Binding[] = [
    bind([`${file}.${down}.weight`], p('adapter_down.weight')),
    bind([`${file}.${down}.bias`], p('adapter_down.bias')),
    bind([`${file}.adapter_up.weight`], p('adapter_up.weight')),
    bind([`${file}.adapter_up.bias`], p('adapter_up.bias')),
  ];
  // the LayerNorm before is also registered as adapter_down.0 (the same module under two names)
  if (lnBefore) for (const n of ['weight', 'bias']) out.push(bind([`${file}.adapter_norm_before.${n}`, `${file}.adapter_down.0.${n}`], p(`adapter_norm.${n}`)));
  if (lnAfter) for (const n of ['weight', 'bias']) out.push(bind([`${file}.adapter_norm_after.${n}`], p(`adapter_norm.${n}`)));
  if (params.has(`${ours}.scale`)) out.push(bind([`${file}.scaling`], p('scale')));
  return out;
}
