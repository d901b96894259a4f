// A stream's progress on disk (run/stream/): the phases done, the evaluations after each stage,
// every trainable parameter as the last finished phase left it, and the strategy's sets. Written
// after each phase (parameters and sets first, state.json last, each atomically), so `--resume`
// continues at the first phase not done — inside it, from that phase's own checkpoint.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import { openSafetensors, writeSafetensors } from '../io/safetensors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { readSets, writeSets, type ParamSet } from './param-sets.js';
import type { Strategy, StrategyState } from './strategy.js';
import { PeftError } from '../../errors.js';

export interface StreamCell {
  stage: number;
  task: string;
  metrics: Record<string, number>;
}

export interface StreamProgress {
  /** `<stage>:<phase>` and `<stage>:after` keys of what is finished. */
  done: string[];
  /** Evaluations after each stage, in order. */
  cells: StreamCell[];
  strategy: Record<string, unknown>;
}

const STATE = 'state.json';
const PARAMS = 'params.safetensors';
const SETS = 'sets.safetensors';

export function saveProgress(dir: string, params: ReadonlyMap<string, Param>, strategy: Strategy, progress: Omit<StreamProgress, 'strategy'>): void {
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, PARAMS), [...params].map(([name, p]) => ({ name, shape: [...p.shape], data: p.value.dataSync() as Float32Array })));
  const st = strategy.state();
  writeSets(join(dir, SETS), st.sets);
  writeJsonAtomic(join(dir, STATE), { ...progress, strategy: st.meta } satisfies StreamProgress);
}

/** Reads the progress back, setting the parameters and the strategy's state; null when the stream has not finished a phase. */
export function loadProgress(dir: string, params: ReadonlyMap<string, Param>, strategy: Strategy): StreamProgress | null {
  const file = join(dir, STATE);
  if (!existsSync(file)) return null;
  let progress: StreamProgress;
  try {
    progress = JSON.parse(readFileSync(file, 'utf8')) as StreamProgress;
  } catch (e) {
    throw new PeftError('FORMAT', `unreadable stream state (${(e as Error).message})`, { where: file });
  }
  const saved = openSafetensors(join(dir, PARAMS));
  for (const [name, p] of params) {
    if (!saved.has(name)) throw new PeftError('FORMAT', 'the stream state lacks a trainable parameter', { where: `${join(dir, PARAMS)}: ${name}`, hint: 'was the recipe changed since?' });
    p.set(tf.tensor(saved.read(name), saved.info(name).shape));
  }
  strategy.restore({ meta: progress.strategy, sets: readStrategySets(dir) });
  return progress;
}

export function readStrategySets(dir: string): Record<string, ParamSet> {
  return existsSync(join(dir, SETS)) ? readSets(join(dir, SETS)) : {};
}

/** The strategy's state as a method's training state (the loop's checkpoints carry it: LAE's offline modules move every step). */
export function strategyArrays(st: StrategyState): { meta: Record<string, unknown>; arrays: Map<string, Float32Array> } {
  const shapes: Record<string, Record<string, number[]>> = {};
  const arrays = new Map<string, Float32Array>();
  for (const [set, m] of Object.entries(st.sets)) {
    shapes[set] = {};
    for (const [n, t] of m) {
      shapes[set]![n] = [...t.shape];
      arrays.set(`${set}/${n}`, t.dataSync() as Float32Array);
    }
  }
  return { meta: { ...st.meta, shapes }, arrays };
}

export function strategyFromArrays(meta: Record<string, unknown>, read: (name: string) => Float32Array | null): StrategyState {
  const { shapes, ...rest } = meta as { shapes?: Record<string, Record<string, number[]>> };
  const sets: Record<string, ParamSet> = {};
  for (const [set, names] of Object.entries(shapes ?? {})) {
    sets[set] = new Map();
    for (const [n, shape] of Object.entries(names)) {
      const data = read(`${set}/${n}`);
      if (data) sets[set]!.set(n, tf.keep(tf.tensor(data, shape)));
    }
  }
  return { meta: rest, sets };
}
