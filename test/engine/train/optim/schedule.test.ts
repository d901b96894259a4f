// Expected values are worked by hand from Hugging Face transformers' schedule lambdas
// (optimization.py): lr(step) = base · lambda(step), `step` = optimizer steps already taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lrAt, lrFactor, warmupStepsOf } from '../../../../src/engine/train/optim/schedule.js';
import type { SchedulePlan } from '../../../../src/plan/index.js';
import { isPeftError } from '../../../../src/errors.js';

function plan(name: SchedulePlan['name'], more: Partial<SchedulePlan> = {}): SchedulePlan {
  return { name, warmupSteps: 2, warmupRatio: null, power: 1, minLr: 0, ...more };
}

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-12 + 1e-9 * Math.abs(expected), `${what}: got ${actual}, expected ${expected}`);
}

const LR = 1e-3;
const T = 10;

test('warmup: linear from 0, reaching the base lr at the warmup step', () => {
  // HF: step < w → step / max(1, w). With w = 2: 0, ½, then the schedule proper.
  for (const name of ['constant', 'linear', 'cosine', 'polynomial'] as const) {
    close(lrAt(0, T, plan(name), LR), 0, `${name} 0`);
    close(lrAt(1, T, plan(name), LR), 5e-4, `${name} 1`);
    close(lrAt(2, T, plan(name), LR), LR, `${name} 2`);
  }
  // No warmup: the first step already runs at the base lr.
  close(lrAt(0, T, plan('linear', { warmupSteps: 0 }), LR), LR, 'no warmup');
});

test('warmup ratio: ceil(ratio · total), as HF TrainingArguments.get_warmup_steps', () => {
  assert.equal(warmupStepsOf(10, plan('linear', { warmupSteps: null, warmupRatio: 0.25 })), 3); // ceil(2.5)
  assert.equal(warmupStepsOf(100, plan('linear', { warmupSteps: null, warmupRatio: 0.06 })), 6);
  // 100 · 0.07 is 7.000000000000001 in binary floating point: Python's math.ceil gives 8 as well.
  assert.equal(warmupStepsOf(100, plan('linear', { warmupSteps: null, warmupRatio: 0.07 })), 8);
  assert.equal(warmupStepsOf(10, plan('linear', { warmupSteps: 5, warmupRatio: 0.5 })), 5); // steps take precedence
  assert.equal(warmupStepsOf(10, plan('linear', { warmupSteps: null, warmupRatio: null })), 0);
  // ratio 0.25 of 10 → 3 warmup steps: step 1 runs at lr/3.
  close(lrAt(1, 10, plan('linear', { warmupSteps: null, warmupRatio: 0.25 }), LR), LR / 3, 'ratio warmup');
});

test('constant: the base lr after warmup, forever', () => {
  close(lrAt(7, T, plan('constant'), LR), LR, 'constant 7');
  close(lrAt(1000, T, plan('constant', { minLr: 1e-5 }), LR), LR, 'constant ignores min_lr');
});

test('linear: HF get_linear_schedule_with_warmup, max(0, (T − s) / max(1, T − w))', () => {
  // T = 10, w = 2: step 6 → 4/8 = ½; step 9 → 1/8; step 10 → 0; after T stays 0.
  close(lrAt(6, T, plan('linear'), LR), 5e-4, 'linear 6');
  close(lrAt(9, T, plan('linear'), LR), 1.25e-4, 'linear 9');
  close(lrAt(10, T, plan('linear'), LR), 0, 'linear 10');
  close(lrAt(12, T, plan('linear'), LR), 0, 'linear 12');
  // With min_lr 1e-4: 1e-4 + 9e-4 · ½ = 5.5e-4 at step 6, exactly min_lr at the last step.
  close(lrAt(6, T, plan('linear', { minLr: 1e-4 }), LR), 5.5e-4, 'linear min 6');
  close(lrAt(10, T, plan('linear', { minLr: 1e-4 }), LR), 1e-4, 'linear min 10');
});

test('cosine: HF get_cosine_schedule_with_warmup (0.5 cycles), min_lr as cosine_with_min_lr', () => {
  // progress = (s − 2)/8. Step 4: ¼ → ½(1 + cos(π/4)) = ½(1 + 0.70710678…) = 0.85355339…
  close(lrAt(4, T, plan('cosine'), LR), 8.535533905932737e-4, 'cosine 4');
  close(lrAt(6, T, plan('cosine'), LR), 5e-4, 'cosine 6'); // cos(π/2) = 0
  // Step 8: ¾ → ½(1 − 0.70710678…) = 0.14644661…
  close(lrAt(8, T, plan('cosine'), LR), 1.4644660940672627e-4, 'cosine 8');
  close(lrAt(10, T, plan('cosine'), LR), 0, 'cosine 10');
  close(lrAt(15, T, plan('cosine'), LR), 0, 'cosine after T stays at the bottom');
  // min_lr 1e-4 (HF min_lr_rate 0.1): factor · 0.9 + 0.1 → 0.85355339·0.9 + 0.1 = 0.86819805
  close(lrAt(4, T, plan('cosine', { minLr: 1e-4 }), LR), 8.681980515339464e-4, 'cosine min 4');
  close(lrAt(10, T, plan('cosine', { minLr: 1e-4 }), LR), 1e-4, 'cosine min 10');
});

test('polynomial: HF get_polynomial_decay_schedule_with_warmup (lr_end = min_lr, power)', () => {
  // lr_end 1e-7. decay = (lr − lr_end)·(1 − (s − w)/(T − w))^power + lr_end
  const p2 = plan('polynomial', { minLr: 1e-7, power: 2 });
  // s = 4, power 2: 0.0009999 · 0.75² + 1e-7 = 0.000562443750 + 0.0000001 = 0.00056254375
  close(lrAt(4, T, p2, LR), 5.6254375e-4, 'poly2 4');
  // s = 6, power 1: 0.0009999 · 0.5 + 1e-7 = 0.00050005
  close(lrAt(6, T, plan('polynomial', { minLr: 1e-7 }), LR), 5.0005e-4, 'poly1 6');
  // s = 6, power 0.5: 0.0009999 · √0.5 + 1e-7 = 0.000707036… + 1e-7
  close(lrAt(6, T, plan('polynomial', { minLr: 1e-7, power: 0.5 }), LR), 0.0009999 * Math.SQRT1_2 + 1e-7, 'poly½ 6');
  close(lrAt(10, T, p2, LR), 1e-7, 'poly 10');
  close(lrAt(11, T, p2, LR), 1e-7, 'poly after T'); // HF: current_step > T → lr_end
});

test('lrFactor is lrAt relative to the base lr (what Optimizer.step takes)', () => {
  close(lrFactor(6, T, plan('linear'), LR), 0.5, 'factor');
  close(lrFactor(1, T, plan('cosine'), LR), 0.5, 'warmup factor');
  assert.equal(lrFactor(3, T, plan('linear'), 0), 0);
});

test('min_lr above the base lr is a RECIPE error', () => {
  assert.throws(() => lrAt(5, T, plan('cosine', { minLr: 1e-2 }), LR), (e) => isPeftError(e) && e.code === 'RECIPE' && e.where === 'schedule.min_lr');
});
