// Before training: a selection that chooses from data (SPT's sensitivity) measures it on the first
// N batches of the training split, in file order, as the authors do (the squared gradient of each
// batch's task loss, summed per entry); a resumed run installs its checkpoint's layout instead.
// Either way the trainable set is fixed again afterwards.
import * as tf from '@tensorflow/tfjs-core';
import type { Session } from '../session.js';
import type { Batch } from '../data/batches.js';
import type { PeftModel } from '../methods/inject.js';
import type { TaskPlan } from '../../plan/index.js';
import { selectTrainable } from '../methods/trainable.js';
import { taskLoss } from '../train/task-loss.js';
import { hashString } from '../random.js';
import { readSelectionLayout } from './persist.js';
import type { SelectionLayout } from './selection.js';
import { PeftError } from '../../errors.js';

/** Per candidate tensor, Σ over the first `n` batches of (∂L_b/∂w)². */
export function measureSensitivity(peft: PeftModel, task: TaskPlan, batches: Iterable<Batch>, n: number, seed: number): Map<string, Float32Array> {
  const sel = peft.selection!;
  const params = sel.candidates.map((c) => c.param);
  const already = params.map((p) => p.trainable);
  const sums = new Map(sel.candidates.map((c) => [c.name, new Float32Array(c.param.size)]));
  for (const p of params) p.makeTrainable();
  let used = 0;
  try {
    const vars = params.map((p) => p.variable);
    const nameOf = new Map(sel.candidates.map((c) => [c.param.variable.name, c.name]));
    for (const batch of batches) {
      if (used >= n) break;
      const ctx = peft.context({ training: true, seed: hashString(`${seed}:sensitivity:${used}`) });
      const { value, grads } = tf.variableGrads(() => taskLoss(peft.model, task, batch, ctx), vars);
      value.dispose();
      for (const [v, g] of Object.entries(grads)) {
        const sum = sums.get(nameOf.get(v)!)!;
        const d = g.dataSync();
        for (let i = 0; i < d.length; i++) sum[i] += d[i] * d[i];
        g.dispose();
      }
      used++;
    }
  } finally {
    params.forEach((p, i) => {
      if (!already[i]) p.freeze();
    });
  }
  if (used === 0) throw new PeftError('DATA', 'the sensitivity criterion needs training batches, and the training split gave none', { where: 'data.train' });
  return sums;
}

export interface SelectionSummary {
  criterion: string;
  /** Entries trained one by one (sparse slots, and every entry of learned masks). */
  entries: number;
  /** Matrices given a low-rank update (sensitivity). */
  lowrank: number;
  /** Tensors trained whole (half). */
  whole: number;
  /** The trainable parameters of the whole method, now. */
  trainable: number;
  /** Batches measured (sensitivity), or 0. */
  batches: number;
  resumed: boolean;
}

/**
 * Makes the session's selection ready to train: the checkpoint's layout when resuming (`saved`),
 * else the choice from data when the criterion needs it. Refreshes the trainable set. Null when
 * the method has no selection.
 */
export function prepareSelection(s: Session, batches: () => Iterable<Batch>, checkpoint: { dir: string; layout?: SelectionLayout } | null): SelectionSummary | null {
  const sel = s.peft.selection;
  if (!sel) return null;
  const saved = checkpoint ? readSelectionLayout(checkpoint.dir, checkpoint.layout) : null;
  let measured = 0;
  if (saved) sel.apply(saved.layout, saved.indices, true);
  else if (!sel.prepared) {
    if (!sel.needsData) sel.prepare();
    else {
      const p = sel.plan.criterion === 'sensitivity' ? sel.plan.options.batches : 0;
      sel.prepareFromSensitivity(measureSensitivity(s.peft, s.plan.task, batches(), p, s.plan.seed));
      measured = p;
    }
  }
  s.trainable = selectTrainable(s.peft);
  s.trainableParams = [...s.trainable.params.values()].reduce((n, p) => n + p.size, 0);
  const slots = sel.slotLayouts;
  return {
    criterion: sel.plan.criterion,
    entries: slots.filter((x) => x.form !== 'lowrank').reduce((n, x) => n + x.count, 0),
    lowrank: slots.filter((x) => x.form === 'lowrank').length,
    whole: sel.whole.length,
    trainable: s.trainableParams,
    batches: measured,
    resumed: saved !== null,
  };
}
