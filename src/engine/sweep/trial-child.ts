// The process one trial runs in (forked by run-trial.ts): receives its job over IPC, trains it in
// its run directory (continuing it from its last checkpoint when it was started before), sends
// progress and the outcome back. When the parent dies (the IPC channel closes) it checkpoints and
// stops, so a killed sweep or worker leaves no orphan writing into a trial another one resumes.
import { PeftError } from '../../errors.js';
import { runTraining } from '../train/run.js';
import type { ChildMessage, TrialJob } from './run-trial.js';
import { trialState } from './trial-state.js';

function send(m: ChildMessage): void {
  if (process.connected) process.send?.(m);
}

async function run(job: TrialJob): Promise<void> {
  let parentGone = false;
  const stop = () => {
    parentGone = true;
    setTimeout(() => process.exit(1), 30_000).unref(); // still loading: no step will poll
  };
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const state = trialState(job.dir);
  if (state.kind === 'done') {
    send({ type: 'done', summary: state.summary, skipped: true });
    return;
  }
  const plan = state.kind === 'started' ? state.plan : job.plan;
  let lastSent = 0;
  const summary = await runTraining(plan, {
    backend: job.backend,
    ...(state.kind === 'started' ? { resumeDir: job.dir } : { runDir: job.dir }),
  }, {
    onStart: (i) => send({ type: 'start', totalSteps: i.totalSteps, startStep: i.startStep, resumedFrom: i.resumedFrom }),
    onStepLaw: (law) => send({ type: 'step_law', law }),
    onStep: (r) => {
      if (Date.now() - lastSent < 1000 && r.step !== r.totalSteps) return;
      lastSent = Date.now();
      send({ type: 'step', step: r.step, totalSteps: r.totalSteps, loss: r.smoothLoss, etaSec: r.etaSec });
    },
    onEval: (step, r) => send({ type: 'eval', step, metrics: r.metrics }),
    onWarning: (message) => send({ type: 'warning', message }),
    shouldStop: () => parentGone,
  });
  send({ type: 'done', summary, skipped: false });
}

process.once('message', (job: TrialJob) => {
  run(job).then(
    () => process.exit(0),
    (e: unknown) => {
      const err = e instanceof PeftError
        ? { code: e.code, message: e.message, where: e.where, hint: e.hint, exitCode: e.exitCode }
        : { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e), exitCode: 1 };
      send({ type: 'error', error: err });
      process.exit(1);
    },
  );
});
