// Initialisation from data (CorDA): before the first step, the modules that ask for it observe
// their sites' inputs on the first `batches` training batches (epoch 0's seeded order), each row
// fed alone and unpadded, with no gradient; then they decompose what they saw and set their
// parameters. The same data gives the same init, so a resumed run recomputes it identically.
import * as tf from '@tensorflow/tfjs-core';
import type { Session } from '../session.js';
import { collate, type Batcher } from '../data/batches.js';
import { batchInputs } from './task-loss.js';

/** Runs the calibration of `s`'s modules, if any; returns the rows it fed. */
export function calibrate(s: Session, train: Batcher): number {
  const cal = s.peft.calibration;
  if (!cal) return 0;
  const order = train.order(0);
  const rows = Math.min(order.length, cal.batches * train.batchSize);
  cal.start();
  for (let i = 0; i < rows; i++) {
    const row = collate([train.examples.get(order[i])], 0);
    tf.tidy(() => {
      s.model.forward(batchInputs(row), s.peft.context({ training: false }));
    });
  }
  cal.finish();
  return rows;
}
