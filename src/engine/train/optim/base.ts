// What every optimizer shares: the named parameters and their groups, per-parameter step counts
// and buffers, one tf.tidy per parameter update, and state() / load(). A concrete optimizer only
// says which buffers it keeps and how one parameter is updated.
import * as tf from '@tensorflow/tfjs-core';
import { PeftError } from '../../../errors.js';
import { resolveGroups, type ResolvedGroup } from './groups.js';
import type { Optimizer, OptimizerName, OptimizerState, ParamGroupSpec, ParamState, TensorData } from './optimizer.js';

/** The settings of one parameter's update at one step. */
export interface UpdateContext {
  /** The group's lr times this step's schedule factor. */
  lr: number;
  weightDecay: number;
  /** 1 on the parameter's first update. */
  step: number;
}

/** The new value of a parameter and its new buffers (in `bufferNames` order). */
export interface UpdateResult {
  param: tf.Tensor;
  buffers: tf.Tensor[];
}

export interface BaseOptions {
  lr: number;
  weightDecay: number;
  groups?: ParamGroupSpec[];
}

interface Entry {
  variable: tf.Variable;
  settings: ResolvedGroup;
  step: number;
  /** null until the first update (torch creates its state lazily too). */
  buffers: tf.Tensor[] | null;
}

/** Throws a RECIPE error at `optimizer.<field>` unless `ok`. */
export function requireSetting(ok: boolean, field: string, message: string): void {
  if (!ok) throw new PeftError('RECIPE', message, { where: `optimizer.${field}` });
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function formatError(message: string, where?: string): PeftError {
  return new PeftError('FORMAT', message, {
    where,
    hint: 'the optimizer state must come from a run with the same optimizer and the same trainable parameters',
  });
}

export abstract class BaseOptimizer implements Optimizer {
  abstract readonly name: OptimizerName;
  private readonly entries = new Map<string, Entry>();
  private count = 0;
  private disposed = false;

  constructor(params: Map<string, tf.Variable>, options: BaseOptions) {
    const groups = options.groups ?? [];
    const resolved = resolveGroups(params.keys(), options, groups);
    for (const [name, variable] of params) {
      const settings = resolved.get(name)!;
      const field = settings.group === null ? '' : `groups[${settings.group}].`;
      requireSetting(Number.isFinite(settings.lr) && settings.lr >= 0, `${field}lr`, `lr must be a finite number ≥ 0 (got ${settings.lr})`);
      requireSetting(
        Number.isFinite(settings.weightDecay) && settings.weightDecay >= 0,
        `${field}weight_decay`,
        `weight_decay must be a finite number ≥ 0 (got ${settings.weightDecay})`,
      );
      if (variable.dtype !== 'float32') {
        throw new PeftError('RUN', `trainable parameter has dtype ${variable.dtype}; optimizers update float32 only`, { where: name });
      }
      this.entries.set(name, { variable, settings, step: 0, buffers: null });
    }
  }

  /** Names of the buffers kept per parameter, torch's names, in the order `update` uses. */
  protected abstract get bufferNames(): readonly string[];

  /**
   * The update of one parameter, called inside tf.tidy: every tensor it makes is freed except
   * those returned. `buffers` is null on the parameter's first update. It must not return `grad`
   * or `param` themselves as buffers (clone them).
   */
  protected abstract update(param: tf.Tensor, grad: tf.Tensor, buffers: tf.Tensor[] | null, ctx: UpdateContext): UpdateResult;

  get stepCount(): number {
    return this.count;
  }

  /** The lr and weight decay each parameter gets (before the schedule), e.g. for `peft inspect`. */
  settings(): Map<string, ResolvedGroup> {
    return new Map([...this.entries].map(([name, e]) => [name, { ...e.settings }]));
  }

  step(grads: Map<string, tf.Tensor>, lrScale = 1): void {
    this.assertLive();
    if (!Number.isFinite(lrScale) || lrScale < 0) throw new PeftError('RUN', `learning-rate factor must be finite and ≥ 0 (got ${lrScale})`);
    // Check the whole map before changing anything, so a bad map leaves no half-applied step.
    for (const [name, grad] of grads) {
      const e = this.entries.get(name);
      if (e === undefined) {
        throw new PeftError('RUN', 'gradient for a parameter the optimizer does not know', { where: name, hint: 'only trainable parameters get gradients' });
      }
      if (!sameShape(grad.shape, e.variable.shape)) {
        throw new PeftError('SHAPE', `gradient shape [${grad.shape}] differs from the parameter's [${e.variable.shape}]`, { where: name });
      }
    }
    for (const [name, grad] of grads) {
      const e = this.entries.get(name)!;
      e.step += 1;
      const ctx: UpdateContext = { lr: e.settings.lr * lrScale, weightDecay: e.settings.weightDecay, step: e.step };
      const old = e.buffers;
      const next = tf.tidy(() => {
        const r = this.update(e.variable, grad, old, ctx);
        e.variable.assign(r.param);
        return r.buffers;
      });
      if (old !== null) for (const t of old) if (!next.includes(t)) t.dispose();
      e.buffers = next;
    }
    this.count += 1;
  }

  state(): OptimizerState {
    this.assertLive();
    const params: Record<string, ParamState> = {};
    for (const [name, e] of this.entries) {
      if (e.buffers === null) continue;
      const buffers: Record<string, TensorData> = {};
      this.bufferNames.forEach((b, i) => {
        const t = e.buffers![i]!;
        // dataSync may hand out the backend's own array: copy it.
        buffers[b] = { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) };
      });
      params[name] = { step: e.step, buffers };
    }
    return { name: this.name, stepCount: this.count, params };
  }

  load(state: OptimizerState): void {
    this.assertLive();
    if (state.name !== this.name) throw formatError(`optimizer state is for ${state.name}, this run uses ${this.name}`);
    if (!Number.isInteger(state.stepCount) || state.stepCount < 0) throw formatError(`optimizer stepCount must be an integer ≥ 0 (got ${state.stepCount})`);
    const names = this.bufferNames;
    for (const [name, p] of Object.entries(state.params)) {
      const e = this.entries.get(name);
      if (e === undefined) throw formatError('optimizer state for a parameter that is not trainable here', name);
      if (!Number.isInteger(p.step) || p.step < 1) throw formatError(`parameter step must be an integer ≥ 1 (got ${p.step})`, name);
      const have = Object.keys(p.buffers).sort();
      if (have.join() !== [...names].sort().join()) throw formatError(`optimizer buffers [${have}] (expected [${names}])`, name);
      for (const b of names) {
        const t = p.buffers[b]!;
        const size = e.variable.size;
        if (!sameShape(t.shape, e.variable.shape) || !(t.data instanceof Float32Array) || t.data.length !== size) {
          throw formatError(`${b} has shape [${t.shape}] and ${t.data.length} values; the parameter is [${e.variable.shape}]`, name);
        }
      }
    }
    this.releaseBuffers();
    for (const [name, p] of Object.entries(state.params)) {
      const e = this.entries.get(name)!;
      e.step = p.step;
      e.buffers = names.map((b) => tf.tensor(p.buffers[b]!.data.slice(), e.variable.shape, 'float32'));
    }
    this.count = state.stepCount;
  }

  dispose(): void {
    if (this.disposed) return;
    this.releaseBuffers();
    this.disposed = true;
  }

  private releaseBuffers(): void {
    for (const e of this.entries.values()) {
      if (e.buffers !== null) for (const t of e.buffers) t.dispose();
      e.buffers = null;
      e.step = 0;
    }
  }

  private assertLive(): void {
    if (this.disposed) throw new Error(`${this.name} optimizer used after dispose()`);
  }
}
