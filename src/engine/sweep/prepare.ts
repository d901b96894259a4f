// A sweep directory comes into being whole: sweep.json is written into a temporary directory
// that is renamed into place, so an interrupted start leaves nothing half-written; an existing
// directory of the same sweep is reused as it is (re-running resumes).
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
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
