// bottleneck: Δh = f(u·W_downᵀ + b)·W_upᵀ + b — adapters: Houlsby (sequential after both
// sublayers), Pfeiffer (after the block), parallel and scaled parallel adapters (He et al. 2022).
import { OPTIONS } from './options.js';
import { defineFunction } from './spec.js';
import { needsInput } from './misfits.js';

export const BOTTLENECK = defineFunction({
  kind: 'bottleneck',
  title: 'bottleneck adapter f(u·W_down)·W_up',
  knownAs: 'bottleneck (adapter)',
  paper: 'Houlsby et al. 2019, Parameter-Efficient Transfer Learning for NLP',
  size: 'bottleneck',
  options: {
    bottleneck: OPTIONS.bottleneck.use(64),
    nonlinearity: OPTIONS.nonlinearity.use('relu'),
    layernorm: OPTIONS.layernorm.use('none'),
    ln_input: OPTIONS.ln_input.use('none'),
    subadapters: OPTIONS.subadapters.use(null),
  },
  defaults: { positions: ['ffn.output'], insertion: 'sequential', composition: 'add', init: 'bert', heads: 'single' },
  inits: ['bert', 'lora'],
  perHead: true,
  misfit: (p) => needsInput('a bottleneck adapter', p),
  scale: () => 1,
  check(o, m) {
    if (o.subadapters && (o.layernorm === 'after' || o.ln_input === 'original')) {
      return [{ key: 'subadapters', message: 'split sub-adapters (MoSA) take layernorm: before or none, and ln_input: none', hint: 'MoSA\'s adapter normalises its input (layernorm: before)' }];
    }
    if (o.ln_input !== 'original') return [];
    const out: { key: string; message: string; hint?: string }[] = [];
    if (m.insertion !== 'sequential') out.push({ key: 'ln_input', message: 'ln_input: original needs insertion: sequential (the input replaces h, the sublayer\'s output)' });
    const notSublayer = m.positions.filter((p) => !/(^|\.)(attn|self_attn|cross_attn|ffn)\.output$/.test(p));
    if (notSublayer.length) out.push({ key: 'ln_input', message: `ln_input: original only applies at a sublayer's output (attn.output, ffn.output), not ${notSublayer.join(', ')}` });
    if (m.postLn === false) {
      out.push({
        key: 'ln_input', message: `ln_input: original needs post-LN layers, and ${m.familyName} is pre-LN`,
        hint: 'its sublayers have no LayerNorm after the residual add; use ln_input: none',
      });
    }
    return out;
  },
});
