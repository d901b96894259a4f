// A finished (or stopped) stream opened for `peft eval` and `peft predict`: the strategy rebuilt
// on the loaded adapter and given back the sets it kept (run/stream/), so the run predicts as it
// did when it evaluated itself after its last stage — LAE's ensemble, ConPET's selection, MOS's
// retrieval.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskEntryPlan } from '../../plan/index.js';
import { loadBackbone, type TaskModel } from '../backbones/index.js';
import type { Predictor } from '../infer/predict.js';
import type { Strategy } from './strategy.js';
import { makeStrategy, streamModel, type StreamedPlan } from './stream-model.js';
import { readStrategySets, type StreamProgress } from './state.js';
import { PeftError } from '../../errors.js';

export interface OpenedStream {
  strategy: Strategy;
  /** Stages the run finished (its inference covers their tasks). */
  stages: number;
  /** The backbone's language-model form, when a stage was language modelling. */
  lm: TaskModel | null;
}

export function openStream(s: Predictor, plan: StreamedPlan, runDir: string | null): OpenedStream {
  const strategy = makeStrategy(streamModel(plan, s.model, s.peft));
  let stages = plan.stream.order.length;
  const dir = runDir ? join(runDir, 'stream') : null;
  if (dir && existsSync(join(dir, 'state.json'))) {
    const progress = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as StreamProgress;
    strategy.restore({ meta: progress.strategy, sets: readStrategySets(dir) });
    stages = Math.max(1, new Set(progress.cells.map((c) => c.stage)).size);
  } else if (plan.stream.strategy !== 'sequential' && plan.stream.strategy !== 'mixda') {
    throw new PeftError('FILE', `a ${plan.stream.strategy} stream predicts with the module sets it kept, and there are none here`, {
      where: runDir ?? 'the recipe', hint: 'name the stream\'s run directory (runs/<name>/<time>/ with stream/state.json)',
    });
  }
  const needsLm = plan.tasks.some((t) => t.task.type === 'causal-lm') && plan.task.type !== 'causal-lm';
  const lm = needsLm ? loadBackbone(plan.backbone.path, { task: 'causal-lm', seed: plan.seed }).model : null;
  return { strategy, stages, lm };
}

/** The tasks of the stream its inference covers (those of the stages it finished). */
export function streamTasks(plan: StreamedPlan, stages: number): TaskEntryPlan[] {
  return plan.stream.order.slice(0, stages).map((n) => plan.tasks.find((t) => t.name === n)!);
}
