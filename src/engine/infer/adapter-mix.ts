// Several adapters on one backbone at inference, combined on the fly (no merged copy written):
//  - sum (default): at every site each adapter sees the same input and its change is added with
//    its weight, h + Σ_i w_i·(f_i(x, h) − h) — for LoRA-style modules exactly W + Σ w_i·ΔW_i;
//  - stack: adapters compose in the order given, the first lowest (a language adapter under a
//    task adapter, AdapterHub's Stack): h ← h + w_i·(f_i(x, h) − h) for i = 1, 2, …, each seeing
//    the output of the ones before it. Parallel-inserted modules (LoRA) read the sublayer input
//    x, so for them stack and sum agree; sequential ones (bottleneck adapters) differ.
// Prefixes and prompts are concatenated (weight 1 only: they are attention inputs, not changes
// that scale). Two adapters replacing the same projection's computation (DoRA, LoHa, AdaLoRA)
// sum; stacking them is refused.
import type * as tf from '@tensorflow/tfjs-core';
import * as tfc from '@tensorflow/tfjs-core';
import { ForwardContext, type Attachment } from '../nn/context.js';
import type { Linear } from '../nn/linear.js';
import type { PeftModel } from '../methods/inject.js';
import { PeftError } from '../../errors.js';

export interface MixPart {
  peft: PeftModel;
  weight: number;
  label: string;
}

export type MixMode = 'sum' | 'stack';

/** One adapter's attachments at a site, as one function of (x, h) or of (x, base). */
function chain(list: readonly Attachment[]) {
  const replacer = list.find((a) => a.linear);
  const transforms = list.filter((a) => a.transform);
  return {
    replacer,
    hasChange: Boolean(replacer) || transforms.length > 0,
    transform(x: tf.Tensor, h: tf.Tensor, ctx: ForwardContext): tf.Tensor {
      for (const t of transforms) h = t.transform!(x, h, ctx);
      return h;
    },
    linear(x: tf.Tensor, base: Linear, y0: tf.Tensor, ctx: ForwardContext): tf.Tensor {
      let h = replacer ? replacer.linear!(x, base, ctx) : y0;
      for (const t of transforms) h = t.transform!(x, h, ctx);
      return h;
    },
  };
}

/** h + w·(f − h) (h itself when w is 1). */
function blend(h: tf.Tensor, f: tf.Tensor, w: number): tf.Tensor {
  return w === 1 ? f : tfc.add(h, tfc.mul(tfc.sub(f, h), w));
}

function passThrough(a: Attachment): Attachment | null {
  if (a.prefix) return { prefix: a.prefix.bind(a) };
  if (a.prepend) return { prepend: a.prepend.bind(a) };
  return null;
}

export function mixAdapters(parts: MixPart[], mode: MixMode): PeftModel {
  if (parts.length === 0) throw new PeftError('USAGE', 'no adapters to combine');
  const keys = new Set(parts.flatMap((p) => [...p.peft.attachments.keys()]));
  const mixed = new Map<string, Attachment[]>();
  for (const key of keys) {
    const per = parts.map((p) => ({ ...p, list: p.peft.attachments.get(key) ?? [] })).filter((p) => p.list.length > 0);
    const out: Attachment[] = [];
    for (const p of per) {
      if (p.weight !== 1 && p.list.some((a) => a.prefix || a.prepend)) {
        throw new PeftError('USAGE', `${p.label} prepends prefixes or prompt vectors at ${key}: they combine with weight 1 only (got ${p.weight})`, {
          hint: 'give that adapter weight 1, or combine adapters that add a change (LoRA, adapters, IA³)',
        });
      }
      for (const a of p.list) {
        const t = passThrough(a);
        if (t) out.push(t);
      }
    }
    const changing = per.map((p) => ({ ...p, c: chain(p.list) })).filter((p) => p.c.hasChange);
    const replacers = changing.filter((p) => p.c.replacer);
    if (mode === 'stack' && replacers.length > 1) {
      throw new PeftError('USAGE', `${replacers.map((r) => r.label).join(' and ')} both replace the computation of ${key} (DoRA, LoHa or AdaLoRA): they cannot be stacked`, {
        hint: 'combine them without --stack (their changes add)',
      });
    }
    if (changing.length > 0) {
      if (replacers.length > 0) {
        out.unshift({
          linear(x: tf.Tensor, base: Linear, ctx: ForwardContext): tf.Tensor {
            const y0 = base.forward(x);
            if (mode === 'stack') {
              // the one replacer first (it needs the raw input), then the others' changes in order
              let h = y0;
              for (const p of changing) h = blend(h, p.c.replacer ? p.c.linear(x, base, h, ctx) : p.c.transform(x, h, ctx), p.weight);
              return h;
            }
            let h = y0;
            for (const p of changing) h = tfc.add(h, tfc.mul(tfc.sub(p.c.linear(x, base, y0, ctx), y0), p.weight));
            return h;
          },
        });
      } else {
        out.unshift({
          transform(x: tf.Tensor, h0: tf.Tensor, ctx: ForwardContext): tf.Tensor {
            let h = h0;
            for (const p of changing) {
              if (mode === 'stack') h = blend(h, p.c.transform(x, h, ctx), p.weight);
              else h = tfc.add(h, tfc.mul(tfc.sub(p.c.transform(x, h0, ctx), h0), p.weight));
            }
            return h;
          },
        });
      }
    }
    mixed.set(key, out);
  }
  const positionOffset = parts.reduce((n, p) => n + p.peft.positionOffset, 0);
  const first = parts[0].peft;
  return {
    model: first.model,
    method: { preset: 'mix', modules: parts.flatMap((p) => p.peft.method.modules), unfreeze: [], trainHead: false },
    store: first.store,
    attachments: mixed,
    modules: parts.flatMap((p) => p.peft.modules),
    positionOffset,
    context: (opts) => new ForwardContext(mixed, { ...opts, positionOffset }),
    afterStep: () => {},
    extraLoss: () => null,
    trainingState: () => ({ meta: {}, arrays: new Map() }),
    restoreTrainingState: () => {},
    // inference only: nothing calibrates, and a selection's patches are already among the attachments
    calibration: null,
    selection: null,
    adjustGrads: (grads) => grads,
  };
}
