// Resumable checkpoints: checkpoints/step-N/ holds the adapter (loadable on its own), the
// trainable parameters, the optimizer state and trainer_state.json (step, data cursor, best
// metric). A checkpoint is built in a temporary directory and renamed into place, so a run
// killed at any moment leaves the last complete one readable; older ones beyond the retention
// limit are removed after the new one is in place.
import { existsSync, fsyncSync, closeSync, openSync, readdirSync, readFileSync, renameSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { writeSafetensors, openSafetensors } from '../io/safetensors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { saveAdapter } from '../adapters/index.js';
import { splitOptimizerState, joinOptimizerState, type Optimizer } from './optim/index.js';
import type { OptimizerStateMeta } from './optim/state.js';
import type { Session } from '../session.js';
import type { DataCursor } from '../data/batches.js';
import { writeSelectionLayout, type SelectionLayout } from '../selection/index.js';
import { PeftError } from '../../errors.js';

export interface TrainerState {
  step: number;
  totalSteps: number;
  cursor: DataCursor;
  best: { metric: string; value: number; step: number } | null;
  badEvals: number;
  tokensSeen: number;
  elapsedMs: number;
  optimizer: OptimizerStateMeta;
  /** The method's own training state (AdaLoRA's scores and pattern); arrays in method_state.safetensors. */
  method?: Record<string, unknown>;
  /** The selection's layout (which entries train); its indices in selection.safetensors. */
  selection?: SelectionLayout;
}

const STEP_RE = /^step-(\d+)$/;

function fsyncPath(path: string): void {
  try {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  }
}

export function listCheckpoints(dir: string): { step: number; path: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((n) => ({ m: STEP_RE.exec(n), n }))
    .filter((x) => x.m && existsSync(join(dir, x.n, 'trainer_state.json')))
    .map((x) => ({ step: Number(x.m![1]), path: join(dir, x.n) }))
    .sort((a, b) => a.step - b.step);
}

export function saveCheckpoint(s: Session, opt: Optimizer, state: Omit<TrainerState, 'optimizer'>, dir: string, keep: number): string {
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.step-${state.step}.${randomBytes(4).toString('hex')}.tmp`);
  mkdirSync(tmp);
  saveAdapter(s.peft, join(tmp, 'adapter'), { baseModel: s.modelDir, backboneNames: s.trainable.backboneNames });
  const params = [...s.trainable.params].map(([name, p]) => ({ name, shape: [...p.shape], data: p.value.dataSync() as Float32Array }));
  writeSafetensors(join(tmp, 'trainable.safetensors'), params);
  const { meta, tensors } = splitOptimizerState(opt.state());
  writeSafetensors(join(tmp, 'optimizer.safetensors'), [...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })));
  const method = s.peft.trainingState();
  if (method.arrays.size > 0) {
    writeSafetensors(join(tmp, 'method_state.safetensors'), [...method.arrays].map(([name, data]) => ({ name, shape: [data.length], data })));
  }
  const selection = s.peft.selection ? writeSelectionLayout(tmp, s.peft.selection) : undefined;
  writeJsonAtomic(join(tmp, 'trainer_state.json'), { ...state, optimizer: meta, method: method.meta, ...(selection ? { selection } : {}) } satisfies TrainerState);
  fsyncPath(tmp);
  const final = join(dir, `step-${state.step}`);
  if (existsSync(final)) rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  fsyncPath(dir);
  const all = listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(old.path, { recursive: true, force: true });
  for (const n of readdirSync(dir)) if (n.endsWith('.tmp') && join(dir, n) !== tmp) rmSync(join(dir, n), { recursive: true, force: true });
  return final;
}

/** A checkpoint's trainer_state.json. */
export function readTrainerState(path: string): TrainerState {
  const statePath = join(path, 'trainer_state.json');
  try {
    return JSON.parse(readFileSync(statePath, 'utf8')) as TrainerState;
  } catch (e) {
    throw new PeftError('FORMAT', `unreadable trainer state (${(e as Error).message})`, { where: statePath });
  }
}

/** Restores parameters and optimizer state from a checkpoint; returns the trainer state. */
export function loadCheckpoint(s: Session, opt: Optimizer, path: string): TrainerState {
  const state = readTrainerState(path);
  const params = openSafetensors(join(path, 'trainable.safetensors'));
  for (const [name, p] of s.trainable.params) {
    if (!params.has(name)) throw new PeftError('FORMAT', 'checkpoint lacks a trainable parameter', { where: `${path}: ${name}`, hint: 'was the recipe changed since?' });
    p.set(tf.tensor(params.read(name), params.info(name).shape));
  }
  const optFile = openSafetensors(join(path, 'optimizer.safetensors'));
  const tensors = new Map(optFile.names().map((n) => [n, { shape: optFile.info(n).shape, data: optFile.read(n) }]));
  opt.load(joinOptimizerState(state.optimizer, tensors, path));
  const methodFile = join(path, 'method_state.safetensors');
  const methodArrays = existsSync(methodFile) ? openSafetensors(methodFile) : null;
  s.peft.restoreTrainingState(state.method, (name) => (methodArrays?.has(name) ? (methodArrays.read(name) as Float32Array) : null));
  return state;
}
