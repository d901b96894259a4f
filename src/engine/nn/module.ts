// The module system: a tree of modules, each owning named parameters. A parameter's full name is
// the path of names from the root, so it equals the Hugging Face `state_dict` key
// (`model.layers.0.self_attn.q_proj.weight`) and checkpoints load and save by name.
import * as tf from '@tensorflow/tfjs-core';
import { PeftError } from '../../errors.js';

/** One named tensor of a module: frozen (a plain tensor) or trainable (a tf.Variable). */
export class Param {
  /** Full dotted name, set when the tree is named (`Module.nameTree`). */
  fullName = '';
  private _value: tf.Tensor | null = null;
  private _variable: tf.Variable | null = null;

  constructor(
    readonly shape: readonly number[],
    /** Tags that selection rules use: 'norm', 'bias', 'embedding', 'head', 'adapter'. */
    readonly tags: ReadonlySet<string> = new Set(),
  ) {}

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get loaded(): boolean {
    return this._value !== null || this._variable !== null;
  }

  get trainable(): boolean {
    return this._variable !== null;
  }

  /** The tensor to compute with. */
  get value(): tf.Tensor {
    const v = this._variable ?? this._value;
    if (!v) throw new PeftError('RUN', `parameter ${this.fullName} has no value`, { hint: 'the weights were not loaded' });
    return v;
  }

  get variable(): tf.Variable {
    if (!this._variable) throw new Error(`parameter ${this.fullName} is not trainable`);
    return this._variable;
  }

  /** Sets the value (takes ownership of `t`; it is kept out of any tidy scope). */
  set(t: tf.Tensor): void {
    if (t.shape.length !== this.shape.length || t.shape.some((d, i) => d !== this.shape[i])) {
      throw new PeftError('SHAPE', `expected shape [${this.shape}], got [${t.shape}]`, {
        where: this.fullName,
        hint: 'the weights do not match the configuration (config.json) of this model',
      });
    }
    if (this._variable) {
      this._variable.assign(t);
      t.dispose();
      return;
    }
    this._value?.dispose();
    this._value = tf.keep(t);
  }

  /** Makes the parameter trainable (a tf.Variable initialised with its current value). */
  makeTrainable(): void {
    if (this._variable) return;
    const v = this.value;
    // unnamed: tfjs variable names are process-global, and two models may share ours
    this._variable = tf.variable(v, true);
    this._value = null;
    v.dispose();
  }

  /** Freezes it again (the variable's value becomes a plain tensor). */
  freeze(): void {
    if (!this._variable) return;
    this._value = tf.keep(this._variable.clone());
    this._variable.dispose();
    this._variable = null;
  }

  dispose(): void {
    this._value?.dispose();
    this._variable?.dispose();
    this._value = null;
    this._variable = null;
  }
}

export abstract class Module {
  private readonly params = new Map<string, Param>();
  private readonly buffers = new Map<string, Param>();
  private readonly children = new Map<string, Module>();

  protected param(name: string, shape: readonly number[], tags: string[] = []): Param {
    const p = new Param(shape, new Set(tags));
    this.params.set(name, p);
    return p;
  }

  /**
   * A tensor the checkpoint stores that is not a parameter (a persistent buffer in torch, such as
   * BART's `final_logits_bias`): loaded by name, never trained, not counted in `namedParams`.
   */
  protected buffer(name: string, shape: readonly number[], tags: string[] = []): Param {
    const b = new Param(shape, new Set(tags));
    this.buffers.set(name, b);
    return b;
  }

  protected module<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** All parameters under this module with their full names. */
  namedParams(prefix = ''): [string, Param][] {
    const out: [string, Param][] = [];
    for (const [n, p] of this.params) out.push([prefix + n, p]);
    for (const [n, c] of this.children) out.push(...c.namedParams(`${prefix}${n}.`));
    return out;
  }

  /** All buffers under this module with their full names. */
  namedBuffers(prefix = ''): [string, Param][] {
    const out: [string, Param][] = [];
    for (const [n, b] of this.buffers) out.push([prefix + n, b]);
    for (const [n, c] of this.children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  /** All modules under (and including) this one with their full names ('' for the root). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [n, c] of this.children) out.push(...c.namedModules(`${prefix}${n}.`));
    return out;
  }

  /** Writes every parameter's full name into it (call once on the root). */
  nameTree(prefix = ''): void {
    for (const [n, p] of this.namedParams(prefix)) p.fullName = n;
    for (const [n, b] of this.namedBuffers(prefix)) b.fullName = n;
  }

  dispose(): void {
    for (const [, p] of this.namedParams()) p.dispose();
    for (const [, b] of this.namedBuffers()) b.dispose();
  }
}

/** A module that only groups children (e.g. `model.layers`). */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.module(String(i), m));
  }
}

/** A plain container with named children, for the path segments HF uses (`model`, `encoder`). */
export class Container extends Module {
  add<M extends Module>(name: string, m: M): M {
    return this.module(name, m);
  }
}
