export { injectMethod, type PeftModel } from './inject.js';
export { selectTrainable, type TrainableSet } from './trainable.js';
export { MODULES } from './registry.js';
export { routedTasks } from './routing.js';
