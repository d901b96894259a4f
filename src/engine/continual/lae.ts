// LAE — Learning, Accumulation, Ensemble (Gao et al., ICCV 2023), as the authors' code does it
// (gqk/LAE main.py; timm 0.5.4 ModelEmaV2):
//  - learning: the online PET modules train with the head on the current task's labels only; in
//    every stage after the first they stay frozen for the first freeze_epochs (the head alone);
//  - accumulation: after the first stage the offline modules are a copy of the online ones, and
//    after every optimizer step of later stages offline ← d·offline + (1 − d)·online (every entry,
//    the learned scales included);
//  - ensemble: the prediction is the element-wise maximum over the two experts of their softmax
//    probabilities (or one expert alone).
// Where the paper and the code differ, the code is followed (docs/continual.md).
import * as tf from '@tensorflow/tfjs-core';
import type { LaePlan } from '../../plan/index.js';
import type { Param } from '../nn/module.js';
import type { Batch } from '../data/batches.js';
import { blend, snapshot, withParams, disposeSet, type ParamSet } from './param-sets.js';
import type { Strategy, StreamModel } from './strategy.js';
import { classMask } from './classes.js';

/** offline ← decay·offline + (1 − decay)·online (ModelEmaV2._update). */
export function emaUpdate(offline: ParamSet, online: ReadonlyMap<string, Param>, decay: number): void {
  blend(offline, decay, online, 1 - decay);
}

/** The ensemble's probabilities from the experts' softmax probabilities [B, C]. */
export function laeEnsemble(online: tf.Tensor2D, offline: tf.Tensor2D | null, mode: LaePlan['ensemble']): tf.Tensor2D {
  if (!offline || mode === 'online') return online;
  if (mode === 'offline') return offline;
  return tf.maximum(online, offline) as tf.Tensor2D;
}

export function laeStrategy(m: StreamModel, o: LaePlan): Strategy {
  let offline: ParamSet | null = null;
  const epochs = m.plan.training.epochs ?? 1;
  const frozen = Math.min(1, o.freezeEpochs / epochs);
  const probs = (logits: tf.Tensor2D, b: Batch) => tf.softmax(tf.add(logits, classMask(b, logits.shape[1]))) as tf.Tensor2D;
  return {
    name: 'lae',
    phases(k) {
      if (k === 0 || frozen === 0) return [{ name: 'train', trains: () => true }];
      const phases = [{ name: 'frozen', trains: (n: string) => m.head.has(n), share: frozen }];
      return frozen < 1 ? [...phases, { name: 'train', trains: () => true, share: 1 - frozen }] : phases;
    },
    afterStep(k) {
      if (k > 0 && offline) emaUpdate(offline, m.pet, o.decay);
    },
    afterStage(k) {
      // ModelEmaV2 is created at the start of the second task: a copy of the online modules then
      if (k === 0 && !offline) offline = snapshot(m.pet);
    },
    classLogits(b) {
      return tf.tidy(() => {
        const online = probs(m.forward(b), b);
        const off = offline ? probs(withParams(m.pet, offline, () => m.forward(b)), b) : null;
        // log of the ensemble's probabilities: a softmax over the batch's classes gives them back
        return tf.log(tf.add(laeEnsemble(online, off, o.ensemble), 1e-30)) as tf.Tensor2D;
      });
    },
    state: () => {
      const sets: Record<string, ParamSet> = {};
      if (offline) sets.offline = offline;
      return { meta: { offline: offline !== null }, sets };
    },
    restore(st) {
      if (offline) disposeSet(offline);
      offline = st.sets.offline ?? null;
    },
  };
}
