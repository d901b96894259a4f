// Text generation for causal LMs: greedy or sampled continuation of a prompt.
// (Recomputes the whole prefix each step; a KV cache comes with the generation work.)
import * as tf from '@tensorflow/tfjs-core';
import type { Session } from '../session.js';
import type { GeneratePlan } from '../../recipes/types.js';
import { Rng } from '../data/rng.js';

export function generateText(s: Session, g: GeneratePlan, seed: number): { text: string; ids: number[] } {
  const tok = s.tokenizer!;
  const ids = tok.encode(g.prompt, { addSpecialTokens: true });
  const promptLen = ids.length;
  const ctx = s.peft.context({ training: false });
  const rng = Rng.fromSeed(seed, 7);
  const maxLen = s.model.dims.maxPositions;
  for (let i = 0; i < g.maxNewTokens && ids.length < maxLen; i++) {
    const logits = tf.tidy(() => {
      const out = s.model.forward({ inputIds: tf.tensor2d([ids], [1, ids.length], 'int32') }, ctx);
      const T = out.logits.shape[1]!;
      return tf.reshape(tf.slice(out.logits, [0, T - 1, 0], [1, 1, -1]), [-1]).dataSync() as Float32Array;
    });
    const next = g.strategy === 'greedy' ? argmax(logits) : sample(logits, g, rng);
    if (next === tok.eosId) break;
    ids.push(next);
  }
  return { text: tok.decode(ids.slice(promptLen), { skipSpecialTokens: true }), ids };
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** Temperature, then top-k, then top-p (nucleus), then a draw from the seeded generator. */
export function sample(logits: Float32Array, g: Pick<GeneratePlan, 'temperature' | 'topK' | 'topP'>, rng: Rng): number {
  const t = Math.max(g.temperature, 1e-6);
  let idx = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
  if (g.topK > 0) idx = idx.slice(0, g.topK);
  const max = logits[idx[0]];
  let probs = idx.map((i) => Math.exp((logits[i] - max) / t));
  const z = probs.reduce((a, b) => a + b, 0);
  probs = probs.map((p) => p / z);
  if (g.topP < 1) {
    let acc = 0;
    let cut = probs.length;
    for (let i = 0; i < probs.length; i++) {
      acc += probs[i];
      if (acc >= g.topP) {
        cut = i + 1;
        break;
      }
    }
    idx = idx.slice(0, cut);
    const z2 = probs.slice(0, cut).reduce((a, b) => a + b, 0);
    probs = probs.slice(0, cut).map((p) => p / z2);
  }
  let u = rng.nextFloat();
  for (let i = 0; i < idx.length; i++) {
    u -= probs[i];
    if (u <= 0) return idx[i];
  }
  return idx[idx.length - 1];
}
