// Where a shipped recipe's training step spends its time: the recipe's own plan, session and data
// pipeline, then STEPS steps taken as the training loop takes them (next batch, forward and
// backward under tf.variableGrads, AdamW), each phase timed, and five more under tf.profile for the
// kernels by name (their mean). What is neither kernels nor data is the engine's own overhead (dispatch, the
// tape, tensor bookkeeping, host work). Prints a table; `--json` prints one JSON line.
//
//   node --expose-gc --import tsx bench/harness/profile-recipe.ts RECIPE [--steps 30] [--backend native] [--set key=value]… [--json]
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { validateRecipeFile } from '../../src/recipes/index.js';
import { openSession } from '../../src/engine/session.js';
import { buildData } from '../../src/engine/data/build.js';
import { taskLoss } from '../../src/engine/train/task-loss.js';
import { createOptimizer } from '../../src/engine/train/optim/create.js';
import { profileStep } from './profile.js';

const argv = process.argv.slice(2);
const opt = (k: string, d: string) => (argv.includes(k) ? argv[argv.indexOf(k) + 1]! : d);
const recipe = resolve(argv[0] ?? 'configs/glue/sst2-lora.yaml');
const STEPS = Number(opt('--steps', '30'));
const WARMUP = 5;

const extraSets = argv.flatMap((a, i) => (a === '--set' && argv[i + 1] ? [argv[i + 1]!] : []));
const v = validateRecipeFile(recipe, { sets: ['data.group_by_length=false', 'seed=42', ...extraSets] });
if (!v.plan) throw new Error(v.issues.map((i) => i.message).join('; '));
const plan = { ...v.plan, output: { dir: join('/tmp', 'peft-profile') } };
const s = await openSession(plan, { backend: opt('--backend', 'native') });
const data = await buildData(plan, s.tokenizer, { model: { config: s.model.config, dir: s.modelDir } });
const vars = new Map([...s.trainable.params].map(([n, p]) => [n, p.variable]));
const nameOf = new Map([...vars].map(([n, x]) => [x.name, n]));
const optimizer = createOptimizer(plan.optimizer, vars);
let cursor = { epoch: 0, index: 0 };
const ms = { data: 0, grads: 0, optimizer: 0, total: 0 };

function step(timed: boolean): void {
  const t0 = performance.now();
  const next = data.train.next(cursor);
  cursor = next.cursor;
  const t1 = performance.now();
  const ctx = s.peft.context({ training: true, seed: 1 });
  const { value, grads } = tf.variableGrads(() => taskLoss(s.model, plan.task, next.batch, ctx), [...vars.values()]);
  value.dataSync();
  value.dispose();
  const t2 = performance.now();
  optimizer.step(new Map(Object.entries(grads).map(([k, g]) => [nameOf.get(k)!, g])));
  Object.values(grads).forEach((g) => g.dispose());
  const t3 = performance.now();
  if (timed) {
    ms.data += t1 - t0;
    ms.grads += t2 - t1;
    ms.optimizer += t3 - t2;
    ms.total += t3 - t0;
  }
}

for (let i = 0; i < WARMUP; i++) step(false);
for (let i = 0; i < STEPS; i++) step(true);
// kernel times are the mean of PROFILED steps (one step's figures move by ±30% on a shared machine);
// profileStep counts registered kernels only, so fused attention's custom-gradient scope is not counted twice
const PROFILED = 5;
const profile = await profileStep([{ name: 'step', run: () => step(false) }], { steps: PROFILED });
const launched = Math.round(profile.kernels.reduce((n, k) => n + k.calls, 0));
const kernelMs = profile.kernelMs;
const per = (x: number) => x / STEPS;
const step1 = per(ms.total);
const report = {
  recipe: argv[0], backend: tf.getBackend(), steps: STEPS, step_ms: step1, data_ms: per(ms.data), forward_backward_ms: per(ms.grads), optimizer_ms: per(ms.optimizer),
  kernel_ms_profiled_step: kernelMs, kernels_launched: launched,
  top_kernels: profile.kernels.slice(0, 8).map((k) => ({ name: k.kernel, ms: Math.round(k.ms * 10) / 10 })),
};
if (argv.includes('--json')) console.log(JSON.stringify(report));
else {
  console.log(`${report.recipe} on ${report.backend}: ${step1.toFixed(1)} ms a step (mean of ${STEPS})`);
  console.log(`  data ${per(ms.data).toFixed(1)} ms, forward + backward ${per(ms.grads).toFixed(1)} ms, AdamW ${per(ms.optimizer).toFixed(1)} ms`);
  console.log(`  a step profiled (mean of ${PROFILED}): ${launched} kernels, ${kernelMs.toFixed(1)} ms in kernels; the rest of the step is engine overhead (dispatch, tape, bookkeeping)`);
  for (const k of report.top_kernels) console.log(`    ${k.name.padEnd(24)} ${k.ms} ms`);
}
