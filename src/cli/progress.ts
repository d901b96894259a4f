// Training progress: a live bar on a terminal (epoch, step/total, smoothed loss, lr, tokens/s,
// ETA), plain lines every N steps when output is not a terminal, nothing in --quiet/--json.
import cliProgress from 'cli-progress';
import type { StepRecord } from '../engine/index.js';
import type { Output } from './output.js';

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '--';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatLr(lr: number): string {
  return lr === 0 ? '0' : lr.toExponential(2);
}

export class TrainProgress {
  private bar: cliProgress.SingleBar | null = null;
  /** The bar's last fields (a bar restarted after a note shows them, not its placeholders). */
  private fields: Record<string, unknown> = { epoch: 0, loss: '-', lr: '-', tps: '-', eta_h: '--' };
  constructor(private readonly out: Output, private readonly every: number) {}

  start(total: number, startStep: number): void {
    if (!this.out.interactive) return;
    this.bar = new cliProgress.SingleBar({
      format: 'epoch {epoch} |{bar}| {value}/{total} | loss {loss} | lr {lr} | {tps} tok/s | ETA {eta_h}',
      stream: process.stderr,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    }, cliProgress.Presets.shades_classic);
    this.bar.start(total, startStep, this.fields);
  }

  update(r: StepRecord): void {
    const fields = {
      epoch: r.epoch, loss: r.smoothLoss.toFixed(4), lr: formatLr(r.lr), tps: Math.round(r.tokensPerSec), eta_h: formatDuration(r.etaSec),
    };
    this.fields = fields;
    if (this.bar) {
      this.bar.update(r.step, fields);
      return;
    }
    if (r.step % this.every === 0 || r.step === r.totalSteps) {
      this.out.info(`step ${r.step}/${r.totalSteps}  epoch ${r.epoch}  loss ${fields.loss}  lr ${fields.lr}  ${fields.tps} tok/s  ETA ${fields.eta_h}`);
    }
  }

  /** Prints a line without breaking the bar. */
  note(line: string): void {
    if (this.bar) {
      this.bar.stop();
      this.out.info(line);
      const b = this.bar as unknown as { value: number; total: number };
      this.bar.start(b.total, b.value, this.fields);
    } else this.out.info(line);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
