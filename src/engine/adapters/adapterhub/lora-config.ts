// AdapterHub LoRA and (IA)³ (LoRAConfig / IA3Config: `architecture: lora`) as our `lowrank` and
// `scaling` modules at the wrapped linear layers: attn_matrices q/k/v of every attention
// (selfattn_lora; BART's cross-attention too, which the library wraps alike), the FFN's first
// linear (intermediate_lora → ffn.up_proj) and second (output_lora → ffn.down_proj).
//  - composition_mode add: y = x Wᵀ + b + s·(x Aᵀ) Bᵀ. adapters < 1.1.0 use s = 1 in the forward
//    pass whatever alpha is; 1.1.0 (PR #770) uses alpha / r. The version the file records decides.
//  - composition_mode scale ((IA)³): y = (x Wᵀ + b) ⊙ lora_B, the output bias included: our
//    `scaling` at the linear site, lora_B [out, 1] read as its vector.
import { HubConfig, versionAtLeast } from './config.js';
import { groupLayers, keepUnless } from './layers.js';
import { bind, paramNamed } from './bindings.js';
import type { HubContext, HubModule } from './types.js';

const MATRICES: Record<string, string> = { q: 'attn.query', k: 'attn.key', v: 'attn.value' };

export function loraModules(raw: Record<string, unknown>, where: string, ctx: HubContext, name: string): HubModule[] {
  const c: HubConfig = new HubConfig(raw, where, ctx.warnings);
  const roles: string[] = [];
  if (c.bool('selfattn_lora', true)) {
    const m = c.get('attn_matrices') ?? ['q', 'v'];
    if (!Array.isArray(m) || m.some((x) => !MATRICES[String(x)])) c.unsupported('attn_matrices', m, 'a list of q, k, v');
    for (const x of m as string[]) roles.push(MATRICES[x]);
  } else c.get('attn_matrices');
  if (c.bool('intermediate_lora', false)) roles.push('ffn.up_proj');
  if (c.bool('output_lora', false)) roles.push('ffn.down_proj');
  if (roles.length === 0) c.unsupported('selfattn_lora', false, 'some linear layer to adapt');
  const r = c.num('r', 8);
  const alpha = c.num('alpha', 8);
  const mode = c.str('composition_mode', 'add');
  if (mode !== 'add' && mode !== 'scale') c.unsupported('composition_mode', mode, 'add or scale');
  const init = c.str('init_weights', mode === 'scale' ? 'ia3' : 'lora');
  if (c.bool('use_gating', false)) c.unsupported('use_gating', true, 'false');
  if (c.bool('use_dora', false)) c.unsupported('use_dora', true, 'false');
  const dropout = c.num('dropout', 0);
  c.ignore('dtype');
  const keep = keepUnless(c.get('leave_out'));
  const modern = versionAtLeast(ctx.version, [1, 1, 0]);

  let spec: Record<string, unknown>;
  if (mode === 'scale') {
    if (r !== 1) c.unsupported('r', r, '1 with composition_mode scale ((IA)³ learns one vector per layer)');
    if (modern && alpha !== r) c.unsupported('alpha', alpha, `${r} with composition_mode scale`);
    if (init !== 'ia3') c.unsupported('init_weights', init, 'ia3 with composition_mode scale');
    spec = { function: 'scaling', init: 'ones', dropout };
  } else {
    if (init !== 'lora' && init !== 'bert') c.unsupported('init_weights', init, 'lora or bert');
    spec = { function: 'lowrank', rank: r, alpha, insertion: 'parallel', composition: 'scaled', init, dropout };
    if (!modern) {
      spec.scale = 1;
      if (alpha !== r) ctx.warnings.push(`${where}.alpha: adapters ${ctx.version.join('.')} computes with s = 1, not alpha / r = ${alpha / r}; loaded as it computes`);
    }
  }
  c.finish();

  const groups = groupLayers(ctx.model, roles, keep);
  return groups.map((g, i) => ({
    name: groups.length === 1 ? name : `${name}_${i + 1}`,
    spec: { ...spec, position: g.positions, layers: g.layers },
    bindings: (inj, params) => inj.sites.flatMap((site) => {
      const file = `${site.path}.loras.${ctx.adapter}`;
      const ours = `${site.path}.${inj.plan.name}`;
      if (mode === 'scale') {
        const l = paramNamed(params, `${ours}.ia3_l`);
        return [bind([`${file}.lora_B`], l, [l.shape[0], 1])];
      }
      return [bind([`${file}.lora_A`], paramNamed(params, `${ours}.lora_A`)), bind([`${file}.lora_B`], paramNamed(params, `${ours}.lora_B`))];
    }),
  }));
}
