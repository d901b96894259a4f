// Test-time adaptation: the methods and `peft adapt-test`'s engine.
export { adaptTest, checkMethod } from './run.js';
export type { AdaptTestOptions, AdaptTestEvents, AdaptTestResult } from './run.js';
export { TTA_METHODS, ttaMethod } from './registry.js';
export type { TtaMethod, TtaMode, TtaSettings } from './types.js';
