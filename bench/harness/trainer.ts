// One bench mode on a task model, the way `peft train` runs it: the method planned from its preset
// (LoRA r/α on attn.query + attn.value, or `full`), injected by the unified-view injector, the
// trainable set selected, AdamW; a step is tf.variableGrads over the trainable variables, the loss
// read back, the optimizer step (as src/engine/train/loop.ts, without clipping or accumulation,
// which the reference does not have). Inference is a forward pass with LoRA attached.
import * as tf from '@tensorflow/tfjs-core';
import { injectMethod, selectTrainable, type PeftModel, type TrainableSet } from '../../src/engine/methods/index.js';
import { AdamW } from '../../src/engine/train/optim/index.js';
import { countParams, type ModelInputs, type ModelOutputs, type TaskModel } from '../../src/engine/backbones/index.js';
import { compileMethod } from '../../src/plan/index.js';
import type { MethodPlan, TaskType } from '../../src/plan/index.js';

export type BenchMode = 'lora' | 'full' | 'infer';
export const BENCH_MODES: readonly BenchMode[] = ['lora', 'full', 'infer'];

export interface MethodSettings {
  rank: number;
  alpha: number;
}

export interface OptimSettings {
  lr: number;
  weightDecay: number;
  adamEps: number;
}

/** The method plan of a mode, as the planner makes it from `method: {preset: lora, rank, alpha}` or `{preset: full}`. */
export function benchMethod(mode: BenchMode, task: TaskType, m: MethodSettings): MethodPlan {
  const issues: string[] = [];
  const raw = mode === 'full' ? { preset: 'full' } : { preset: 'lora', rank: m.rank, alpha: m.alpha };
  const plan = compileMethod(raw, { family: null, depth: null, task }, (path, message) => issues.push(`${path.join('.')}: ${message}`));
  if (issues.length) throw new Error(`bench method plan: ${issues.join('; ')}`);
  return plan;
}

export interface Stepper {
  mode: BenchMode;
  peft: PeftModel;
  /** Null in inference mode. */
  trainable: TrainableSet | null;
  trainableParams: number;
  totalParams: number;
  /** One training step (its loss), or one forward pass (NaN). */
  run(): number;
  /** The loss of a forward pass, without training. */
  loss(): number;
  /** Gradients of the loss by trainable parameter name (training modes; the caller disposes them). */
  gradients(): { loss: number; grads: Map<string, tf.Tensor> };
  /** The optimizer step with these gradients (training modes; the caller still disposes them). */
  apply(grads: Map<string, tf.Tensor>): void;
  dispose(): void;
}

export interface StepperOptions {
  mode: BenchMode;
  task: TaskType;
  method: MethodSettings;
  optim: OptimSettings;
  inputs: ModelInputs;
  lossOf: (out: ModelOutputs) => tf.Scalar;
  /** Seed of the adapter's initialisation. */
  seed?: number;
  /** Called between injection and making parameters trainable (e.g. to load reference weights). */
  beforeTrainable?: (peft: PeftModel) => void;
}

/** Sets up one mode on `model` (which it takes over: the caller disposes the stepper, not the model). */
export function makeStepper(model: TaskModel, o: StepperOptions): Stepper {
  const peft = injectMethod(model, benchMethod(o.mode, o.task, o.method), o.seed ?? 0);
  o.beforeTrainable?.(peft);
  const trainable = o.mode === 'infer' ? null : selectTrainable(peft);
  const names = trainable ? [...trainable.params.keys()] : [];
  const vars = new Map(names.map((n) => [n, trainable!.params.get(n)!.variable]));
  const varList = [...vars.values()];
  const nameOfVar = new Map(names.map((n) => [vars.get(n)!.name, n]));
  const opt = trainable ? new AdamW(vars, { lr: o.optim.lr, weightDecay: o.optim.weightDecay, eps: o.optim.adamEps }) : null;
  const adapterParams = peft.store.namedParams().reduce((n, [, p]) => n + p.size, 0);
  const trainableParams = trainable ? [...trainable.params.values()].reduce((n, p) => n + p.size, 0) : 0;

  const lossTensor = (training: boolean) => o.lossOf(model.forward(o.inputs, peft.context({ training, seed: 0 })));

  function gradients(): { loss: number; grads: Map<string, tf.Tensor> } {
    const { value, grads } = tf.variableGrads(() => lossTensor(true), varList);
    const loss = value.dataSync()[0];
    value.dispose();
    return { loss, grads: new Map(Object.entries(grads).map(([k, g]) => [nameOfVar.get(k)!, g])) };
  }

  return {
    mode: o.mode, peft, trainable, trainableParams,
    totalParams: countParams(model) + adapterParams,
    run() {
      if (!opt) {
        const logits = tf.tidy(() => model.forward(o.inputs, peft.context({ training: false })).logits);
        logits.dataSync();
        logits.dispose();
        return NaN;
      }
      const { loss, grads } = gradients();
      opt.step(grads);
      for (const g of grads.values()) g.dispose();
      return loss;
    },
    apply(grads) {
      if (!opt) throw new Error('no optimizer in inference mode');
      opt.step(grads);
    },
    loss() {
      const t = tf.tidy(() => lossTensor(false));
      const v = t.dataSync()[0];
      t.dispose();
      return v;
    },
    gradients,
    dispose() {
      opt?.dispose();
      peft.store.dispose();
      model.root.dispose();
    },
  };
}
