// One layer of a backbone's stack in inference: run inside tf.tidy, so what the layer makes in
// between (projections, norms, the feed-forward's wide activations) is freed when the layer ends,
// not when the whole forward pass does. A forward pass under one tidy otherwise holds every
// layer's intermediates at once: for stories260K on an evaluation batch of 64 × 128 tokens that
// is 184 MB, as much as a training step holds with its backward, for a pass that needs about one
// layer's worth (with this, 49 MB at most).
//
// In training (or with a gradient tape recording: sensitivity measures) nothing changes: the tape
// keeps what backward needs, tfjs frees the rest when the forward ends (engine.gradients), and
// what a training pass leaves for later (a router's logits for its balancing loss) stays.
// A tensor made inside a layer that must outlive it is held accordingly: the generation cache
// tf.keep-s what it stores (generate/cache.ts); a memo made once per pass for every layer (prefix
// tuning's MLP, a subspace's offsets, T5's relative bias) is given to ctx.forPass, returned from
// each layer's scope to the pass's, and freed with the pass.
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from './context.js';

/** f() — inside tf.tidy in inference (no training, no gradient tape). */
export function layerScope<T extends tf.Tensor>(ctx: ForwardContext, f: () => T): T {
  if (ctx.training || (tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn()) return f();
  return tf.tidy(() => [f(), ...ctx.perPass])[0] as T;
}
