// Mixture-of-Domain-Adapters as a stream (Diao et al. 2023): each language-modelling stage trains
// one domain adapter of the mixture on its domain's text with the LM loss (the j-th such stage
// the j-th adapter, beside the FFN: h + e_j); a classification stage then trains the mixture's
// gate and the head (and any other module of the method) with the adapters frozen. A domain
// task is evaluated with its own adapter on; a classification task with the gate.
import type { TaskEntryPlan } from '../../plan/index.js';
import { MixtureOfAdapters } from '../methods/mixture.js';
import { PeftError } from '../../errors.js';
import type { Strategy, StreamModel } from './strategy.js';

const EXPERT_PARAM = /\.experts\.(\d+)\./;

export function mixdaStrategy(m: StreamModel): Strategy {
  const mixtures = [...m.peft.attachments.values()].flat().filter((a): a is MixtureOfAdapters => a instanceof MixtureOfAdapters);
  if (mixtures.length === 0) {
    throw new PeftError('RECIPE', 'strategy mixda needs the mixture function in the method', { where: 'stream.strategy', hint: 'method: {preset: mixda}' });
  }
  const experts = mixtures[0]!.o.n_experts;
  const domains = m.plan.stream.order.map((n) => m.plan.tasks.find((t) => t.name === n)!).filter((t) => t.task.type === 'causal-lm');
  if (domains.length > experts) {
    throw new PeftError('RECIPE', `the stream has ${domains.length} domain (causal-lm) stages and the mixture ${experts} adapter(s)`, {
      where: 'method.n_experts', hint: `set method.n_experts: ${domains.length} (one adapter per domain)`,
    });
  }
  const expertOf = (entry: TaskEntryPlan) => domains.findIndex((d) => d.name === entry.name);
  const setMode = (j: number | null) => mixtures.forEach((x) => x.setMode(j === null ? { kind: 'gate' } : { kind: 'expert', index: j }));
  return {
    name: 'mixda',
    phases(_k, entry) {
      const j = expertOf(entry);
      if (j >= 0) {
        return [{
          name: 'domain', lm: true,
          trains: (n: string) => EXPERT_PARAM.exec(n)?.[1] === String(j),
          enter: () => setMode(j), leave: () => setMode(null),
        }];
      }
      return [{ name: 'task', trains: (n: string) => !EXPERT_PARAM.test(n), enter: () => setMode(null) }];
    },
    around(entry, fn) {
      const j = expertOf(entry);
      if (j < 0) return fn();
      setMode(j);
      try {
        return fn();
      } finally {
        setMode(null);
      }
    },
    state: () => ({ meta: {}, sets: {} }),
    restore: () => undefined,
  };
}
