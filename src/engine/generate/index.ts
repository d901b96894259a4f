// Public face of generation: `generate` decodes token ids from a causal LM (continuing prompts)
// or an encoder-decoder (the encoder once, the decoder from its start token), greedy, sampled or
// by beam search, with a KV cache so that n new tokens cost n one-token decoder passes, and with
// the PEFT modules of the forward context attached (LoRA, prefixes, prompts …); `generateText`
// does it from and to text for a session (evaluation's ROUGE/BLEU, the sample after training).
export { generate } from './generate.js';
export type { GenerateInputs, GenerateOptions, GenerateResult, Strategy } from './types.js';
export { KVCache } from './cache.js';
export { generateText, generateOptionsFromPlan, type TextGenerateOptions } from './text.js';
export {
  applyProcessors, applyWarpers, banRepeatedNgrams, topK, topP, logSoftmax, argmax,
  type ProcessorOptions, type WarpOptions, type RowContext,
} from './logits-processors.js';
export { drawToken } from './sample.js';
export { BeamHypotheses, type Hypothesis } from './beam-hypotheses.js';
export { maskPositions } from './stepper.js';
