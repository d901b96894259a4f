// The test-time adaptation methods `peft adapt-test --method` knows, by name.
import type { TtaMethod } from './types.js';
import { sourceMethod } from './methods/source.js';
import { bnStatsMethod } from './methods/bn-stats.js';
import { alphaBnMethod } from './methods/alpha-bn.js';
import { tentMethod } from './methods/tent.js';
import { lameMethod } from './methods/lame.js';
import { labelShiftMethod } from './methods/label-shift.js';

export const TTA_METHODS: readonly TtaMethod[] = [sourceMethod, bnStatsMethod, alphaBnMethod, tentMethod, lameMethod, labelShiftMethod];

export function ttaMethod(name: string): TtaMethod | null {
  return TTA_METHODS.find((m) => m.name === name) ?? null;
}
