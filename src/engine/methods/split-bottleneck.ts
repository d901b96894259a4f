// Split & Merge (MoSA, Zhang et al. 2023; test/fixtures/reference/mosa/README.md): a bottleneck
// adapter whose weights are split into N disjoint sparse sub-adapters. Every entry of a split
// tensor belongs to one sub-adapter (masks from ranks of a seeded uniform score: sub-adapter i
// takes ranks [⌊i/N·n⌋, ⌊(i+1)/N·n⌋)). In training each forward draws a down sub-adapter A and an
// up sub-adapter B at random; for evaluation, and in the saved adapter, they are merged: their mean.
//
// The authors keep N dense copies of each tensor and mask their gradients. We keep one tensor
// whose entries are the union of the sub-adapters, which is the same model: an up sub-adapter is
// M_B ⊙ U (its entries start at zero and only ever receive masked gradients), a down sub-adapter
// is D₀ + M_A ⊙ (D − D₀) (entries outside its mask keep the shared initial values D₀), so the
// gradient each receives is the authors' masked one; the merged adapter is U/N and D₀ + (D − D₀)/N.
// Biases are not split (the authors' bias masks are all ones): each sub-adapter has its own.
// Not reproduced: the authors' second forward per batch with a symmetric-KL consistency term
// (ADDITIONAL), and the weight decay their optimizer applies to entries outside a down copy's mask.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import { LayerNorm } from '../nn/norm.js';
import { activation, type Activation } from '../nn/activations.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { BuildContext, BuiltModule } from './types.js';
import type { ModulePlanOf } from '../../plan/index.js';
import { seedFor, uniformArray, uniformStream } from '../random.js';

/** N disjoint masks over n entries from a score per entry: mask i holds the ranks [⌊i/N·n⌋, ⌊(i+1)/N·n⌋) (ascending score). */
export function splitMasks(score: Float32Array, parts: number): Float32Array[] {
  const n = score.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a] - score[b] || a - b);
  return Array.from({ length: parts }, (_, i) => {
    const m = new Float32Array(n);
    for (let r = Math.floor((i / parts) * n); r < Math.floor(((i + 1) / parts) * n); r++) m[order[r]] = 1;
    return m;
  });
}

export class SplitBottleneck extends SiteModule {
  readonly downW: Param;
  readonly downB: Param;
  readonly upW: Param;
  readonly upB: Param;
  /** D₀: the shared initial down weights (share: none), not trained. */
  readonly down0: Param | null;
  readonly ln: LayerNorm | null;
  /** [N, …shape] masks of the split tensors, kept. */
  private upMasks: tf.Tensor | null = null;
  private downMasks: tf.Tensor | null = null;
  /** Tests may fix the draws: (A, B) for the next forward. */
  choose: ((ctx: ForwardContext) => [number, number]) | null = null;
  protected readonly nonlinear = 'its Δh passes through a nonlinearity';

  constructor(
    readonly inDim: number,
    readonly outDim: number,
    readonly size: number,
    readonly parts: number,
    readonly shareDown: boolean,
    readonly act: Activation,
    lnBefore: boolean,
  ) {
    super();
    this.downW = this.param('adapter_down.weight', [size, inDim], ['adapter']);
    this.downB = this.param('adapter_down.bias', shareDown ? [size] : [parts, size], ['adapter']);
    this.upW = this.param('adapter_up.weight', [outDim, size], ['adapter']);
    this.upB = this.param('adapter_up.bias', [parts, outDim], ['adapter']);
    this.down0 = shareDown ? null : this.buffer('adapter_down.init', [size, inDim]);
    this.ln = lnBefore ? this.module('adapter_norm', new LayerNorm(inDim, 1e-5)) : null;
  }

  /** The masks of the split tensors, from a seeded uniform score per entry (seed, parameter name). */
  setMasks(seed: number): void {
    const score = (p: Param) => uniformArray(p.size, 0, 1, seedFor(seed, `mosa:${p.fullName}`));
    this.setMaskScores(score(this.upW), this.shareDown ? null : score(this.downW));
  }

  /** The masks from given scores (the authors' `torch.rand_like` draws, in tests). */
  setMaskScores(up: Float32Array, down: Float32Array | null): void {
    const make = (p: Param, score: Float32Array) => tf.keep(tf.stack(splitMasks(score, this.parts).map((m) => tf.tensor(m, [...p.shape]))));
    this.upMasks?.dispose();
    this.downMasks?.dispose();
    this.upMasks = make(this.upW, up);
    this.downMasks = down ? make(this.downW, down) : null;
  }

  maskOf(which: 'up' | 'down', i: number): tf.Tensor {
    const all = which === 'up' ? this.upMasks! : this.downMasks!;
    return tf.squeeze(tf.slice(all, [i], [1]), [0]);
  }

  /** The draws of one training forward: Python's random.randint(0, N−1) twice, here from the step's seed. */
  private draw(ctx: ForwardContext): [number, number] {
    if (this.choose) return this.choose(ctx);
    const next = uniformStream(ctx.nextSeed());
    return [Math.floor(next() * this.parts), Math.floor(next() * this.parts)];
  }

  private row(p: Param, i: number): tf.Tensor {
    return tf.squeeze(tf.slice(p.value, [i], [1]), [0]);
  }

  /** The weights in use: one drawn pair of sub-adapters (training), or the merged adapter (A = B = null). */
  weights(pair: [number, number] | null): { down: tf.Tensor; downB: tf.Tensor; up: tf.Tensor; upB: tf.Tensor } {
    const n = this.parts;
    if (pair === null) {
      return {
        down: this.down0 ? tf.add(this.down0.value, tf.div(tf.sub(this.downW.value, this.down0.value), n)) : this.downW.value,
        downB: this.shareDown ? this.downB.value : tf.mean(this.downB.value, 0),
        up: tf.div(this.upW.value, n),
        upB: tf.mean(this.upB.value, 0),
      };
    }
    const [a, b] = pair;
    return {
      down: this.down0 ? tf.add(this.down0.value, tf.mul(this.maskOf('down', a), tf.sub(this.downW.value, this.down0.value))) : this.downW.value,
      downB: this.shareDown ? this.downB.value : this.row(this.downB, a),
      up: tf.mul(this.maskOf('up', b), this.upW.value),
      upB: this.row(this.upB, b),
    };
  }

  delta(u: tf.Tensor, ctx: ForwardContext | null): tf.Tensor {
    const w = this.weights(ctx?.training ? this.draw(ctx) : null);
    const lead = u.shape.slice(0, -1);
    let x = tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D;
    if (this.ln) x = this.ln.forward(x) as tf.Tensor2D;
    const mid = this.act(tf.add(tf.matMul(x, w.down as tf.Tensor2D, false, true), w.downB));
    const y = tf.add(tf.matMul(mid as tf.Tensor2D, w.up as tf.Tensor2D, false, true), w.upB);
    return tf.reshape(y, [...lead, this.outDim]);
  }

  /** The merged adapter as a plain bottleneck's tensors, by their names under `prefix`. */
  merged(prefix: string): Map<string, tf.Tensor> {
    const w = tf.tidy(() => {
      const m = this.weights(null);
      return [m.down, m.downB, m.up, m.upB].map((t) => tf.clone(t));
    });
    const out = new Map<string, tf.Tensor>([
      [`${prefix}adapter_down.weight`, w[0]], [`${prefix}adapter_down.bias`, w[1]], [`${prefix}adapter_up.weight`, w[2]], [`${prefix}adapter_up.bias`, w[3]],
    ]);
    if (this.ln) {
      out.set(`${prefix}adapter_norm.weight`, tf.clone(this.ln.weight.value));
      if (this.ln.bias) out.set(`${prefix}adapter_norm.bias`, tf.clone(this.ln.bias.value));
    }
    return out;
  }

  override dispose(): void {
    this.upMasks?.dispose();
    this.downMasks?.dispose();
    super.dispose();
  }
}

/** The split adapter's modules; stored (and evaluated) merged, as a plain bottleneck. */
export function buildSplitBottleneck(c: BuildContext<ModulePlanOf<'bottleneck'>>): BuiltModule {
  const o = c.plan.options;
  const split = o.subadapters!;
  const act = activation(o.nonlinearity);
  const built = buildPerSite(c, (_site, uDim) => new SplitBottleneck(uDim, _site.outDim, o.bottleneck, split.count, split.share === 'down', act, o.layernorm === 'before'),
    (m, _site, uDim) => {
      // AdaptFormer's init (every sub-adapter starts as the same copy): down Kaiming-uniform, up and biases zero
      if (o.init === 'lora') {
        c.init(m.downW, { kind: 'kaiming', fanIn: uDim });
        c.init(m.upW, { kind: 'zeros' });
      } else {
        c.init(m.downW, { kind: 'normal', std: 0.02 });
        c.init(m.upW, { kind: 'normal', std: 0.02 });
      }
      c.init(m.downB, { kind: 'zeros' });
      c.init(m.upB, { kind: 'zeros' });
      if (m.down0 && m.downW.loaded) m.down0.set(tf.clone(m.downW.value));
      if (m.ln) {
        c.init(m.ln.weight, { kind: 'ones' });
        if (m.ln.bias) c.init(m.ln.bias, { kind: 'zeros' });
      }
      if (m.upW.loaded) m.setMasks(c.seed);
    });
  const storedShapes = new Map<string, number[]>();
  const prefixes = c.sites.map((site) => `${site.path}.${c.plan.name}.`);
  built.modules.forEach((m, i) => {
    const p = prefixes[i];
    storedShapes.set(`${p}adapter_down.weight`, [m.size, m.inDim]);
    storedShapes.set(`${p}adapter_down.bias`, [m.size]);
    storedShapes.set(`${p}adapter_up.weight`, [m.outDim, m.size]);
    storedShapes.set(`${p}adapter_up.bias`, [m.outDim]);
    if (m.ln) {
      storedShapes.set(`${p}adapter_norm.weight`, [m.inDim]);
      if (m.ln.bias) storedShapes.set(`${p}adapter_norm.bias`, [m.inDim]);
    }
  });
  return {
    attachments: built.attachments,
    storedShapes,
    storedTensors: () => new Map(built.modules.flatMap((m, i) => [...m.merged(prefixes[i])])),
  };
}
