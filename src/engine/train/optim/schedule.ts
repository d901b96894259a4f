// Learning-rate schedules, as Hugging Face transformers' `get_*_schedule_with_warmup` define them.
// `step` counts optimizer steps already taken (HF's LambdaLR `current_step`): the first update uses
// step 0, so with warmup it runs at lr 0, exactly as in HF. Warmup is linear from 0 to the base lr.
// After warmup, with w warmup steps and T total steps:
//   constant    lr (min_lr unused)
//   linear      min + (lr − min)·max(0, (T − step) / max(1, T − w))
//   cosine      min + (lr − min)·½(1 + cos(π·progress)),  progress = (step − w) / max(1, T − w), capped at 1
//   polynomial  min + (lr − min)·(1 − (step − w)/(T − w))^power, and min after T  (min is HF's lr_end)
// With min 0 the linear and cosine ones are HF's exactly; with min > 0 cosine is HF's
// `cosine_with_min_lr` (min_lr absolute) and linear decays to min at step T. Past T the cosine
// stays at min (HF's would rise again). min_lr above the base lr is a RECIPE error. Groups with
// their own lr follow the same curve through lrFactor (their floor is min_lr scaled the same way).
import { PeftError } from '../../../errors.js';
import type { SchedulePlan } from '../../../plan/index.js';

/** Warmup length: `warmupSteps` if given, else ceil(ratio·total) (HF's TrainingArguments.get_warmup_steps), else 0. */
export function warmupStepsOf(totalSteps: number, plan: SchedulePlan): number {
  if (plan.warmupSteps !== null) return plan.warmupSteps;
  if (plan.warmupRatio !== null) return Math.ceil(totalSteps * plan.warmupRatio);
  return 0;
}

/** The lr for the update after `step` updates, out of `totalSteps`, for a base lr of `baseLr`. */
export function lrAt(step: number, totalSteps: number, plan: SchedulePlan, baseLr: number): number {
  const warmup = warmupStepsOf(totalSteps, plan);
  if (step < warmup) return (baseLr * step) / Math.max(1, warmup);
  if (plan.name === 'constant') return baseLr;
  const minLr = plan.minLr;
  if (minLr > baseLr) {
    throw new PeftError('RECIPE', `${plan.name} schedule: min_lr (${minLr}) is larger than the learning rate (${baseLr})`, {
      where: 'schedule.min_lr',
      hint: 'min_lr is the absolute learning rate the schedule decays to',
    });
  }
  const range = baseLr - minLr;
  switch (plan.name) {
    case 'linear':
      return minLr + range * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmup));
    case 'cosine': {
      const progress = Math.min(1, (step - warmup) / Math.max(1, totalSteps - warmup));
      return minLr + range * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
    case 'polynomial': {
      if (step > totalSteps) return minLr;
      const remaining = 1 - (step - warmup) / Math.max(1, totalSteps - warmup);
      return minLr + range * remaining ** plan.power;
    }
  }
}

/**
 * The schedule as a factor of the base lr (`lrAt / baseLr`): what `Optimizer.step` takes as
 * `lrScale`, so that every parameter group's own lr follows the same curve.
 */
export function lrFactor(step: number, totalSteps: number, plan: SchedulePlan, baseLr: number): number {
  return baseLr === 0 ? 0 : lrAt(step, totalSteps, plan, baseLr) / baseLr;
}
