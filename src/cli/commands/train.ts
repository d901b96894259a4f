// peft train RECIPE: validate and plan (once), then run — or --dry-run: print the plan — or
// --resume: continue a run from its own recorded plan.
import { resolve } from 'node:path';
import chalk from 'chalk';
import { stringify } from 'yaml';
import { asList, type Command } from '../command.js';
import { PeftError } from '../../errors.js';
import type { Plan } from '../../recipes/index.js';
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
    const engine = await import('../../engine/index.js');
    let resumeDir: string | undefined;
    let plan: Plan;
    if (typeof args.resume === 'string' && args.resume !== '' && !args.resume.match(/\.ya?ml$/i)) {
      resumeDir = resolve(args.resume);
      plan = engine.RunDir.open(resumeDir).readPlan();
    } else {
      const recipe = typeof args.resume === 'string' && args.resume.match(/\.ya?ml$/i) ? args.resume : args.recipe;
      if (!recipe) throw new PeftError('USAGE', 'name a recipe file (or --resume RUN_DIR)', { hint: 'peft train configs/quickstart.yaml' });
      plan = planFromFile(recipe, asList(args.set));
      if (args.output) plan = { ...plan, output: { dir: resolve(args.output) } };
      if (args.resume !== undefined && args.resume !== false) {
        const latest = engine.RunDir.latest(plan.output.dir, plan.name);
        if (!latest) throw new PeftError('USAGE', `no run of ${plan.name} to resume under ${plan.output.dir}`, { hint: 'start it without --resume first' });
        resumeDir = latest.path;
        plan = latest.readPlan();
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
    let interrupted = false;
    const onSigint = () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      progress.note(chalk.yellow('interrupt: saving a checkpoint after this step (Ctrl-C again to quit now)'));
    };
    process.on('SIGINT', onSigint);
    try {
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
        onData: (st) => out.info(`${chalk.bold('data')}    ${Object.entries(st).map(([k, v]) => `${k}: ${v.examples} examples (${v.tokens.toLocaleString('en-US')} tokens)`).join(', ')}`),
        onEvalBefore: (r) => out.info(`${chalk.bold('before')}  validation ${fmtMetrics(r.metrics)}`),
        onStart: (i) => {
          if (i.resumedFrom) out.info(`resuming from ${i.resumedFrom} (step ${i.startStep}/${i.totalSteps})`);
          progress.start(i.totalSteps, i.startStep);
        },
        onStep: (r) => progress.update(r),
        onEval: (step, r, best) => progress.note(`eval @ step ${step}: ${fmtMetrics(r.metrics)}${best ? chalk.green('  (best)') : ''}`),
        shouldStop: () => interrupted,
        onEvalAfter: (r) => {
          progress.stop();
          out.info(`${chalk.bold('after')}   validation ${fmtMetrics(r.metrics)}`);
        },
        onSample: (prompt, text) => out.info(`${chalk.bold('sample')}  ${chalk.dim(prompt)}${text}`),
      });
      progress.stop();
      out.info(`${chalk.bold('done')}    ${summary.steps} steps in ${formatDuration(summary.wall_time_s)}; adapter: ${summary.adapter_dir}`);
      for (const [split, st] of Object.entries(summary.data)) {
        if (st.skipped > 0) out.warn(`${split}: ${engine.summarizeBadRows(st.bad ?? {}, st.skipped)} (data.on_error: skip)`);
      }
      out.info(`${chalk.bold('wrote')}   ${summary.run_dir}`);
      out.result({ ok: true, ...summary });
      return 0;
    } finally {
      progress.stop();
      process.off('SIGINT', onSigint);
    }
  },
};

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
