// Resumable checkpoints: checkpoints/step-N/ holds the adapter (loadable on its own), the
// trainable parameters, the optimizer state and trainer_state.json (step, data cursor, best
// metric). A checkpoint is built in a temporary directory and renamed into place, so a run
// killed at any moment leaves the last complete one readable; older ones beyond the retention
// limit are removed after the new one is in place.
import { existsSync, fsyncSync, closeSync, openSync, readdirSync, readFileSync, renameSync, rmSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeSafetensors, openSafetensors, type SafetensorsFile } from '../io/safetensors.js';
import { sweepStaleTemps, tempPath, writeJsonAtomic } from '../io/atomic.js';
import { saveAdapter } from '../adapters/index.js';
import { splitOptimizerState, joinOptimizerState, type Optimizer, type OptimizerState } from './optim/index.js';
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
  const tmp = tempPath(dir, `step-${state.step}`);
  try {
    mkdirSync(dir, { recursive: true });
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
  } catch (e) {
    // a full disk (or any failure) leaves no half-written checkpoint behind; the last complete one stays
    rmSync(tmp, { recursive: true, force: true });
    const last = listCheckpoints(dir).pop();
    const code = e instanceof PeftError ? (e.cause as NodeJS.ErrnoException | undefined)?.code : (e as NodeJS.ErrnoException).code;
    throw new PeftError('FILE', `cannot write the checkpoint of step ${state.step}: ${code === 'ENOSPC' ? 'no space left on the device' : (e as Error).message}`, {
      where: dir,
      hint: last ? `free some space; the run resumes from ${last.path} (peft train --resume ${dirname(dir)})` : 'free some space and train again',
      cause: e,
    });
  }
  const final = join(dir, `step-${state.step}`);
  if (existsSync(final)) rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  fsyncPath(dir);
  const all = listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(old.path, { recursive: true, force: true });
  sweepStaleTemps(dir);
  return final;
}

/** What a checkpoint holds, read and checked in full before anything is restored from it. */
interface CheckpointData {
  state: TrainerState;
  params: Map<string, Float32Array>;
  optimizer: OptimizerState;
  methodArrays: SafetensorsFile | null;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** The first way a trainer state is out of range for this run, or null. */
function stateProblem(st: TrainerState, limits: { totalSteps: number; examples: number }): string | null {
  if (!st || typeof st !== 'object') return 'is not a JSON object';
  if (!isCount(st.step) || st.step > limits.totalSteps) return `step ${JSON.stringify(st.step)} is outside 0…${limits.totalSteps}`;
  const c = st.cursor as Partial<DataCursor> | undefined;
  if (!c || !isCount(c.epoch)) return `data cursor epoch ${JSON.stringify(c?.epoch)} is not an integer ≥ 0`;
  if (!isCount(c.index) || c.index >= limits.examples) return `data cursor index ${JSON.stringify(c.index)} is outside 0…${limits.examples - 1} (the training split has ${limits.examples} examples)`;
  for (const k of ['badEvals', 'tokensSeen', 'elapsedMs'] as const) {
    if (typeof st[k] !== 'number' || !Number.isFinite(st[k]) || st[k] < 0) return `${k} ${JSON.stringify(st[k])} is not a number ≥ 0`;
  }
  if (st.best !== null && (typeof st.best !== 'object' || typeof st.best.metric !== 'string' || typeof st.best.value !== 'number' || !isCount(st.best.step))) {
    return 'best is not {metric, value, step}';
  }
  if (!st.optimizer || typeof st.optimizer !== 'object' || typeof st.optimizer.params !== 'object' || st.optimizer.params === null) return 'optimizer state is missing';
  return null;
}

/** Reads a checkpoint whole and checks it against the session (names, shapes, ranges); throws FORMAT naming the file. */
/** A checkpoint's trainer_state.json as written (unchecked: readCheckpoint checks it against a run). */
export function readTrainerState(path: string): TrainerState {
  const statePath = join(path, 'trainer_state.json');
  try {
    return JSON.parse(readFileSync(statePath, 'utf8')) as TrainerState;
  } catch (e) {
    throw new PeftError('FORMAT', `unreadable trainer state (${(e as Error).message})`, { where: statePath });
  }
}

function readCheckpoint(s: Session, path: string, limits: { totalSteps: number; examples: number }): CheckpointData {
  const statePath = join(path, 'trainer_state.json');
  const state = readTrainerState(path);
  const problem = stateProblem(state, limits);
  if (problem) throw new PeftError('FORMAT', `trainer state: ${problem}`, { where: statePath });
  const paramsFile = openSafetensors(join(path, 'trainable.safetensors'));
  const params = new Map<string, Float32Array>();
  for (const [name, p] of s.trainable.params) {
    if (!paramsFile.has(name)) throw new PeftError('FORMAT', 'checkpoint lacks a trainable parameter', { where: `${path}: ${name}` });
    const shape = paramsFile.info(name).shape;
    if (shape.length !== p.shape.length || shape.some((d, i) => d !== p.shape[i])) {
      throw new PeftError('SHAPE', `checkpoint holds [${shape}], the parameter is [${p.shape}]`, { where: `${path}: ${name}` });
    }
    params.set(name, paramsFile.read(name));
  }
  const optFile = openSafetensors(join(path, 'optimizer.safetensors'));
  const tensors = new Map(optFile.names().map((n) => [n, { shape: optFile.info(n).shape, data: optFile.read(n) }]));
  const optimizer = joinOptimizerState(state.optimizer, tensors, path);
  const methodFile = join(path, 'method_state.safetensors');
  return { state, params, optimizer, methodArrays: existsSync(methodFile) ? openSafetensors(methodFile) : null };
}

/** Restores parameters and optimizer state from a checkpoint; returns the trainer state. */
export function loadCheckpoint(s: Session, opt: Optimizer, path: string, limits = { totalSteps: Number.MAX_SAFE_INTEGER, examples: Number.MAX_SAFE_INTEGER }): TrainerState {
  const data = readCheckpoint(s, path, limits);
  opt.load(data.optimizer); // checks every buffer against its parameter before changing anything
  for (const [name, p] of s.trainable.params) p.set(tf.tensor(data.params.get(name)!, [...p.shape]));
  const m = data.methodArrays;
  s.peft.restoreTrainingState(data.state.method, (name) => (m?.has(name) ? (m.read(name) as Float32Array) : null));
  return data.state;
}

/**
 * Restores the newest checkpoint of `dir` that is whole; a damaged newer one is skipped, and
 * `warn` says so (a run cut while its last checkpoint was being written still resumes). Null
 * when there is none; throws when every checkpoint is damaged.
 */
export function loadLatestCheckpoint(
  s: Session, opt: Optimizer, dir: string, limits: { totalSteps: number; examples: number }, warn: (message: string) => void,
): { state: TrainerState; path: string } | null {
  const cps = listCheckpoints(dir).reverse();
  let firstError: PeftError | null = null;
  for (const [i, cp] of cps.entries()) {
    try {
      const state = loadCheckpoint(s, opt, cp.path, limits);
      if (firstError) warn(`${firstError.where ?? cps[0]!.path}: ${firstError.message}; resumed from the previous checkpoint ${cp.path} instead`);
      return { state, path: cp.path };
    } catch (e) {
      if (!(e instanceof PeftError)) throw e;
      firstError ??= e;
      if (i === cps.length - 1) {
        throw new PeftError(e.code, `${e.message} (every checkpoint of the run is damaged)`, {
          where: e.where,
          hint: `delete ${dir} to start the run over from step 0 (peft train --resume ${dirname(dir)}), or start a new run`,
        });
      }
    }
  }
  return null;
}
