// The child process of the shipped-recipe workloads (./stories-recipes.ts): one recipe trained as
// `peft train` trains it — its plan, the session, the data pipeline, the training loop (collate,
// forward, backward, clipping, AdamW, the schedule, logging) — in a process of its own, so that its
// peak RSS is that of the run alone. Settings and data shapes are those of
// ../shared/bench/torch_stories_lora.py:
//
//   seqcls  configs/glue/sst2-lora.yaml: SST-2's train split tokenised by the pipeline, in the order
//           Python's random.Random(42).shuffle gives (the peer's order, so the same batches and the
//           same padded shapes), batch 32, right-padded to each batch's longest row
//   lm      configs/lm/tinyshakespeare-lora.yaml: blocks of 32 × 128 tokens
//
// both with seed 42, AdamW lr 1e-3, weight decay 0.01, linear warm-up over 6% of the steps, clip 1.0,
// no evaluation or checkpoint during the timed steps; then the recipe's validation split evaluated
// (forward passes in batches of similar length) for its tokens per second. Prints one JSON line
// (StoriesChildReport).
//
//   node --import tsx stories-child.ts TASK STEPS WARMUP BACKEND
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateRecipeFile } from '../../src/recipes/index.js';
import type { Plan } from '../../src/plan/index.js';
import { openSession } from '../../src/engine/session.js';
import type { DataSplitPlan } from '../../src/plan/index.js';
import { buildData, buildSplit, collateOptionsFor, type ModelInfo } from '../../src/engine/data/build.js';
import { evaluate } from '../../src/engine/infer/evaluate.js';
import type { Session } from '../../src/engine/session.js';
import { Batcher } from '../../src/engine/data/batches.js';
import { ArrayExampleSet } from '../../src/engine/data/token-store.js';
import { trainLoop } from '../../src/engine/train/loop.js';
import { RunDir } from '../../src/engine/train/run-dir.js';
import { PACKAGE_ROOT } from './torch.js';
import { PyRandom } from './py-random.js';
import { peakRss } from './rss.js';
import { STORIES_LENGTHS, STORIES_RECIPES, type StoriesChildReport, type StoriesTask } from './stories-recipes.js';

const BATCH = 32;

/** The recipe's plan with the peer's settings (the rest as shipped), and its validation split. */
function planFor(task: StoriesTask, totalSteps: number, outDir: string): { plan: Plan; validation: DataSplitPlan | null } {
  const sets = ['seed=42', 'optimizer.lr=0.001', 'optimizer.weight_decay=0.01', `training.batch_size=${BATCH}`, 'training.max_grad_norm=1.0'];
  if (task === 'seqcls') sets.push('data.group_by_length=false');
  const v = validateRecipeFile(join(PACKAGE_ROOT, STORIES_RECIPES[task]), { sets });
  if (!v.plan) throw new Error(`${STORIES_RECIPES[task]}: ${v.issues.map((i) => i.message).join('; ')}`);
  const plan = v.plan;
  plan.training = { ...plan.training, maxSteps: totalSteps, evalEvery: null, checkpointEvery: null, logEvery: 25 };
  plan.schedule = { ...plan.schedule, name: 'linear', warmupSteps: null, warmupRatio: 0.06 };
  // the peer draws from the whole train split; no validation during the timed run
  if (plan.data.train) plan.data.train = { ...plan.data.train, limit: null };
  const validation = plan.data.validation;
  plan.data.validation = null;
  plan.data.test = null;
  plan.generate = null;
  plan.output = { ...plan.output, dir: outDir };
  return { plan, validation };
}

/**
 * Evaluation throughput: the recipe's validation split evaluated as `peft eval` does (batches of
 * similar length, the recipe's eval batch size, forward passes only) — one pass to warm up, then
 * `passes` timed; real tokens per second.
 */
async function evalThroughput(s: Session, plan: Plan, split: DataSplitPlan, model: ModelInfo, passes = 3): Promise<StoriesChildReport['eval']> {
  const built = await buildSplit(plan, split, s.tokenizer, { name: 'validation', batchSize: plan.eval.batchSize, shuffle: false, model });
  const v = built.batcher;
  evaluate(s, v.byLength());
  let tokens = 0;
  for (const b of v.byLength()) tokens += b.tokens;
  const t0 = performance.now();
  for (let i = 0; i < passes; i++) evaluate(s, v.byLength());
  const seconds = (performance.now() - t0) / 1000;
  return { examples: v.size, batch: plan.eval.batchSize, passes, seconds: Number(seconds.toFixed(3)), tokens_per_s: Math.round((passes * tokens) / seconds) };
}

async function main(): Promise<void> {
  const [task, stepsArg, warmupArg, backend] = process.argv.slice(2) as [StoriesTask, string, string, string];
  const steps = Number(stepsArg);
  const warmup = Number(warmupArg);
  const total = steps + warmup;
  const out = mkdtempSync(join(tmpdir(), 'peft-bench-stories-'));
  try {
    const { plan, validation } = planFor(task, total, out);
    const rss = () => Math.round(process.memoryUsage.rss() / 2 ** 20);
    const rssAt: Record<string, number> = { start: rss() };
    const s = await openSession(plan, { backend });
    rssAt.session = rss();
    const t0 = performance.now();
    const model = { config: s.model.config, dir: s.modelDir };
    const built = await buildData(plan, s.tokenizer, { model });
    const dataS = (performance.now() - t0) / 1000;
    rssAt.data = rss();
    let train = built.train;
    let lengthsMatch: boolean | null = null;
    if (task === 'seqcls') {
      // the peer's rows: the token counts of the split (BOS included) in its shuffled order
      const lengths = readFileSync(STORIES_LENGTHS, 'utf8').split(/\s+/).filter(Boolean).map((x) => Math.min(plan.data.maxLength, Number(x)));
      const set = train.examples;
      lengthsMatch = lengths.length === set.size && lengths.every((n, i) => set.length(i) === n);
      const order = new PyRandom(42).shuffle(Array.from({ length: set.size }, (_, i) => i));
      const rows = Array.from({ length: total * BATCH }, (_, i) => set.get(order[i % order.length]!));
      train = new Batcher(new ArrayExampleSet(rows), BATCH, plan.seed, collateOptionsFor(plan, s.tokenizer, model), false);
    }
    const run = RunDir.create(out, plan.name);
    const at: number[] = [];
    let real = 0;
    let padded = 0;
    let cursor = { epoch: 0, index: 0 };
    // shapes of the timed batches (the loop draws the same ones from the same cursor)
    for (let i = 0; i < total; i++) {
      const next = train.next(cursor);
      cursor = next.cursor;
      if (i >= warmup) {
        real += next.batch.tokens;
        padded += next.batch.size * next.batch.seqLen;
      }
    }
    const result = await trainLoop(s, { train, validation: null }, run, {
      onStep: (rec) => void (at[rec.step] = performance.now()),
    });
    const seconds = (at[total]! - at[warmup]!) / 1000;
    rssAt.end = rss();
    const evalReport = validation ? await evalThroughput(s, plan, validation, model) : null;
    const report: StoriesChildReport = {
      task, backend: s.backend.name, threads: s.backend.threads, steps, warmup, batch: BATCH,
      seconds: Number(seconds.toFixed(3)), seq_per_s: Number(((steps * BATCH) / seconds).toFixed(2)),
      tokens_per_s: Math.round(real / seconds), padded_tokens_per_s: Math.round(padded / seconds),
      loss_last: Number(result.finalLoss.toFixed(4)), data_s: Number(dataS.toFixed(2)),
      peak_rss_mb: Math.round(peakRss().bytes / 2 ** 20), rss_mb: rssAt, lengths_match: lengthsMatch,
      eval: evalReport,
    };
    console.log(JSON.stringify(report));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

await main();
