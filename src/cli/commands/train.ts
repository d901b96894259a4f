// peft train RECIPE: validate and plan (once), then run — or --dry-run: print the plan — or
// --resume: continue a run from its own recorded plan.
import { resolve } from 'node:path';
import chalk from 'chalk';
import { stringify } from 'yaml';
import { asList, type Command, type GlobalArgs } from '../command.js';
import type { Output } from '../output.js';
import { PeftError } from '../../errors.js';
import type { Plan } from '../../recipes/index.js';
import type { RunDir } from '../../engine/index.js';
import { planFromFile } from '../plan-file.js';
import { TrainProgress, formatDuration } from '../progress.js';
import { describePlan } from '../../recipes/index.js';

interface TrainArgs {
  recipe?: string;
  set?: string | string[];
  'dry-run'?: boolean;
  resume?: string | boolean;
  output?: string;
  backend?: string;
}

export const trainCommand: Command<TrainArgs> = {
  command: 'train [recipe]',
  describe: 'train a recipe (or resume a run)',
  builder: (y) =>
    y
      .positional('recipe', { type: 'string', describe: 'the recipe YAML file' })
      .option('set', { type: 'string', array: true, describe: 'override a key: --set optimizer.lr=3e-4' })
      .option('dry-run', { type: 'boolean', describe: 'print the resolved recipe and the plan; compute nothing' })
      .option('resume', { describe: 'continue a run: its directory, or the latest run of the recipe' })
      .option('output', { type: 'string', describe: 'parent directory of the run directory (default runs/)' })
      .option('backend', { type: 'string', describe: 'force a backend: tensorflow-gpu, tensorflow, native, wasm, cpu' }),
  async run(args, out) {
    const stop = stopOnSignals();
    try {
      return await train(args, out, stop);
    } finally {
      stop.release();
    }
  },
};

async function train(args: TrainArgs & GlobalArgs, out: Output, stop: ReturnType<typeof stopOnSignals>): Promise<number> {
  // the engine (TensorFlow.js) loads only once the recipe is known to be valid: a bad recipe fails fast
  const loadEngine = () => import('../../engine/index.js');
  const resuming = args.resume !== undefined && args.resume !== false;
  if (resuming && asList(args.set).length > 0) {
    // a checkpoint belongs to the plan that wrote it: changing the plan under it would not resume that run
    throw new PeftError('USAGE', '--set cannot be combined with --resume: a run resumes with the plan it recorded', {
      where: `--set ${asList(args.set)[0]}`,
      hint: 'drop --set to resume as recorded, or start a new run with it: peft train RECIPE --set …',
    });
  }
  let resumeDir: string | undefined;
  let plan: Plan;
  if (typeof args.resume === 'string' && args.resume !== '' && !args.resume.match(/\.ya?ml$/i)) {
    if (args.output) {
      throw new PeftError('USAGE', '--output cannot be combined with --resume RUN_DIR: the run continues where it is', {
        where: `--output ${args.output}`, hint: `drop --output: peft train --resume ${args.resume}`,
      });
    }
    resumeDir = resolve(args.resume);
    plan = (await loadEngine()).RunDir.open(resumeDir).readPlan();
  } else {
    const recipe = typeof args.resume === 'string' && args.resume.match(/\.ya?ml$/i) ? args.resume : args.recipe;
    if (!recipe) throw new PeftError('USAGE', 'name a recipe file (or --resume RUN_DIR)', { hint: 'peft train configs/quickstart.yaml' });
    plan = planFromFile(recipe, asList(args.set));
    if (args.output) plan = { ...plan, output: { dir: resolve(args.output) } };
    if (resuming) {
      const chosen = chooseRun((await loadEngine()).RunDir, plan);
      resumeDir = chosen.run.path;
      plan = chosen.run.readPlan();
      out.info(chosen.note);
    }
  }
  if (args['dry-run']) {
    if (out.json) out.result({ ok: true, plan });
    else {
      out.info(chalk.bold('# resolved plan'));
      out.info(stringify(plan).trimEnd());
      out.info(chalk.bold('\n# method'));
      for (const line of describePlan(plan)) out.info(line);
    }
    return 0;
  }
  const progress = new TrainProgress(out, plan.training.logEvery);
  stop.onFirst = (sig) => progress.note(chalk.yellow(`${sig === 'SIGINT' ? 'interrupt' : sig}: saving a checkpoint after this step (${sig === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again to quit now)`));
  try {
    const engine = await loadEngine();
    if (stop.signal) throw stop.error('interrupted before training started; nothing to save', resumeDir);
    const summary = await engine.runTraining(plan, { backend: args.backend, resumeDir }, {
      onBackend: (b) => {
        out.info(`${chalk.bold('backend')} ${b.name} (${b.threads} thread${b.threads === 1 ? '' : 's'})`);
        if (b.fallbackNote) out.warn(b.fallbackNote);
      },
      onWarning: (m) => out.warn(m),
      onSession: (s, dir) => {
        out.info(`${chalk.bold('model')}   ${s.model.family} (${s.model.architecture}) from ${s.modelDir}`);
        out.info(`${chalk.bold('method')}  ${plan.method.preset}: trainable params: ${s.trainableParams.toLocaleString('en-US')} || all params: ${s.totalParams.toLocaleString('en-US')} || trainable%: ${((100 * s.trainableParams) / s.totalParams).toFixed(4)}`);
        out.info(`${chalk.bold('run')}     ${dir}`);
      },
      onStepLaw: (law) => out.info(stepLawLine(law)),
      onData: (st) => out.info(`${chalk.bold('data')}    ${Object.entries(st).map(([k, v]) => `${k}: ${v.examples} examples (${v.streamed ? 'read while training' : `${v.tokens.toLocaleString('en-US')} tokens`})`).join(', ')}`),
      onSelection: (sel) => {
        const parts = [`${sel.entries.toLocaleString('en-US')} entries`];
        if (sel.lowrank) parts.push(`low-rank updates on ${sel.lowrank} matrices`);
        if (sel.whole) parts.push(`${sel.whole} whole tensors`);
        const how = sel.resumed ? 'restored from the checkpoint' : sel.batches ? `measured on ${sel.batches} batches` : 'chosen';
        out.info(`${chalk.bold('select')}  ${sel.criterion} ${how}: ${parts.join(', ')}; trainable params now ${sel.trainable.toLocaleString('en-US')}`);
      },
      onEvalBefore: (r) => out.info(`${chalk.bold('before')}  validation ${fmtMetrics(r.metrics)}`),
      onStart: (i) => {
        if (i.resumedFrom) out.info(`resuming from ${i.resumedFrom} (step ${i.startStep}/${i.totalSteps})`);
        progress.start(i.totalSteps, i.startStep);
      },
      onStep: (r) => progress.update(r),
      onEval: (step, r, best) => progress.note(`eval @ step ${step}: ${fmtMetrics(r.metrics)}${best ? chalk.green('  (best)') : ''}`),
      shouldStop: () => stop.signal !== null,
      onEvalAfter: (r) => {
        progress.stop();
        out.info(`${chalk.bold('after')}   validation ${fmtMetrics(r.metrics)}`);
      },
      onSample: (prompt, text) => out.info(`${chalk.bold('sample')}  ${chalk.dim(prompt)}${text}`),
      onStage: (st) => {
        progress.stop();
        out.info(`${chalk.bold('stage')}   ${st.stage + 1}/${st.stages}: ${st.task}${st.phase === 'train' ? '' : ` (${st.phase})`}`);
      },
      onStreamEval: (stage, task, m) => {
        progress.stop();
        out.info(`${chalk.bold('eval')}    after stage ${stage + 1}: ${task} ${fmtMetrics(m)}`);
      },
    });
    progress.stop();
    const st = (summary as Partial<import('../../engine/index.js').StreamSummary>).stream;
    if (st) {
      const pct = (v: number | null) => (v === null ? '–' : v.toFixed(4));
      out.info(`${chalk.bold('stream')}  average accuracy ${pct(st.average_accuracy)}  forgetting ${pct(st.forgetting)}  backward transfer ${pct(st.backward_transfer)}`);
    }
    out.info(`${chalk.bold('done')}    ${summary.steps} steps in ${formatDuration(summary.wall_time_s)}; adapter: ${summary.adapter_dir}`);
    for (const [split, st] of Object.entries(summary.data)) {
      if (st.skipped > 0) out.warn(`${split}: ${engine.summarizeBadRows(st.bad ?? {}, st.skipped)} (data.on_error: skip)`);
    }
    out.info(`${chalk.bold('wrote')}   ${summary.run_dir}`);
    out.result({ ok: true, ...summary });
    return 0;
  } catch (e) {
    // stopped by SIGTERM or SIGHUP rather than Ctrl-C: the shell's exit code for that signal
    if (e instanceof PeftError && e.code === 'INTERRUPTED' && stop.signal && stop.signal !== 'SIGINT') throw stop.error(e.message, e.where, e.hint);
    throw e;
  } finally {
    progress.stop();
    stop.release();
  }
}

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;
type StopSignal = keyof typeof SIGNALS;

/**
 * SIGINT (Ctrl-C), SIGTERM and SIGHUP ask a run to stop after its current step with a checkpoint;
 * the same signal again quits at once. Installed as the command starts, so a signal during
 * planning or loading stops the run before it trains instead of killing it mid-write.
 */
function stopOnSignals() {
  const state = {
    signal: null as StopSignal | null,
    onFirst: (_sig: StopSignal) => {},
    handlers: new Map<StopSignal, () => void>(),
    error(message: string, where?: string, hint?: string): PeftError {
      const sig = state.signal ?? 'SIGINT';
      return new PeftError('INTERRUPTED', sig === 'SIGINT' ? message : `${message} (${sig})`, {
        where, hint: hint ?? (where ? `the run is unchanged: peft train --resume ${where}` : 'start it again when you are ready'), exitCode: 128 + SIGNALS[sig],
      });
    },
    release() {
      for (const [sig, h] of state.handlers) process.off(sig, h);
      state.handlers.clear();
    },
  };
  for (const sig of Object.keys(SIGNALS) as StopSignal[]) {
    const h = () => {
      if (state.signal) process.exit(128 + SIGNALS[sig]);
      state.signal = sig;
      state.onFirst(sig);
    };
    state.handlers.set(sig, h);
    process.on(sig, h);
  }
  return state;
}


/**
 * The run `--resume RECIPE` continues: the latest one with a checkpoint or an adapter (a later
 * attempt that failed before it trained holds neither); else the latest one, when it recorded
 * exactly this plan (killed before its first checkpoint: it starts over in place).
 */
function chooseRun(RunDirs: typeof RunDir, plan: Plan): { run: RunDir; note: string } {
  const resumable = RunDirs.latestResumable(plan.output.dir, plan.name);
  if (resumable) {
    const what = resumable.hasCheckpoint() ? 'its latest run with a checkpoint' : 'its latest run with an adapter';
    return { run: resumable, note: `resuming ${resumable.path} (${what})` };
  }
  const latest = RunDirs.latest(plan.output.dir, plan.name);
  if (latest && samePlan(latest, plan)) return { run: latest, note: `${latest.path} has no checkpoint yet: training it from step 0` };
  throw new PeftError('USAGE', `no run of ${plan.name} under ${plan.output.dir} has a checkpoint to resume`, {
    where: plan.output.dir,
    hint: latest ? `its latest run (${latest.path}) recorded another plan and holds no checkpoint: start anew without --resume` : 'start it without --resume first',
  });
}

function samePlan(run: RunDir, plan: Plan): boolean {
  try {
    return JSON.stringify(run.readPlan()) === JSON.stringify(plan);
  } catch {
    return false; // a damaged record is not this plan
  }
}

/** What `lr: auto` / `batch_size: auto` became, with the law's inputs (printed before training). */
export function stepLawLine(law: { n: number; d: number; lr: number | null; batchTokens: number | null; batchSize: number | null }): string {
  const parts: string[] = [];
  if (law.lr !== null) parts.push(`lr ${law.lr.toExponential(2)}`);
  if (law.batchSize !== null) parts.push(`batch_size ${law.batchSize} (${(law.batchTokens ?? 0).toLocaleString('en-US')} tokens a step)`);
  return `${chalk.bold('auto')}    ${parts.join(', ')} from the Step Law (Li et al. 2025): N = ${law.n.toLocaleString('en-US')} non-embedding parameters, D = ${law.d.toLocaleString('en-US')} training tokens`;
}

function fmtMetrics(m: Record<string, number>): string {
  return Object.entries(m).map(([k, v]) => `${k} ${Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(4)}`).join('  ');
}
