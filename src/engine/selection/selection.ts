// A method's selection at run time: which entries of which backbone weights train (its layout),
// the attachments that compute with them, and what it does beside the forward pass — SaRA's
// progressive re-selection and nuclear-norm term, R-AMT's score regulariser and gradient dropout,
// HFT's rounds. The layout is chosen from the weights and the seed (magnitude, random, half,
// learned) or from N batches of data (sensitivity, see prepare.ts), and is saved with checkpoints
// and adapters, so a resumed run or a loaded adapter never chooses again.
import * as tf from '@tensorflow/tfjs-core';
import type { Container } from '../nn/module.js';
import type { Attachment, ForwardContext } from '../nn/context.js';
import type { TaskModel } from '../backbones/types.js';
import type { SelectPlan, SelectPlanOf, TaskPlan } from '../../plan/index.js';
import type { Batch } from '../data/batches.js';
import { SelectedLinear, type SlotSpec } from './selected-linear.js';
import { layerTensors, selectionCandidates, type Candidate } from './candidates.js';
import { belowThreshold, magnitudeKeys, randomKeys, spend } from './choose.js';
import { drawHalf } from './half.js';
import { nuclearNorm } from './nuclear.js';
import { scatterEntries } from './scatter.js';
import { distillLoss, gradientDropout } from './gdr.js';
import { sptForBudget, type SptTensor } from './spt-allocate.js';
import { budgetCount } from './choose.js';
import { initParam } from '../methods/init.js';
import { hashString, seedFor, uniformArray, uniformStream } from '../random.js';
import { batchInputs } from '../train/task-loss.js';
import { ForwardContext as Ctx } from '../nn/context.js';
import { PeftError } from '../../errors.js';

/** One trained tensor of the layout (its indices travel beside it, keyed `<site>.<tensor>`). */
export interface SlotLayout {
  site: string;
  tensor: 'weight' | 'bias';
  form: 'sparse' | 'lowrank' | 'mask';
  /** Selected entries (sparse), or every entry of the tensor (lowrank, mask). */
  count: number;
  rank?: number;
  /** magnitude: the |w| bound the selection had (re-selection keeps the entries still within it). */
  bound?: number;
  strict?: boolean;
}

/** What a selection chose: plain data (JSON) plus the indices of its sparse slots. */
export interface SelectionLayout {
  criterion: SelectPlan['criterion'];
  slots: SlotLayout[];
  /** Tensors trained whole (HFT), the union over the rounds. */
  whole: string[];
  /** HFT: the tensors of each round. */
  rounds: string[][];
}

/** What the training loop gives a selection to adjust one micro-batch's gradients. */
export interface GradContext {
  step: number;
  totalSteps: number;
  micro: number;
  batch: Batch;
  task: TaskPlan;
  /** The micro-batch's forward context (same dropout seed as the step's own forward). */
  context(): ForwardContext;
}

export const slotKey = (site: string, tensor: string) => `${site}.${tensor}`;

export class Selection {
  readonly candidates: Candidate[];
  private readonly linears = new Map<string, SelectedLinear>();
  private slots: SlotLayout[] = [];
  whole: string[] = [];
  rounds: string[][] = [];
  prepared = false;
  private stepsDone = 0;
  private reselections = 0;
  /** magnitude after a re-selection: which selected entries still train, and the values of the others. */
  private readonly active = new Map<string, Uint8Array>();
  private readonly frozenValues = new Map<string, Float32Array>();

  constructor(
    readonly model: TaskModel,
    readonly plan: SelectPlan,
    readonly seed: number,
    private readonly store: Container,
    private readonly attachments: Map<string, Attachment[]>,
  ) {
    this.candidates = selectionCandidates(model, plan);
    for (const c of this.candidates) {
      if ((attachments.get(c.site.path) ?? []).some((a) => a.linear)) {
        throw new PeftError('RECIPE', `the selection and a weight-rewriting module (DoRA) both compute ${c.site.path}`, {
          where: 'method.select.position', hint: 'give them different positions or layers',
        });
      }
    }
  }

  /** Sensitivity needs data before it can choose (prepare.ts); the other criteria choose from the weights. */
  get needsData(): boolean {
    return this.plan.criterion === 'sensitivity';
  }

  /** Chooses from the backbone's weights and the seed (every criterion but sensitivity). */
  prepare(): void {
    const p = this.plan;
    const slots: SlotLayout[] = [];
    const indices = new Map<string, Int32Array>();
    const sparse = (c: Candidate, idx: Int32Array, bound?: number, strict?: boolean) => {
      if (idx.length === 0) return;
      slots.push({ site: c.site.path, tensor: c.tensor, form: 'sparse', count: idx.length, ...(bound !== undefined ? { bound, strict } : {}) });
      indices.set(slotKey(c.site.path, c.tensor), idx);
    };
    const layout: SelectionLayout = { criterion: p.criterion, slots, whole: [], rounds: [] };
    if (p.criterion === 'magnitude' || p.criterion === 'random') {
      const threshold = p.criterion === 'magnitude' ? p.options.threshold : null;
      if (threshold !== null) {
        for (const c of this.candidates) sparse(c, belowThreshold(c.param.value.dataSync() as Float32Array, threshold), threshold, true);
      } else {
        const keys = new Map(this.candidates.map((c) => [c.name, p.criterion === 'magnitude'
          ? magnitudeKeys(c.param.value.dataSync() as Float32Array) : randomKeys(c.param.size, this.seed, c.name)]));
        const chosen = spend(keys, p.budget!, p.scope);
        for (const c of this.candidates) {
          const got = chosen.get(c.name)!;
          sparse(c, got.indices, p.criterion === 'magnitude' ? got.bound : undefined, false);
        }
      }
    } else if (p.criterion === 'learned') {
      for (const c of this.candidates) {
        if (c.tensor === 'weight') slots.push({ site: c.site.path, tensor: 'weight', form: 'mask', count: c.param.size });
      }
    } else if (p.criterion === 'half') {
      const layers = layerTensors(this.model, this.candidates, p.options.norms);
      layout.rounds = Array.from({ length: p.options.rounds }, (_, r) => drawHalf(layers, this.seed, r));
      const union = new Set(layout.rounds.flat());
      layout.whole = this.model.root.namedParams().map(([n]) => n).filter((n) => union.has(n));
    } else {
      throw new Error('sensitivity chooses from data: use prepareSelection');
    }
    this.apply(layout, indices, true);
  }

  /** SPT's choice from measured sensitivities (name → per-entry score): sparse entries and low-rank matrices. */
  prepareFromSensitivity(scores: Map<string, Float32Array>): void {
    const p = this.plan as SelectPlanOf<'sensitivity'>;
    const tensors: SptTensor[] = this.candidates.map((c) => ({
      name: c.name, kind: c.tensor === 'weight' ? 'matrix' : 'vector', scores: scores.get(c.name)!,
      shape: c.tensor === 'weight' ? [c.linear.outFeatures, c.linear.inFeatures] : [c.param.size],
    }));
    const total = tensors.reduce((n, t) => n + t.scores.length, 0);
    const budget = p.scope === 'global' ? budgetCount(p.budget!, total) : 0;
    const o = { rank: p.options.lora_rank, factor: p.options.lora_factor, beta: Infinity };
    const slots: SlotLayout[] = [];
    const indices = new Map<string, Int32Array>();
    const place = (c: Candidate, alloc: ReturnType<typeof sptForBudget>) => {
      if (alloc.structured.includes(c.name)) slots.push({ site: c.site.path, tensor: 'weight', form: 'lowrank', count: c.param.size, rank: o.rank });
      const idx = alloc.unstructured.get(c.name);
      if (idx) {
        // the authors index in the nn.Linear layout [out, in]; a weight stored [in, out] is transposed
        const flat = c.tensor === 'weight' && c.linear.layout === 'in_out' ? transposeIndices(idx, c.linear.outFeatures, c.linear.inFeatures) : idx;
        slots.push({ site: c.site.path, tensor: c.tensor, form: 'sparse', count: flat.length });
        indices.set(slotKey(c.site.path, c.tensor), flat);
      }
    };
    if (p.scope === 'global') {
      const alloc = sptForBudget(tensors, budget, o);
      for (const c of this.candidates) place(c, alloc);
    } else {
      this.candidates.forEach((c, i) => place(c, sptForBudget([tensors[i]], budgetCount(p.budget!, tensors[i].scores.length), o)));
    }
    this.apply({ criterion: 'sensitivity', slots, whole: [], rounds: [] }, indices, true);
  }

  /**
   * Installs a layout: the attachments (replacing any earlier ones) and their parameters, named
   * `<site>.select.<param>` in the method's store. `init` sets their starting values from the
   * backbone (training); without it they wait for a checkpoint's or an adapter file's values.
   */
  apply(layout: SelectionLayout, indices: ReadonlyMap<string, Int32Array>, init: boolean): void {
    for (const [path, m] of this.linears) {
      const list = (this.attachments.get(path) ?? []).filter((a) => a !== m);
      if (list.length === 0) this.attachments.delete(path);
      else this.attachments.set(path, list);
      m.dispose();
    }
    this.linears.clear();
    this.slots = layout.slots.map((s) => ({ ...s }));
    this.whole = [...layout.whole];
    this.rounds = layout.rounds.map((r) => [...r]);
    const bySite = new Map<string, SlotSpec[]>();
    for (const s of this.slots) {
      const spec: SlotSpec = s.form === 'sparse'
        ? { form: 'sparse', tensor: s.tensor, indices: indices.get(slotKey(s.site, s.tensor)) ?? new Int32Array(s.count) }
        : s.form === 'lowrank' ? { form: 'lowrank', tensor: 'weight', rank: s.rank! }
          : { form: 'mask', tensor: 'weight', ...this.maskSettings() };
      bySite.set(s.site, [...(bySite.get(s.site) ?? []), spec]);
    }
    const sites = new Map(this.candidates.map((c) => [c.site.path, c]));
    const made: SelectedLinear[] = [];
    for (const [path, specs] of bySite) {
      const c = sites.get(path);
      if (!c) throw new PeftError('FORMAT', 'the selection names a weight this method does not choose from', { where: path, hint: 'is it for this backbone and recipe?' });
      const m = this.store.add(`${path}.select`, new SelectedLinear(c.site, c.linear, specs));
      this.linears.set(path, m);
      this.attachments.set(path, [m, ...(this.attachments.get(path) ?? [])]);
      made.push(m);
    }
    this.store.nameTree();
    if (init) for (const m of made) m.initialise((p, rule) => initParam(p, rule, this.seed));
    this.active.clear();
    this.frozenValues.clear();
    this.prepared = true;
  }

  private maskSettings(): { threshold: number; initScore: number } {
    const o = (this.plan as SelectPlanOf<'learned'>).options;
    return { threshold: o.score_threshold ?? 5e-3, initScore: o.init_score ?? 1e-2 };
  }

  layout(): { layout: SelectionLayout; indices: Map<string, Int32Array> } {
    const indices = new Map<string, Int32Array>();
    for (const s of this.slots) {
      if (s.form !== 'sparse') continue;
      const spec = this.linears.get(s.site)!.slots.find((x) => x.form === 'sparse' && x.tensor === s.tensor) as Extract<SlotSpec, { form: 'sparse' }>;
      indices.set(slotKey(s.site, s.tensor), spec.indices);
    }
    return { layout: { criterion: this.plan.criterion, slots: this.slots.map((s) => ({ ...s })), whole: [...this.whole], rounds: this.rounds.map((r) => [...r]) }, indices };
  }

  get slotLayouts(): readonly SlotLayout[] {
    return this.slots;
  }

  attachment(site: string): SelectedLinear | undefined {
    return this.linears.get(site);
  }

  /** Whether a store parameter belongs to the selection. */
  owns(name: string): boolean {
    return [...this.linears.keys()].some((p) => name.startsWith(`${p}.select.`));
  }

  /** The round of a step (HFT), 0 when there is one. */
  roundAt(step: number, totalSteps: number): number {
    const r = this.rounds.length;
    return r <= 1 ? 0 : Math.min(r - 1, Math.floor((step * r) / Math.max(1, totalSteps)));
  }

  /** SaRA's nuclear norm (one selected matrix per step) and R-AMT's score norms, added to the task loss. */
  extraLoss(): tf.Scalar | null {
    const terms: tf.Scalar[] = [];
    const p = this.plan;
    if (p.criterion === 'magnitude' && p.options.nuclear > 0) {
      const weights = this.slots.filter((s) => s.form === 'sparse' && s.tensor === 'weight');
      if (weights.length > 0) {
        const pick = weights[Math.floor(uniformStream(seedFor(this.seed, `sara:nuclear:${this.stepsDone}`))() * weights.length)];
        const m = this.linears.get(pick.site)!;
        const values = m.sparseValues('weight')!;
        const spec = m.slots.find((x) => x.form === 'sparse' && x.tensor === 'weight') as Extract<SlotSpec, { form: 'sparse' }>;
        const active = this.active.get(slotKey(pick.site, 'weight'));
        const shape = m.base.weight.shape as [number, number];
        const v = active ? tf.mul(values.value, tf.tensor1d(Float32Array.from(active))) : values.value;
        const matrix = tf.reshape(scatterEntries(v, tf.tensor1d(spec.indices, 'int32'), shape[0] * shape[1]), shape) as tf.Tensor2D;
        terms.push(tf.mul(nuclearNorm(matrix), p.options.nuclear) as tf.Scalar);
      }
    }
    if (p.criterion === 'learned' && p.options.score_reg > 0) {
      for (const m of this.linears.values()) if (m.scores) terms.push(tf.mul(tf.norm(m.scores.value), p.options.score_reg) as tf.Scalar);
    }
    return terms.length === 0 ? null : (tf.addN(terms) as tf.Scalar);
  }

  /**
   * One micro-batch's gradients (by parameter name; owned by the caller, replaced ones disposed
   * here): HFT drops the whole tensors of other rounds; R-AMT's gradient dropout rewrites the
   * score gradients with the teacher's (the backbone without the mask).
   */
  adjustGrads(grads: Map<string, tf.Tensor>, g: GradContext): Map<string, tf.Tensor> {
    const p = this.plan;
    if (p.criterion === 'half' && this.rounds.length > 1) {
      const now = new Set(this.rounds[this.roundAt(g.step, g.totalSteps)]);
      for (const name of this.whole) {
        if (now.has(name) || !grads.has(name)) continue;
        grads.get(name)!.dispose();
        grads.delete(name);
      }
    }
    if (p.criterion === 'learned' && p.options.gdr && p.options.gdr.lambda > 0) this.gradientDropout(grads, g, p.options.gdr);
    return grads;
  }

  private gradientDropout(grads: Map<string, tf.Tensor>, g: GradContext, gdr: { lambda: number; temperature: number }): void {
    const scores = [...this.linears.values()].filter((m) => m.scores).map((m) => m.scores!);
    if (scores.length === 0) return;
    const teacher = tf.tidy(() => this.model.forward(batchInputs(g.batch), Ctx.plain(false)).logits);
    const { value, grads: b } = tf.variableGrads(() => distillLoss(this.model.forward(batchInputs(g.batch), g.context()).logits, teacher, gdr.temperature), scores.map((s) => s.variable));
    value.dispose();
    teacher.dispose();
    const byVar = new Map(scores.map((s) => [s.variable.name, s]));
    for (const [varName, bGrad] of Object.entries(b)) {
      const param = byVar.get(varName)!;
      const a = grads.get(param.fullName);
      if (a) {
        const u = tf.tensor(uniformArray(param.size, 0, 1, hashString(`${this.seed}:gdr:${g.step}:${g.micro}:${param.fullName}`)), [...param.shape]);
        const { p, grad } = gradientDropout(a, bGrad, u, gdr.lambda);
        tf.dispose([p, u, a]);
        grads.set(param.fullName, grad);
      }
      bGrad.dispose();
    }
  }

  /** After an optimizer step: entries out of the selection go back to their values; SaRA re-selects when due. */
  afterStep(info: { step: number; totalSteps: number }): void {
    this.stepsDone = info.step + 1;
    this.restoreInactive();
    const p = this.plan;
    if (p.criterion !== 'magnitude' || !p.options.reselect) return;
    const r = p.options.reselect;
    const every = r.every < 1 ? Math.max(1, Math.round(r.every * info.totalSteps)) : Math.round(r.every);
    if (this.reselections < r.times && this.stepsDone % every === 0 && this.stepsDone < info.totalSteps) this.reselect();
  }

  /** SaRA's progressive step: the selected entries whose |w| left the bound stop training, at their current values. */
  reselect(): void {
    for (const s of this.slots) {
      if (s.form !== 'sparse' || s.bound === undefined) continue;
      const key = slotKey(s.site, s.tensor);
      const values = this.linears.get(s.site)!.sparseValues(s.tensor)!;
      const v = Float32Array.from(values.value.dataSync() as Float32Array);
      const was = this.active.get(key);
      const now = Uint8Array.from(v, (x, i) => ((was ? was[i] === 1 : true) && (s.strict ? Math.abs(x) < s.bound! : Math.abs(x) <= s.bound!) ? 1 : 0));
      this.active.set(key, now);
      this.frozenValues.set(key, v);
    }
    this.reselections++;
  }

  private restoreInactive(): void {
    for (const [key, active] of this.active) {
      const s = this.slots.find((x) => slotKey(x.site, x.tensor) === key)!;
      const values = this.linears.get(s.site)!.sparseValues(s.tensor)!;
      const frozen = this.frozenValues.get(key)!;
      values.set(tf.tidy(() => tf.where(tf.tensor1d(active, 'bool'), values.value, tf.tensor1d(frozen))));
    }
  }

  /** Entries still training per sparse slot (magnitude after a re-selection), for reports. */
  activeCount(site: string, tensor: 'weight' | 'bias'): number | null {
    const a = this.active.get(slotKey(site, tensor));
    return a ? a.reduce((n, x) => n + x, 0) : null;
  }

  trainingState(): { meta: unknown; arrays: Map<string, Float32Array> } {
    const arrays = new Map<string, Float32Array>();
    for (const [key, a] of this.active) {
      arrays.set(`active:${key}`, Float32Array.from(a));
      arrays.set(`frozen:${key}`, this.frozenValues.get(key)!);
    }
    return { meta: { stepsDone: this.stepsDone, reselections: this.reselections, active: [...this.active.keys()] }, arrays };
  }

  restoreTrainingState(meta: unknown, read: (name: string) => Float32Array | null): void {
    const m = (meta ?? {}) as { stepsDone?: number; reselections?: number; active?: string[] };
    this.stepsDone = m.stepsDone ?? 0;
    this.reselections = m.reselections ?? 0;
    this.active.clear();
    this.frozenValues.clear();
    for (const key of m.active ?? []) {
      const a = read(`active:${key}`);
      const f = read(`frozen:${key}`);
      if (!a || !f) throw new PeftError('FORMAT', 'the checkpoint lacks the re-selection state of a selected weight', { where: key, hint: 'resume from an earlier checkpoint' });
      this.active.set(key, Uint8Array.from(a));
      this.frozenValues.set(key, Float32Array.from(f));
    }
  }

  /** Writes the trained entries into the backbone's tensors (`peft merge`): the merged names. */
  foldIntoBackbone(): string[] {
    const merged: string[] = this.whole.map((n) => `select → ${n} (whole tensor, loaded)`);
    for (const [path, m] of this.linears) {
      for (const [tensor, value] of m.folded()) {
        m.baseParam(tensor).set(value);
        merged.push(`select → ${path}.${tensor}`);
      }
    }
    return merged;
  }

  dispose(): void {
    for (const m of this.linears.values()) m.dispose();
    this.linears.clear();
  }
}

/** Flat positions of an [out, in] matrix's entries in its [in, out] transpose. */
function transposeIndices(idx: Int32Array, out: number, inDim: number): Int32Array {
  return Int32Array.from(idx, (i) => (i % inDim) * out + Math.floor(i / inDim)).sort();
}
