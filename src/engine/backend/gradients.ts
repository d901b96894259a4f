// tfjs-core's gradient definitions, registered once (initBackend does it).
//
// @tensorflow/tfjs-core's Node bundle (dist/tf-core.node.js, what `import '@tensorflow/tfjs-core'`
// loads) registers no gradients: tf.grad / tf.variableGrads fail with "gradient function not
// found for …". The definitions ship only as ES modules (dist/gradients/*.js) whose relative
// imports have no file extension, which Node's ESM loader does not resolve. A resolve hook,
// limited to relative imports made from inside tfjs-core's dist folder, adds the `.js`; then
// dist/register_all_gradients.js loads and fills the global gradient registry that the Node
// bundle reads. (That second copy of the ops shares the Node bundle's engine, which tfjs keeps
// on the global object.) The chained-op methods (`t.reshape(…)`, `t.mul(…)`), which some of
// these gradients call (Prod, GatherV2) and which the Node bundle also lacks, are registered
// the same way, on the one global Tensor class.
import { register } from 'node:module';
import { getGradient } from '@tensorflow/tfjs-core';
import { installLeanBackprop } from './lean-backprop.js';

const HOOK = `
export async function resolve(specifier, context, next) {
  const parent = context.parentURL || '';
  if (parent.includes('/@tensorflow/tfjs-core/dist/') && /^\\.\\.?\\//.test(specifier) && !/\\.[cm]?js$/.test(specifier)) {
    try {
      return await next(specifier + '.js', context);
    } catch {
      return next(specifier + '/index.js', context);
    }
  }
  return next(specifier, context);
}`;

let loading: Promise<void> | null = null;

/**
 * Registers every gradient of tfjs-core and the chained-op methods (idempotent; ~0.5 s once), and
 * the backward pass that frees as it goes (./lean-backprop.ts).
 */
export function ensureGradients(): Promise<void> {
  installLeanBackprop();
  if (!loading) {
    loading = (async () => {
      if (getGradient('Multiply') != null) return; // already registered (e.g. by @tensorflow/tfjs)
      register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
      for (const file of ['register_all_gradients.js', 'public/chained_ops/register_all_chained_ops.js']) {
        const spec: string = `@tensorflow/tfjs-core/dist/${file}`;
        await import(spec);
      }
      if (getGradient('Multiply') == null) throw new Error('tfjs-core gradients did not register');
    })();
  }
  return loading;
}
