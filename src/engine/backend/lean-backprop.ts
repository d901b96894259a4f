// Backpropagation that frees memory as it goes, in place of tfjs-core's `engine.gradients`.
//
// tfjs-core keeps everything of a backward pass until it ends: the tensors each op saved for its
// gradient, the gradient of every intermediate tensor, and every partial gradient of a tensor
// used more than once. A training step's peak is then its whole forward's saved activations plus
// its whole backward's gradients at once (stories260K, LoRA on every projection, a batch of 32 ×
// 128 tokens: 196 MB of buffers held at once on the native backend; freeing as below, 98 MB).
// Walking the tape in reverse, a node's output gradients and saved tensors are used
// by that node only (the tape is in execution order: every consumer of its outputs came later,
// so has been walked already); here they are disposed once the node's input gradients exist,
// which is the textbook schedule (peak: the activations, shrinking, plus a frontier of
// gradients). Same tape, same gradient functions, same order of additions: the same numbers.
// What it asks of a custom gradient: read forward tensors through what its op saved, not through
// a closure (such a tensor may be freed by then: methods/grad-tap.ts saves what it reads).
//
// Installed by ensureGradients (./gradients.ts) on the one engine; tf.grad, tf.grads,
// tf.variableGrads and optimizers all go through `engine.gradients`.
import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-core's Engine and its tape nodes this uses (engine.ts, tape.ts). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: tf.Tensor[]) => Record<string, () => tf.Tensor>;
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
  gradients: LeanGradients;
}

type LeanGradients = (f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean) => { value: tf.Tensor; grads: tf.Tensor[] };

/** The nodes on a path from some x to y, inputs pruned to those that depend on an x (tfjs's getFilteredNodesXToY). */
export function nodesFromXToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      node.outputs.forEach((o) => fromX.add(o.id));
      nodesFromX.add(node.id);
    }
  }
  const toY = new Set([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((o) => toY.has(o.id))) {
      Object.values(node.inputs).forEach((t) => toY.add(t.id));
      nodesToY.add(node.id);
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(node.inputs)) if (fromX.has(t.id)) inputs[name] = t;
    out.push({ ...node, inputs, outputs: node.outputs });
  }
  return out;
}

/**
 * Walks `tape` backward from the gradients in `grads` (tensor id → gradient), disposing each
 * node's output gradients, partial gradients already summed in and (when `freeSaved`) saved
 * tensors after it; gradients of `keep` ids stay. A gradient function may hand back a tensor it
 * was given (an identity's dy), so a gradient is disposed only once no entry of `grads` holds it.
 */
export function backpropFreeing(grads: Map<number, tf.Tensor>, tape: TapeNode[], keep: Set<number>, freeSaved: boolean, tidy: EngineInternals['tidy']): void {
  const holders = new Map<tf.Tensor, number>();
  const hold = (t: tf.Tensor) => holders.set(t, (holders.get(t) ?? 0) + 1);
  const release = (t: tf.Tensor) => {
    const n = holders.get(t)! - 1;
    if (n > 0) holders.set(t, n);
    else {
      holders.delete(t);
      t.dispose();
    }
  };
  const disposeUnheld = (t: tf.Tensor) => {
    if (!holders.has(t)) t.dispose();
  };
  for (const g of grads.values()) hold(g);
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    // outputs off the path to y get zeros (as tfjs does), made here so they can be freed after
    const zeros: tf.Tensor[] = [];
    const dys = node.outputs.map((o) => grads.get(o.id) ?? zeros[zeros.push(tf.zeros(o.shape, o.dtype)) - 1]!);
    const inputGrads = node.gradient(dys);
    const made: tf.Tensor[] = [];
    for (const [name, x] of Object.entries(node.inputs)) {
      if (!(name in inputGrads)) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(inputGrads)}.`);
      const dx = tidy(() => inputGrads[name]!());
      if (dx.dtype !== 'float32') throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
      if (!tf.util.arraysEqual(dx.shape, x.shape)) {
        throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`);
      }
      made.push(dx);
      const cur = grads.get(x.id);
      const next = cur ? tf.add(cur, dx) : dx;
      grads.set(x.id, next);
      hold(next);
      if (cur) release(cur);
    }
    // this node was the last user of its outputs' gradients and of its saved tensors
    for (const o of node.outputs) {
      const g = grads.get(o.id);
      if (!g || keep.has(o.id)) continue;
      grads.delete(o.id);
      release(g);
    }
    made.forEach(disposeUnheld);
    zeros.forEach(disposeUnheld);
    if (freeSaved) node.saved?.forEach(disposeUnheld);
  }
}

/** engine.gradients with backpropFreeing (the rest as tfjs-core 4.x's engine.ts). */
function leanGradients(this: EngineInternals, f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients = false) {
  if (xs.length === 0) throw new Error('gradients() received an empty list of xs.');
  if (dy != null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  const y = this.scopedRun(() => this.startTape(), () => this.endTape(), () => this.tidy('forward', f));
  if (!(y instanceof tf.Tensor)) throw new Error('The result y returned by f() must be a tensor.');
  const tape = nodesFromXToY(this.state.activeTape!, xs, y);
  if (!allowNoGradients && tape.length === 0 && xs.length > 0) {
    throw new Error('Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.');
  }
  return this.tidy('backward', () => {
    const grads = new Map<number, tf.Tensor>([[y.id, dy ?? tf.ones(y.shape)]]);
    const outer = this.state.gradientDepth === 0; // not inside another gradient: saved tensors have no other use
    const keep = new Set(xs.map((x) => x.id));
    if (dy != null) keep.add(y.id); // the caller's tensor
    backpropFreeing(grads, tape, keep, outer, (fn) => this.tidy(fn));
    const out = xs.map((x) => grads.get(x.id)!);
    if (outer) {
      this.state.activeTape!.forEach((node) => node.saved?.forEach((t) => t.dispose()));
      this.state.activeTape = null;
    }
    return { value: y, grads: out };
  });
}

let installed = false;

/** Puts leanGradients in place of the engine's own (idempotent). */
export function installLeanBackprop(): void {
  if (installed) return;
  (tf.engine() as unknown as EngineInternals).gradients = leanGradients;
  installed = true;
}
