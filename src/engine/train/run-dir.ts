// The run directory (DESIGN.md): runs/<name>/<YYYYMMDD-HHMMSS>/ with the resolved plan, the
// metrics log, the summary, the adapter and the checkpoints. Every file but the append-only
// metrics log is written atomically.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { stringify, parse } from 'yaml';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import type { Plan } from '../../plan/index.js';
import { PeftError } from '../../errors.js';

export const RESOLVED_RECIPE = 'recipe.resolved.yaml';
export const METRICS = 'metrics.jsonl';
export const SUMMARY = 'summary.json';

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

export class RunDir {
  private constructor(readonly path: string) {}

  /** A new run directory under `<outputDir>/<name>/` (a suffix if that second is taken). */
  static create(outputDir: string, name: string, now = new Date()): RunDir {
    const base = join(outputDir, name, stamp(now));
    let path = base;
    for (let k = 2; existsSync(path); k++) path = `${base}-${k}`;
    mkdirSync(path, { recursive: true });
    return new RunDir(path);
  }

  /** A run directory at exactly `path` (a sweep's trial): created if missing. */
  static at(path: string): RunDir {
    mkdirSync(path, { recursive: true });
    return new RunDir(path);
  }

  static open(path: string): RunDir {
    if (!existsSync(join(path, RESOLVED_RECIPE))) {
      throw new PeftError('FILE', `not a run directory (no ${RESOLVED_RECIPE})`, { where: path, hint: 'name a directory under runs/<recipe>/' });
    }
    return new RunDir(path);
  }

  /** The most recent run of a recipe name under outputDir, or null. */
  static latest(outputDir: string, name: string): RunDir | null {
    const dir = join(outputDir, name);
    if (!existsSync(dir)) return null;
    const runs = readdirSync(dir).filter((r) => existsSync(join(dir, r, RESOLVED_RECIPE))).sort();
    return runs.length ? new RunDir(join(dir, runs[runs.length - 1])) : null;
  }

  get adapterDir(): string {
    return join(this.path, 'adapter');
  }

  get checkpointsDir(): string {
    return join(this.path, 'checkpoints');
  }

  writePlan(plan: Plan): void {
    const header = `# The exact plan of this run (extends, --set and presets applied). peft train --resume ${this.path}\n`;
    writeFileAtomic(join(this.path, RESOLVED_RECIPE), header + stringify(plan));
  }

  readPlan(): Plan {
    return parse(readFileSync(join(this.path, RESOLVED_RECIPE), 'utf8')) as Plan;
  }

  /** One JSON object per line; a line is written whole by one append. */
  appendMetrics(record: Record<string, unknown>): void {
    appendFileSync(join(this.path, METRICS), JSON.stringify(record) + '\n');
  }

  readMetrics(): Record<string, unknown>[] {
    const file = join(this.path, METRICS);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return []; // a line cut by a crash
      }
    });
  }

  writeSummary(summary: Record<string, unknown>): void {
    writeJsonAtomic(join(this.path, SUMMARY), summary);
  }

  hasAdapter(): boolean {
    return existsSync(join(this.adapterDir, 'adapter_config.json')) && statSync(this.adapterDir).isDirectory();
  }
}
