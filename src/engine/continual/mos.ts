// MOS — Model Surgery for class-incremental learning (Sun et al., AAAI 2025), after the authors'
// code (sun-hailong/AAAI25-MOS):
//  - one adapter set continues from stage to stage (not re-initialised); after every optimizer
//    step of a later stage it is merged toward the mean of the adapters stored at the end of the
//    earlier stages: adapter ← (1 − m)·adapter + m·mean(earlier) (weights and biases; a learned
//    composition scale too, which their adapter does not have);
//  - class prototypes: the mean feature of each class under the first stage's adapter;
//  - prediction (self-refined retrieval): the prototype classifier (cosine) under adapter 0 names
//    a class, hence a task; that task's adapter's head logits name another; repeat until the task
//    is stable or max_iter adapters were evaluated; with the ensemble, the scores are
//    softmax(final logits) + softmax(prototype logits · stages).
//  - classifier alignment: after each later stage the head is re-trained over every class seen
//    on features sampled from each class's Gaussian (align.ts).
// Their forward re-applies the merge in place on every forward (stored adapters drift at each
// evaluation); here it is applied once per optimizer step, as the paper describes. Their
// orthogonality loss is not reproduced (docs/continual.md). When the task is known
// (task-incremental), its own adapter predicts.
import * as tf from '@tensorflow/tfjs-core';
import type { MosPlan, TaskEntryPlan } from '../../plan/index.js';
import type { Param } from '../nn/module.js';
import type { Batch } from '../data/batches.js';
import { blend, meanOf, snapshot, withParams, disposeSet, type ParamSet } from './param-sets.js';
import type { Strategy, StreamModel } from './strategy.js';
import { MASKED } from './classes.js';
import { ALIGN_DEFAULTS, alignClassifier, classStats, type ClassStats } from './align.js';
import { PeftError } from '../../errors.js';

/** adapter ← (1 − m)·adapter + m·mean(stored), in place (reweight_adapter toward adapters 0 … idx − 1). */
export function mosMerge(adapter: ReadonlyMap<string, Param>, stored: readonly ParamSet[], m: number): void {
  if (stored.length === 0 || m === 0) return;
  const mean = meanOf(stored);
  const live = snapshot(new Map([...adapter].filter(([n]) => mean.has(n))));
  blend(live, 1 - m, mean, m);
  for (const [n, t] of live) adapter.get(n)!.set(tf.clone(t));
  disposeSet(live);
  disposeSet(mean);
}

function softmax(row: readonly number[]): number[] {
  const mx = Math.max(...row);
  const e = row.map((v) => Math.exp(v - mx));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

function argmax(row: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

export interface Retrieval {
  /** The adapters visited per row, in order. */
  paths: number[][];
  /** The last visited adapter's logits per row. */
  final: number[][];
  /** What the prediction is the argmax of: the ensemble's scores, or the final logits. */
  scores: number[][];
}

/**
 * Self-refined retrieval (_eval_cnn): `orig` the prototype logits per row, `logitsOf(t)` adapter
 * t's head logits per row, `cls2task` the task of each class; `stages` = T_cur + 1.
 */
export function retrieve(orig: readonly number[][], logitsOf: (t: number) => readonly number[][], cls2task: readonly number[], maxIter: number, ensemble: boolean, stages: number): Retrieval {
  const paths: number[][] = [];
  const final: number[][] = [];
  const scores: number[][] = [];
  orig.forEach((o, i) => {
    let t = cls2task[argmax(o)]!;
    const path = [t];
    let logits = logitsOf(t)[i]!;
    for (let evals = 1; evals < maxIter; evals++) {
      const next = cls2task[argmax(logits)]!;
      if (next === t) break;
      t = next;
      path.push(t);
      logits = logitsOf(t)[i]!;
    }
    paths.push(path);
    final.push([...logits]);
    if (!ensemble) scores.push([...logits]);
    else {
      const a = softmax(logits);
      const b = softmax(o.map((v) => v * stages));
      scores.push(a.map((v, c) => v + b[c]!));
    }
  });
  return { paths, final, scores };
}

/** Cosine similarity of each row of x [B, D] with each prototype [C, D]. */
function cosine(x: tf.Tensor2D, protos: tf.Tensor2D): tf.Tensor2D {
  const unit = (t: tf.Tensor2D) => tf.div(t, tf.maximum(tf.norm(t, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D;
  return tf.matMul(unit(x), unit(protos), false, true);
}

export function mosStrategy(m: StreamModel, o: MosPlan): Strategy {
  const order = m.plan.stream.order.map((n) => m.plan.tasks.find((t) => t.name === n)!);
  const stored: ParamSet[] = [];
  /** Class prototypes: head column → mean feature under adapter 0. */
  let prototypes: ParamSet = new Map();
  const C = m.plan.task.numLabels!;
  const stats = new Map<number, ClassStats>();
  const heads = [...m.head.values()];
  const weight = heads.find((p) => p.shape.length === 2);
  const bias = heads.find((p) => p.shape.length === 1) ?? null;
  const where = 'stream.strategy';
  if (!weight) throw new PeftError('RECIPE', 'mos re-trains the task head, and this model has none', { where });
  /** Alignment trains the head as one linear layer on the pooled features: it must be one. */
  const checkLinearHead = (b: Batch) => tf.tidy(() => {
    const direct = m.forward(b);
    const f = m.features(b);
    const viaHead = bias ? tf.add(tf.matMul(f, weight.value as tf.Tensor2D, false, true), bias.value) : tf.matMul(f, weight.value as tf.Tensor2D, false, true);
    if (tf.max(tf.abs(tf.sub(direct, viaHead))).dataSync()[0]! > 1e-3) {
      throw new PeftError('BACKBONE', `mos re-trains the head on pooled features, and ${m.model.family}'s head is not one linear layer on them`, { where, hint: 'use a backbone whose classifier reads the pooled features directly (llama, vit)' });
    }
  });
  return {
    name: 'mos',
    phases: () => [{ name: 'train', trains: () => true }],
    afterStep(k) {
      if (k > 0) mosMerge(m.pet, stored.slice(0, k), o.momentum);
    },
    afterStage(k, entry, data) {
      stored[k]?.forEach((t) => t.dispose());
      stored[k] = snapshot(m.pet);
      // the stage's classes summarised under its own adapter (the live one), then the head aligned
      const feats = new Map<number, Float32Array[]>();
      for (const b of data.train.over(entry.headClasses).sequential()) {
        const f = tf.tidy(() => m.features(b).arraySync() as number[][]);
        b.labels!.forEach((c, i) => feats.set(c, [...(feats.get(c) ?? []), Float32Array.from(f[i]!)]));
      }
      for (const [c, rows] of feats) stats.set(c, classStats(rows));
      if (k > 0) {
        checkLinearHead(data.train.over(entry.headClasses).sequential().next().value!);
        const seen = order.slice(0, k + 1).flatMap((t) => t.headClasses);
        alignClassifier(weight, bias, stats, seen, { ...ALIGN_DEFAULTS, seed: m.plan.seed + k });
      }
      // replace_fc: the mean feature of each of the stage's classes, under the first adapter
      const sums = new Map<number, { sum: tf.Tensor; n: number }>();
      withParams(m.pet, stored[0]!, () => {
        for (const b of data.train.over(entry.headClasses).sequential()) {
          const f = m.features(b);
          b.labels!.forEach((c, i) => {
            const row = tf.keep(tf.slice(f, [i, 0], [1, -1]));
            const prev = sums.get(c);
            if (prev) {
              const next = tf.keep(tf.add(prev.sum, row));
              prev.sum.dispose();
              row.dispose();
              sums.set(c, { sum: next, n: prev.n + 1 });
            } else sums.set(c, { sum: row, n: 1 });
          });
          f.dispose();
        }
      });
      for (const [c, { sum, n }] of sums) {
        prototypes.get(String(c))?.dispose();
        prototypes.set(String(c), tf.keep(tf.div(sum, n)));
        sum.dispose();
      }
    },
    classLogits(b, stages) {
      return tf.tidy(() => {
        const seen = order.slice(0, Math.min(stages, stored.length));
        const own = seen.findIndex((t) => b.classes && t.headClasses.length === b.classes.length && t.headClasses.every((c, i) => b.classes![i] === c));
        if (own >= 0 || seen.length <= 1) return withParams(m.pet, stored[Math.max(own, 0)] ?? new Map(), () => m.forward(b));
        const classes = seen.flatMap((t: TaskEntryPlan) => t.headClasses);
        const cls2task = classes.map((c) => seen.findIndex((t) => t.headClasses.includes(c)));
        const protos = tf.concat(classes.map((c) => prototypes.get(String(c))!), 0) as tf.Tensor2D;
        const orig = cosine(withParams(m.pet, stored[0]!, () => m.features(b)), protos).arraySync() as number[][];
        const cols = tf.tensor1d(classes, 'int32');
        const logits = seen.map((_, t) => tf.gather(withParams(m.pet, stored[t]!, () => m.forward(b)), cols, 1).arraySync() as number[][]);
        const r = retrieve(orig, (t) => logits[t]!, cls2task, o.maxIter, o.ensemble, seen.length);
        // back over the whole head: the scores' log (a softmax gives their normalisation back), other columns out
        const out = r.scores.map((row) => {
          const full = new Array<number>(C).fill(MASKED);
          classes.forEach((c, j) => { full[c] = o.ensemble ? Math.log(row[j]! + 1e-30) : row[j]!; });
          return full;
        });
        return tf.tensor2d(out) as tf.Tensor2D;
      });
    },
    state() {
      const sets: Record<string, ParamSet> = { prototypes };
      stored.forEach((s, k) => { sets[`stage.${k}`] = s; });
      return { meta: { stages: stored.length }, sets };
    },
    restore(st) {
      for (const [name, set] of Object.entries(st.sets)) {
        if (name === 'prototypes') prototypes = set;
        else if (name.startsWith('stage.')) stored[Number(name.slice(6))] = set;
      }
    },
  };
}
