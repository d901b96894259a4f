// AdapterHub prompt tuning (PromptTuningConfig: `architecture: prompt_tuning`) as our `prompt`
// module at `embeddings.output`: the vectors go in front of the embedding module's output (after
// positions, token types and LayerNorm), so they get none of those, and real tokens keep their
// positions. combine `prefix` only; `prefix_after_bos` is not available.
import { HubConfig } from './config.js';
import { poolPath } from './locations.js';
import { bind, paramNamed } from './bindings.js';
import type { HubContext, HubModule } from './types.js';

const INITS: Record<string, string> = { random_uniform: 'uniform', from_string: 'text' };

export function promptModules(raw: Record<string, unknown>, where: string, ctx: HubContext, name: string): HubModule[] {
  const c: HubConfig = new HubConfig(raw, where, ctx.warnings);
  const combine = c.str('combine', 'prefix');
  if (combine !== 'prefix') c.unsupported('combine', combine, 'prefix');
  const init = c.str('prompt_init', 'random_uniform');
  if (!INITS[init]) c.unsupported('prompt_init', init, Object.keys(INITS).join(', '));
  const text = c.get('prompt_init_text');
  const length = c.num('prompt_length', 10);
  c.ignore('random_uniform_scale');
  c.finish();
  const encoderDecoder = ctx.model.sites.some((s) => s.stack === 'decoder');
  const spec: Record<string, unknown> = {
    function: 'prompt', position: encoderDecoder ? 'encoder.embeddings.output' : 'embeddings.output', length, init: INITS[init],
  };
  if (INITS[init] === 'text') spec.init_text = String(text ?? '');
  return [{
    name, spec,
    bindings: (inj, params) => inj.sites.map((site) => bind(
      [`${poolPath(ctx.model, 'prompt_tuning', ctx.adapter)}.prompt_embedding.weight`], paramNamed(params, `${site.path}.${inj.plan.name}.embedding`),
    )),
  }];
}
