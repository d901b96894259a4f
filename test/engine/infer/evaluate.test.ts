// Evaluation and its use in training: the metrics are the registry's over the whole split, the
// loss is the mean over labelled units; evaluation every N steps or each epoch; the adapter kept is
// the best by the tracked metric (its direction from the registry); early stopping with patience.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { openSession, type Session } from '../../../src/engine/session.js';
import { buildData, type BuiltData } from '../../../src/engine/data/build.js';
import { evaluate } from '../../../src/engine/infer/evaluate.js';
import { predictBatch } from '../../../src/engine/infer/predict.js';
import { batchInputs } from '../../../src/engine/train/task-loss.js';
import { crossEntropy } from '../../../src/engine/train/losses.js';
import { trainLoop } from '../../../src/engine/train/loop.js';
import { RunDir } from '../../../src/engine/train/run-dir.js';
import { computeMetric, isImprovement } from '../../../src/engine/metrics/index.js';
import { PeftError } from '../../../src/errors.js';
import type { Plan } from '../../../src/plan/index.js';
import { makePlan, split, LORA, type PlanParts } from '../../helpers/plans.js';
import { sst2Rows } from '../../helpers/trained-run.js';

const BACKEND = process.env.PEFT_TEST_BACKEND ?? 'cpu';
const dir = mkdtempSync(join(tmpdir(), 'peft-eval-'));
const train = join(dir, 'train.jsonl');
const dev = join(dir, 'dev.jsonl');
writeFileSync(train, sst2Rows('train', 64).join('\n') + '\n');
writeFileSync(dev, sst2Rows('dev', 30).join('\n') + '\n');

function plan(parts: Partial<PlanParts> = {}): Plan {
  return makePlan({
    task: { type: 'seq-cls', labels: ['negative', 'positive'], numLabels: 2 },
    data: { train: split(train), validation: split(dev), maxLength: 24 },
    method: { ...LORA, trainHead: true },
    eval: { metrics: ['accuracy', 'f1', 'mcc'], batchSize: 8 },
    output: join(dir, 'runs'),
    ...parts,
  });
}

async function open(p: Plan): Promise<{ s: Session; data: BuiltData }> {
  const s = await openSession(p, { backend: BACKEND });
  return { s, data: await buildData(p, s.tokenizer, { model: { config: s.model.config } }) };
}

test('evaluate: the registry\'s metrics over the whole split, the mean cross-entropy as the loss', async () => {
  const { s, data } = await open(plan());
  const r = evaluate(s, data.validation!.sequential());
  assert.equal(r.examples, 30);
  const preds: number[] = [];
  const refs: number[] = [];
  let ce = 0;
  for (const b of data.validation!.sequential()) {
    const out = predictBatch(s, b);
    out.predictions.forEach((p) => preds.push(p.kind === 'class' ? p.id : NaN));
    refs.push(...Array.from(b.labels!));
    ce += tf.tidy(() => crossEntropy(s.model.forward(batchInputs(b), s.peft.context({ training: false })).logits as tf.Tensor2D, tf.tensor1d(Int32Array.from(b.labels!), 'int32')).dataSync()[0]!) * b.size;
  }
  for (const m of ['accuracy', 'f1', 'mcc']) assert.equal(r.metrics[m], computeMetric(m, preds, refs)[m], m);
  assert.ok(Math.abs(r.loss - ce / 30) < 1e-6, `loss ${r.loss} vs ${ce / 30}`);
  assert.throws(() => evaluate(s, data.validation!.sequential(), { metrics: ['rouge'] }), (e) => e instanceof PeftError && /need a seq2seq task/.test(e.message));
  tf.disposeVariables();
});

test('evaluation in batches of similar length: every example once, results back in file order, the metrics and loss of file order', async () => {
  const { s, data } = await open(plan({ data: { train: split(train), validation: split(dev), maxLength: 64 } }));
  const v = data.validation!;
  const batches = [...v.byLength()];
  const rows = batches.flatMap((b) => b.rows!);
  assert.deepEqual([...rows].sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i), 'each example once');
  const lengths = rows.map((i) => v.examples.length(i));
  assert.deepEqual(lengths, [...lengths].sort((a, b) => b - a), 'longest first');
  const padded = (bs: Iterable<{ size: number; seqLen: number }>) => [...bs].reduce((n, b) => n + b.size * b.seqLen, 0);
  assert.ok(padded(batches) < padded(v.sequential()), 'less padding than file order');
  const sorted = evaluate(s, v.byLength());
  const fileOrder = evaluate(s, v.sequential());
  for (const m of ['accuracy', 'f1', 'mcc']) assert.equal(sorted.metrics[m], fileOrder.metrics[m], m);
  assert.ok(Math.abs(sorted.loss - fileOrder.loss) < 1e-6, `loss ${sorted.loss} vs ${fileOrder.loss}`);
  assert.equal(sorted.examples, 30);
  tf.disposeVariables();
});

test('evaluation every N steps keeps the best adapter by the tracked metric', async () => {
  const p = plan({ training: { maxSteps: 6, batchSize: 8, evalEvery: 1, checkpointEvery: 1, keepCheckpoints: 10 } });
  const { s, data } = await open(p);
  const run = RunDir.create(p.output.dir, 'best');
  run.writePlan(p);
  const result = await trainLoop(s, data, run);
  const evals = run.readMetrics().filter((m) => m.type === 'eval');
  assert.equal(evals.length, 6);
  // the best flags follow the metric's direction (accuracy: higher is better)
  let best: number | null = null;
  for (const e of evals) {
    const improved = isImprovement('accuracy', e.accuracy as number, best);
    assert.equal(e.best, improved, `step ${e.step}`);
    if (improved) best = e.accuracy as number;
  }
  assert.equal(result.best?.metric, 'accuracy');
  assert.equal(result.best?.value, best);
  const kept = readFileSync(join(run.adapterDir, 'adapter_model.safetensors'));
  const atBest = readFileSync(join(run.checkpointsDir, `step-${result.best!.step}`, 'adapter', 'adapter_model.safetensors'));
  assert.ok(kept.equals(atBest), `adapter/ is the adapter of step ${result.best!.step}`);
  tf.disposeVariables();
});

test('early stopping: patience counts evaluations without improvement; direction from the metric', async () => {
  // lr 0: nothing changes, so after the first evaluation none improves
  for (const metric of ['accuracy', 'loss']) {
    const p = plan({
      training: { maxSteps: 20, batchSize: 8, evalEvery: 2, earlyStopping: { metric, patience: 2, mode: metric === 'loss' ? 'min' : 'max' } },
      optimizer: { lr: 0 },
    });
    const { s, data } = await open(p);
    const run = RunDir.create(p.output.dir, `stop-${metric}`);
    run.writePlan(p);
    const result = await trainLoop(s, data, run);
    assert.equal(result.stoppedEarly, true);
    assert.equal(result.steps, 6, 'evaluations at steps 2 (best), 4 and 6 (no improvement: patience 2)');
    assert.equal(result.best?.step, 2);
    assert.equal(result.best?.metric, metric);
    tf.disposeVariables();
  }
});

test('eval_every: epoch evaluates at each epoch\'s end', async () => {
  const p = plan({ training: { maxSteps: null, epochs: 2, batchSize: 16, evalEvery: 'epoch' } });
  const { s, data } = await open(p);
  const run = RunDir.create(p.output.dir, 'epochs');
  run.writePlan(p);
  const result = await trainLoop(s, data, run);
  assert.equal(result.steps, 8);
  const evals = run.readMetrics().filter((m) => m.type === 'eval');
  assert.deepEqual(evals.map((e) => e.step), [4, 8]);
  tf.disposeVariables();
});
