// A sweep directory comes into being whole: sweep.json is written into a temporary directory
// that is renamed into place, so an interrupted start leaves nothing half-written; an existing
// directory of the same sweep is reused as it is (re-running resumes).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PeftError } from '../../errors.js';
import type { SweepPlan, TrialPlan } from '../../plan/index.js';
import { inspectPlan } from '../inspect.js';
import { hasSweepFile, newSweepFile, readSweepFile, writeSweepFile, type SweepFile } from './sweep-file.js';

export interface TrialCounts {
  trainable: number;
  stored: number;
  percent: number;
}

/** Trainable and stored parameters of each trial, from config.json alone (what --dry-run prints). */
export function trialCounts(trials: readonly TrialPlan[]): Map<string, TrialCounts> {
  const out = new Map<string, TrialCounts>();
  for (const t of trials) {
    const i = inspectPlan(t.plan);
    out.set(t.id, { trainable: i.trainable_params, stored: i.stored_params, percent: i.trainable_percent });
  }
  return out;
}

/** The sweep's directory with its sweep.json: created atomically, or the existing one. */
export function prepareSweepDir(s: SweepPlan): { file: SweepFile; created: boolean } {
  if (hasSweepFile(s.dir)) {
    const file = readSweepFile(s.dir);
    if (file.id !== s.id) {
      throw new PeftError('FILE', `${s.dir} holds another sweep (${file.id})`, { where: s.dir, hint: 'move it away or name another --output' });
    }
    return { file, created: false };
  }
  if (existsSync(s.dir)) {
    throw new PeftError('FILE', 'the sweep directory exists but has no sweep.json', { where: s.dir, hint: 'move it away or name another --output' });
  }
  const file = newSweepFile(s, trialCounts(s.trials));
  const tmp = join(dirname(s.dir), `.${basename(s.dir)}.${process.pid}.tmp`);
  mkdirSync(tmp, { recursive: true });
  try {
    writeSweepFile(tmp, file);
    renameSync(tmp, s.dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (hasSweepFile(s.dir)) return { file: readSweepFile(s.dir), created: false }; // another process won the race
    throw e;
  }
  return { file, created: true };
}

const LOCK = 'sweep.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One local runner per sweep directory: a second `peft sweep` of the same sweep would train the
 * same trials into the same directories. A lock left by a killed runner (its pid gone) is taken over.
 */
export function lockSweep(dir: string): () => void {
  const file = join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new PeftError('USAGE', `another peft sweep (pid ${pid}) is running this sweep`, { where: dir, hint: 'wait for it, or stop it (Ctrl-C) and run the command again; to share the work use --queue and peft worker' });
      }
      rmSync(file, { force: true }); // stale: its runner is gone
    }
  }
  throw new PeftError('FILE', 'cannot lock the sweep directory', { where: dir });
}
