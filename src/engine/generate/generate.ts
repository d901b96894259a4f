// generate(): options resolved, inputs padded, then the strategy's loop over a stepper (which
// owns the KV cache and disposes it, whatever happens).
import type { ForwardContext } from '../nn/context.js';
import type { TaskModel } from '../backbones/types.js';
import { resolveOptions, prepareInputs } from './prepare.js';
import { Stepper } from './stepper.js';
import { tokenSearch, greedyPicker, samplePicker } from './search.js';
import { beamSearch } from './beam.js';
import type { GenerateInputs, GenerateOptions, GenerateResult } from './types.js';
/**
 * Generates from `inputs` with `model`; `ctxFactory` gives the forward context of each pass (the
 * PEFT modules attached, training off). Every tensor it creates is disposed before it returns.
 */
export function generate(
  model: TaskModel,
  ctxFactory: () => ForwardContext,
  inputs: GenerateInputs,
  opts: GenerateOptions,
): GenerateResult {
  const o = resolveOptions(model, opts);
  const { rows, maxNewTokens } = prepareInputs(model, inputs, o, ctxFactory().positionOffset);
  const stepper = new Stepper(model, ctxFactory, rows, o.useCache);
  try {
    const common = { ...o, maxNewTokens };
    if (o.strategy === 'beam') return beamSearch(stepper, common);
    const pick = o.strategy === 'sample' ? samplePicker(o, o.rng) : greedyPicker;
    return { sequences: tokenSearch(stepper, common, pick) };
  } finally {
    stepper.dispose();
  }
}
