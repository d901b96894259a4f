// Progress over a known number of items (rows predicted, examples evaluated): a bar on a terminal,
// a plain line every ~10% otherwise, nothing in --quiet/--json (as TrainProgress does for steps).
import cliProgress from 'cli-progress';
import type { Output } from './output.js';
import { formatDuration } from './progress.js';

export class CountProgress {
  private bar: cliProgress.SingleBar | null = null;
  private total = 0;
  private nextLine = 0;
  private started = 0;

  constructor(private readonly out: Output, private readonly what: string) {}

  start(total: number): void {
    this.total = total;
    this.started = Date.now();
    this.nextLine = Math.max(1, Math.ceil(total / 10));
    if (!this.out.interactive) return;
    this.bar = new cliProgress.SingleBar({
      format: `${this.what} |{bar}| {value}/{total} | {rate}/s | ETA {eta_h}`,
      stream: process.stderr,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
    }, cliProgress.Presets.shades_classic);
    this.bar.start(total, 0, { rate: '-', eta_h: '--' });
  }

  update(done: number): void {
    const secs = (Date.now() - this.started) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const eta = rate > 0 ? (this.total - done) / rate : NaN;
    if (this.bar) {
      this.bar.update(done, { rate: rate.toFixed(1), eta_h: formatDuration(eta) });
      return;
    }
    if (done >= this.nextLine || done === this.total) {
      this.out.info(`${this.what} ${done}/${this.total}  ${rate.toFixed(1)}/s  ETA ${formatDuration(eta)}`);
      while (this.nextLine <= done) this.nextLine += Math.max(1, Math.ceil(this.total / 10));
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
