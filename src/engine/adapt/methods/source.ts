// No adaptation: the source model's own predictions (running statistics, trained parameters) —
// the baseline every method is measured against.
import { forwardBatch, softmaxRows } from '../forward.js';
import type { TtaMethod } from '../types.js';

export const sourceMethod: TtaMethod = {
  name: 'none',
  title: 'no adaptation (the source model)',
  paper: '—',
  modes: ['online', 'offline'],
  async start(ctx) {
    return {
      predict: (b) => softmaxRows(forwardBatch(ctx, b).logits, ctx.classes),
      restore: () => {},
    };
  },
};
