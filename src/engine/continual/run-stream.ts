// A continual-learning stream: the tasks trained one after another, each stage in the phases its
// strategy asks for (each phase one call of the ordinary training loop on a view of the session:
// its trainable parameters, its batches, its share of the stage's epochs), and after each stage
// every task seen so far evaluated with the strategy's inference — metrics.jsonl gets one line
// per (stage, task), summary.json the accuracy matrix, average accuracy, forgetting and backward
// transfer. Progress is saved after each phase (state.ts), so --resume crosses stages.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Plan, TaskEntryPlan } from '../../plan/index.js';
import { openSession, type Session } from '../session.js';
import { loadBackbone, type TaskModel } from '../backbones/index.js';
import { trainLoop } from '../train/loop.js';
import { listCheckpoints } from '../train/checkpoint.js';
import { RunDir } from '../train/run-dir.js';
import { runFields, type RunEvents, type RunOptions, type RunSummary } from '../train/run.js';
import { saveAdapter } from '../adapters/index.js';
import type { SplitStats } from '../data/build.js';
import type { TrainBatches } from '../data/batches.js';
import { buildTaskData, checkTasks, type TaskData } from '../multitask/task-data.js';
import { taskView, TaskBatches } from '../multitask/task-batches.js';
import { TaskMixture } from '../multitask/mixture.js';
import { taskScore } from '../multitask/evaluate.js';
import { METRICS } from '../metrics/index.js';
import type { Phase, Strategy } from './strategy.js';
import { makeStrategy, seenClasses, streamModel, trainsOnOwnClasses, type StreamedPlan } from './stream-model.js';
import { loadProgress, saveProgress, strategyArrays, strategyFromArrays, type StreamCell } from './state.js';
import { streamMeasures, type StreamMeasures } from './matrix.js';
import { evaluateStage } from './stage-eval.js';

export interface StageInfo {
  stage: number;
  stages: number;
  task: string;
  phase: string;
}

export interface StreamEvents extends RunEvents {
  onStage?(info: StageInfo): void;
  onStreamEval?(stage: number, task: string, metrics: Record<string, number>): void;
}

export interface StreamSummary extends RunSummary {
  stream: StreamMeasures & { scenario: string; strategy: string; replay: number; metric: Record<string, string> };
  tasks: Record<string, Record<string, number>>;
}

/** The session as one phase trains it: a subset of its parameters, a model and task, the phase's share of the stage. */
function phaseSession(s: Session, plan: StreamedPlan, entry: TaskEntryPlan, phase: Phase, strategy: Strategy, stage: number, lm: TaskModel | null): Session {
  const params = new Map([...s.trainable.params].filter(([n]) => phase.trains(n)));
  const share = phase.share ?? 1;
  const t = plan.training;
  const training = {
    ...t, evalEvery: null, sampling: undefined,
    maxSteps: t.maxSteps === null ? null : Math.max(1, Math.round(t.maxSteps * share)),
    epochs: t.maxSteps === null ? (t.epochs ?? 1) * share : null,
  };
  const view = taskView(plan, entry);
  const phasePlan: Plan = { ...view, task: phase.lm ? entry.task : plan.task, training };
  const peft = s.peft;
  return {
    ...s,
    plan: phasePlan,
    model: phase.lm ? lm! : s.model,
    trainable: { params, backboneNames: s.trainable.backboneNames.filter((n) => params.has(n)) },
    peft: {
      ...peft,
      afterStep: (info) => {
        peft.afterStep(info);
        strategy.afterStep?.(stage);
      },
      // the strategy's sets ride in the loop's checkpoints (LAE's offline modules move every step)
      trainingState: () => {
        const own = peft.trainingState();
        const st = strategyArrays(strategy.state());
        for (const [n, a] of st.arrays) own.arrays.set(`stream.${n}`, a);
        return { meta: { ...own.meta, stream: st.meta }, arrays: own.arrays };
      },
      restoreTrainingState: (meta, read) => {
        peft.restoreTrainingState(meta, read);
        const st = (meta as Record<string, unknown> | undefined)?.stream as Record<string, unknown> | undefined;
        if (st) strategy.restore(strategyFromArrays(st, (n) => read(`stream.${n}`)));
      },
    },
  };
}

export async function runStream(planIn: Plan, opts: RunOptions, ev: StreamEvents = {}): Promise<StreamSummary> {
  const wall = Date.now();
  const plan = planIn as StreamedPlan;
  const stream = plan.stream;
  const order = stream.order.map((n) => plan.tasks.find((t) => t.name === n)!);
  const scans = await checkTasks({ ...plan, tasks: order }, stream.evalSplit);
  const existing = opts.resumeDir ? RunDir.open(opts.resumeDir) : null;
  const run = existing ?? RunDir.create(plan.output.dir, plan.name);
  if (!existing) run.writePlan(plan);
  const s = await openSession(plan, { backend: opts.backend });
  ev.onBackend?.(s.backend);
  ev.onSession?.(s, run.path);
  // a language-modelling stage (mixda's domain text) runs the backbone's LM form over the same modules
  const lm = order.some((t) => t.task.type === 'causal-lm') && plan.task.type !== 'causal-lm'
    ? loadBackbone(plan.backbone.path, { task: 'causal-lm', seed: plan.seed }).model : plan.task.type === 'causal-lm' ? s.model : null;
  const info = { config: s.model.config, dir: s.modelDir };
  const data: TaskData[] = [];
  for (const entry of order) data.push(await buildTaskData(plan, entry, s.tokenizer, info, scans, stream.evalSplit));
  const stats: Record<string, SplitStats> = {};
  for (const d of data) for (const [split, st] of Object.entries(d.stats)) stats[`${d.entry.name}/${split}`] = st;
  ev.onData?.(stats);

  const strategy = makeStrategy(streamModel(plan, s.model, s.peft));
  const stateDir = join(run.path, 'stream');
  const progress = (opts.resumeDir ? loadProgress(stateDir, s.trainable.params, strategy) : null) ?? { done: [], cells: [] as StreamCell[], strategy: {} };
  const done = new Set(progress.done);
  const cells = progress.cells;
  const save = () => saveProgress(stateDir, s.trainable.params, strategy, { done: [...done], cells });
  const memories: TaskBatches[] = [];
  let steps = 0;
  let tokens = 0;
  let lastLoss = NaN;
  let resumedFrom: string | null = null;

  for (let k = 0; k < order.length; k++) {
    const entry = order[k]!;
    const own = trainsOnOwnClasses(stream) ? entry.headClasses : seenClasses(plan, k + 1);
    const current = data[k]!.train.over(entry.headClasses.length ? own : null);
    const memory = memories.map((m) => m.over(stream.scenario === 'class-incremental' ? seenClasses(plan, k + 1) : m.entry.headClasses));
    const batches: TrainBatches = memory.length ? new TaskMixture([current, ...memory], { rule: 'proportional', temperature: 1 }, plan.seed + k) : current;
    const stageDir = run.child(join('stages', `${k}-${entry.name}`));
    for (const phase of strategy.phases(k, entry, { current, memories: memory, batches })) {
      const key = `${k}:${phase.name}`;
      if (done.has(key)) continue;
      ev.onStage?.({ stage: k, stages: order.length, task: entry.name, phase: phase.name });
      phase.enter?.();
      const phaseRun = stageDir.child(phase.name);
      const resume = listCheckpoints(phaseRun.checkpointsDir).length > 0;
      const view = phaseSession(s, plan, entry, phase, strategy, k, lm);
      const r = await trainLoop(view, { train: phase.data ?? batches, validation: null }, phaseRun, {
        ...ev,
        onStart: (i) => {
          resumedFrom ??= i.resumedFrom;
          ev.onStart?.(i);
        },
      }, resume);
      phase.leave?.();
      steps += r.steps;
      tokens += r.tokensSeen;
      lastLoss = r.finalLoss;
      done.add(key);
      save();
    }
    if (!done.has(`${k}:after`)) {
      strategy.afterStage?.(k, entry, data[k]!);
      done.add(`${k}:after`);
      save();
    }
    if (stream.replay > 0) memories.push(new TaskBatches(entry, data[k]!.train.batcher.sample(stream.replay, plan.seed + k)));
    if (!cells.some((c) => c.stage === k)) {
      for (let j = 0; j <= k; j++) {
        if (!data[j]!.eval) continue;
        const r = evaluateStage(s, plan, strategy, data[j]!.eval!, k + 1, lm);
        cells.push({ stage: k, task: order[j]!.name, metrics: r.metrics });
        run.appendMetrics({ type: 'stream', stage: k, trained: entry.name, task: order[j]!.name, ...r.metrics, examples: r.examples });
        ev.onStreamEval?.(k, order[j]!.name, r.metrics);
      }
      save();
    }
  }

  saveAdapter(s.peft, run.adapterDir, { baseModel: s.modelDir, backboneNames: s.trainable.backboneNames });
  const names = order.map((t) => t.name);
  const scoreOf = (entry: TaskEntryPlan, m: Record<string, number>) => taskScore({ loss: m.loss ?? NaN, metrics: m, examples: 0 }, entry);
  const matrix = order.map((_, k) => order.map((t, j) => {
    const c = cells.find((x) => x.stage === k && x.task === t.name);
    return j <= k && c ? scoreOf(t, c.metrics) : null;
  }));
  const scored = order.map((t) => METRICS[t.metrics[0]!]?.higherIsBetter ?? false);
  const measures = streamMeasures(names, matrix, scored);
  const finalCells = cells.filter((c) => c.stage === order.length - 1);
  const summary: StreamSummary = {
    ...runFields(plan, s, run),
    steps,
    wall_time_s: (Date.now() - wall) / 1000,
    tokens_seen: tokens,
    before: null,
    after: { average_accuracy: measures.average_accuracy, ...(measures.forgetting !== null ? { forgetting: measures.forgetting } : {}) },
    best: null,
    final_train_loss: lastLoss,
    stopped_early: false,
    sample: null,
    data: stats,
    adapter_dir: run.adapterDir,
    last_checkpoint: null,
    resumed_from: resumedFrom,
    stream: { ...measures, scenario: stream.scenario, strategy: stream.strategy, replay: stream.replay, metric: Object.fromEntries(order.map((t) => [t.name, t.metrics[0]!])) },
    tasks: Object.fromEntries(finalCells.map((c) => [c.task, c.metrics])),
  };
  run.writeSummary(summary as unknown as Record<string, unknown>);
  tf.disposeVariables();
  return summary;
}
