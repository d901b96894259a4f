export { injectMethod, type PeftModel } from './inject.js';
export { selectTrainable, type TrainableSet } from './trainable.js';
export { BUILDERS } from './registry.js';
