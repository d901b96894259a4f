// The run directory (DESIGN.md): runs/<name>/<YYYYMMDD-HHMMSS>/ with the resolved plan, the
// metrics log, the summary, the adapter and the checkpoints. Every file but the append-only
// metrics log is written atomically.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { stringify, parse } from 'yaml';
import { sweepStaleTemps, writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { planShapeProblem, type Plan } from '../../plan/index.js';
import { PeftError } from '../../errors.js';

export const RESOLVED_RECIPE = 'recipe.resolved.yaml';
export const METRICS = 'metrics.jsonl';
export const SUMMARY = 'summary.json';
/** A resolved plan is a few kilobytes. */
const MAX_PLAN_BYTES = 16 << 20;

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** An fs error of the run directory as one FILE error line naming the path. */
function runDirError(e: unknown, path: string, what: string): PeftError {
  if (e instanceof PeftError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const reason = code === 'ENOTDIR' || code === 'EEXIST' ? 'a path on the way is a file, not a directory'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'ENOSPC' ? 'no space left on the device'
        : code === 'EROFS' ? 'read-only file system'
          : String(code ?? (e as Error).message);
  return new PeftError('FILE', `${what}: ${reason}`, {
    where: path,
    hint: code === 'ENOTDIR' || code === 'EEXIST' ? 'choose an output directory (--output or output.dir) that is a directory, or can be created'
      : 'check that the directory is writable and has free space',
    cause: e,
  });
}

export class RunDir {
  private constructor(readonly path: string) {}

  /** A new run directory under `<outputDir>/<name>/` (a suffix if that second is taken). */
  static create(outputDir: string, name: string, now = new Date()): RunDir {
    const base = join(outputDir, name, stamp(now));
    let path = base;
    for (let k = 2; existsSync(path); k++) path = `${base}-${k}`;
    try {
      mkdirSync(path, { recursive: true });
    } catch (e) {
      throw runDirError(e, path, 'cannot create the run directory');
    }
    return new RunDir(path);
  }

  /** A run directory at exactly `path` (a sweep's trial): created if missing. */
  static at(path: string): RunDir {
    mkdirSync(path, { recursive: true });
    return new RunDir(path);
  }

  static open(path: string): RunDir {
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      throw new PeftError('FILE', 'no such run directory', { where: path, hint: 'name a directory under runs/<recipe>/' });
    }
    if (!isDir) throw new PeftError('FILE', 'is a file, not a run directory', { where: path, hint: 'name a directory under runs/<recipe>/ (it holds recipe.resolved.yaml)' });
    if (!existsSync(join(path, RESOLVED_RECIPE))) {
      throw new PeftError('FILE', `not a run directory (no ${RESOLVED_RECIPE})`, { where: path, hint: 'name a directory under runs/<recipe>/' });
    }
    return new RunDir(path);
  }

  /** The run directories of a recipe name under outputDir, newest first (those holding a resolved recipe). */
  static all(outputDir: string, name: string): RunDir[] {
    const dir = join(outputDir, name);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    return names.filter((r) => existsSync(join(dir, r, RESOLVED_RECIPE))).sort().reverse().map((r) => new RunDir(join(dir, r)));
  }

  /** The most recent run of a recipe name under outputDir, or null. */
  static latest(outputDir: string, name: string): RunDir | null {
    return RunDir.all(outputDir, name)[0] ?? null;
  }

  /** The most recent run that has something to continue from: a checkpoint or an adapter. */
  static latestResumable(outputDir: string, name: string): RunDir | null {
    return RunDir.all(outputDir, name).find((r) => r.hasCheckpoint() || r.hasAdapter()) ?? null;
  }

  /** The most recent run that has an adapter. */
  static latestWithAdapter(outputDir: string, name: string): RunDir | null {
    return RunDir.all(outputDir, name).find((r) => r.hasAdapter()) ?? null;
  }

  /** A directory inside this run with its own metrics, adapter and checkpoints (a stage of a stream). */
  child(name: string): RunDir {
    const path = join(this.path, name);
    mkdirSync(path, { recursive: true });
    return new RunDir(path);
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

  /** The plan the run recorded; a damaged record is one FORMAT error naming the file. */
  readPlan(): Plan {
    const file = join(this.path, RESOLVED_RECIPE);
    const damaged = (what: string) => new PeftError('FORMAT', `the run's recorded plan ${what}`, {
      where: file,
      hint: 'the file is damaged (the run was cut while writing it, or it was edited): start a new run with peft train RECIPE',
    });
    let text: string;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw damaged('is not a regular file');
      if (st.size > MAX_PLAN_BYTES) throw damaged(`is ${st.size} bytes, too large to be one`);
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw runDirError(e, file, 'cannot read the run\'s recorded plan');
    }
    let doc: unknown;
    try {
      doc = parse(text);
    } catch (e) {
      const pos = (e as { linePos?: { line: number; col: number }[] }).linePos?.[0];
      const why = (e as Error).message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw damaged(`is not valid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ''} (${why})`);
    }
    const problem = planShapeProblem(doc);
    if (problem) throw damaged(`is incomplete: ${problem}`);
    return doc as Plan;
  }

  /** One JSON object per line; a line is written whole by one append. */
  appendMetrics(record: Record<string, unknown>): void {
    try {
      appendFileSync(join(this.path, METRICS), JSON.stringify(record) + '\n');
    } catch (e) {
      throw runDirError(e, join(this.path, METRICS), 'cannot write the metrics log');
    }
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

  /** A complete checkpoint exists (checkpoints/step-N/ with its trainer state). */
  hasCheckpoint(): boolean {
    try {
      return readdirSync(this.checkpointsDir).some((n) => /^step-\d+$/.test(n) && existsSync(join(this.checkpointsDir, n, 'trainer_state.json')));
    } catch {
      return false;
    }
  }

  /** Deletes the run directory (a new run that failed before it trained: nothing in it to keep). */
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }

  /** Removes what killed writes left behind in the run: temporary files and checkpoint directories. */
  sweepTemporaries(): string[] {
    return [this.path, this.adapterDir, this.checkpointsDir].flatMap((d) => sweepStaleTemps(d));
  }
}
