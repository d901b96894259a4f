// Printing a sweep for `peft sweep` and `peft reproduce`: the trial list of --dry-run, and one
// line per trial as it starts, progresses and ends (several run at once: no live bar).
import chalk from 'chalk';
import { describePlan, type SweepPlan, type TrialPlan } from '../recipes/index.js';
import type { ChildMessage, SweepEvents, TrialOutcome } from '../engine/index.js';
import type { Output } from './output.js';
import { formatDuration, formatLr } from './progress.js';
import { stepLawLine } from './commands/train.js';

const fmt = (n: number) => n.toLocaleString('en-US');

interface Counts {
  trainable: number;
  stored: number;
  percent: number;
}

/** --dry-run: every trial, its parameter counts and its resolved plan (method, optimizer, steps). */
export function printTrials(out: Output, s: SweepPlan, counts: Map<string, Counts>): void {
  out.info(`${chalk.bold('sweep')}   ${s.name}: ${s.trials.length} trial${s.trials.length === 1 ? '' : 's'} into ${s.dir}`);
  out.info(`${chalk.bold('compare')} validation ${s.select.metric} (${s.select.mode === 'max' ? 'higher' : 'lower'} is better)`);
  if (s.realityCheck) {
    const txt = (os: { key: string; value: unknown }[]) => os.map((o) => `${o.key}=${JSON.stringify(o.value)}`).join(' ');
    out.info(`${chalk.bold('protocol')} reality check: tune with ${txt(s.realityCheck.tune)}; the best trial is trained again with ${txt(s.realityCheck.evaluate)} and reported`);
  }
  for (const t of s.trials) {
    const c = counts.get(t.id);
    const p = t.plan;
    out.info('');
    out.info(`${chalk.bold(t.id)}  ${t.label}`);
    if (c) out.info(`  params: ${fmt(c.trainable)} trainable (${c.percent.toFixed(4)}% of the backbone), ${fmt(c.stored)} stored`);
    for (const line of describePlan(p)) out.info(`  ${line}`);
    const lr = p.stepLaw?.lr ? 'auto (Step Law)' : formatLr(p.optimizer.lr);
    const bs = p.stepLaw?.batchSize ? 'auto (Step Law)' : String(p.training.batchSize);
    const len = p.training.maxSteps !== null ? `${p.training.maxSteps} steps` : `${p.training.epochs} epoch(s)`;
    out.info(`  ${p.optimizer.name} lr ${lr}, batch ${bs}, ${len}, seed ${p.seed}; data ${p.data.train?.path ?? '–'}`);
  }
}

/** Event handlers that print a line per trial start/end and a progress line every ~25%. */
export function trialPrinter(out: Output): SweepEvents {
  const quarter = new Map<string, number>();
  const started = new Map<string, number>();
  const tag = (t: TrialPlan) => chalk.bold(t.label || t.id);
  return {
    onPrepared: (i) => {
      out.info(`${chalk.bold('sweep')}   ${i.dir}${i.created ? '' : ' (continued)'}`);
      out.info(`${chalk.bold('trials')}  ${i.total}: ${i.finished} finished, ${i.toRun} to run`);
    },
    onTrialStart: (t) => {
      started.set(t.id, Date.now());
      out.info(`${chalk.cyan('start')}   ${tag(t)}`);
    },
    onTrialMessage: (t, m: ChildMessage) => {
      if (m.type === 'start' && m.resumedFrom) out.info(`        ${tag(t)}: resuming at step ${m.startStep}/${m.totalSteps}`);
      if (m.type === 'step_law') out.info(`        ${tag(t)}: ${stepLawLine(m.law)}`);
      if (m.type === 'warning') out.warn(`${t.label}: ${m.message}`);
      if (m.type === 'step') {
        const q = Math.floor((4 * m.step) / m.totalSteps);
        if (q > (quarter.get(t.id) ?? 0) && q < 4) {
          quarter.set(t.id, q);
          out.info(`        ${tag(t)}: step ${m.step}/${m.totalSteps} loss ${m.loss.toFixed(4)} ETA ${formatDuration(m.etaSec)}`);
        }
      }
    },
    onTrialEnd: (t, o: TrialOutcome, p) => {
      const secs = (Date.now() - (started.get(t.id) ?? Date.now())) / 1000;
      const head = `[${p.finished + p.failed}/${p.total}]`;
      if (o.ok) {
        const b = o.summary.best;
        const m = b ? `${b.metric} ${b.value.toFixed(4)} (adapter of step ${b.step})` : Object.entries(o.summary.after ?? {}).map(([k, v]) => `${k} ${v.toFixed(4)}`).join('  ');
        out.info(`${chalk.green('done')}    ${head} ${tag(t)}${o.skipped ? ' (already finished)' : `  ${m}  ${formatDuration(secs)}`}`);
      } else out.info(`${chalk.red('failed')}  ${head} ${tag(t)}: ${o.error.message}`);
    },
    onEvaluation: (best, t) => out.info(`${chalk.bold('select')}  ${best.label} (best on the tuning split); training it again for the evaluation phase as ${t.id}`),
  };
}
