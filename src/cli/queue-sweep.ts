// `peft sweep … --queue URL`: enqueue the trials (and print where they stand), `--status` (read
// only), `--wait` (poll until the last trial ends, then the table and figures).
import chalk from 'chalk';
import type { SweepPlan } from '../recipes/index.js';
import type { QueueSweep, TrialStatus } from '../engine/index.js';
import type { Output } from './output.js';

interface QueueArgs {
  queue?: string;
  'queue-name'?: string;
  backend?: string;
  status?: boolean;
  wait?: boolean;
}

function stateText(st: TrialStatus): string {
  const p = st.progress && st.state === 'active' ? ` step ${st.progress.step}/${st.progress.totalSteps}` : '';
  const a = st.attempts > 1 || (st.state === 'failed' && st.attempts > 0) ? ` (attempt ${st.attempts})` : '';
  const e = st.state === 'failed' && st.error ? `: ${st.error}` : '';
  return `${st.state === 'done-locally' ? 'completed' : st.state}${p}${a}${e}`;
}

function counts(r: QueueSweep): string {
  const all = [...r.statuses, ...(r.evaluation ? [r.evaluation] : [])];
  const by = new Map<string, number>();
  for (const st of all) {
    const k = st.state === 'done-locally' ? 'completed' : st.state;
    by.set(k, (by.get(k) ?? 0) + 1);
  }
  return [...by].map(([k, n]) => `${n} ${k}`).join(', ');
}

export async function queueSweep(sweep: SweepPlan, args: QueueArgs, out: Output): Promise<number> {
  const engine = await import('../engine/index.js');
  const o = { url: args.queue!, name: args['queue-name'] ?? 'peft', backend: args.backend };
  let r = await engine.syncQueueSweep(sweep, o, { enqueue: !args.status });
  out.info(`${chalk.bold('sweep')}   ${sweep.dir}`);
  if (!args.status) {
    const e = r.enqueued;
    out.info(`${chalk.bold('queue')}   ${o.url} (${o.name}): ${e.added} trial(s) enqueued, ${e.present} already there${e.retried ? `, ${e.retried} failed ones retried` : ''}`);
  }
  if (args.status || !args.wait) {
    for (const st of [...r.statuses, ...(r.evaluation ? [r.evaluation] : [])]) out.info(`  ${st.label.padEnd(36)} ${stateText(st)}`);
    out.info(`${chalk.bold('trials')}  ${counts(r)}`);
    out.result({ ok: true, dir: sweep.dir, trials: r.statuses.map(({ result: _r, ...st }) => st), evaluation: r.evaluation });
    if (!args.wait) {
      if (!engine.sweepEnded(sweep, r)) out.info(chalk.dim(`start workers with: peft worker --queue ${o.url}${o.name !== 'peft' ? ` --queue-name ${o.name}` : ''}; then --wait or --status`));
      return 0;
    }
  }
  let last = '';
  while (!engine.sweepEnded(sweep, r)) {
    const now = counts(r);
    if (now !== last) out.info(`${chalk.bold('waiting')} ${now}`);
    last = now;
    await new Promise((res) => setTimeout(res, 2000));
    r = await engine.syncQueueSweep(sweep, o, { enqueue: true });
  }
  out.info(`${chalk.bold('trials')}  ${counts(r)}`);
  const failed = engine.sweepFailed(r);
  const done = r.table.runs.filter((x) => x.summary);
  const report = done.length ? await engine.writeReportFor(r.table.runs, `${sweep.dir}/report`, { metric: sweep.select.metric, title: `sweep ${sweep.name}` }) : null;
  const { printOutcome } = await import('./commands/sweep.js');
  const evaluation = r.table.rows.find((x) => x.kind === 'evaluate') ?? null;
  printOutcome(out, sweep, { dir: sweep.dir, best: r.table.best, evaluation, failed: failed.map((f) => ({ label: f.label, message: f.error ?? '' })), report });
  out.result({ ok: failed.length === 0, dir: sweep.dir, best: r.table.best, evaluation, rows: r.table.rows, failed: failed.map((f) => ({ id: f.id, label: f.label, error: f.error })) });
  return failed.length === 0 ? 0 : 1;
}
