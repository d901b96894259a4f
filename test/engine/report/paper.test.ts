// Testing a paper's findings on measured runs: the mean over seeds per task and method, the
// direction of each task's metric, on how many seeds a finding held; and the full-scale table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Plan } from '../../../src/plan/index.js';
import type { PaperManifest } from '../../../src/plan/index.js';
import { comparePaper, testFindings, type MethodResult } from '../../../src/engine/report/paper.js';
import type { RunRecord } from '../../../src/engine/report/collect.js';

const MANIFEST: PaperManifest = {
  paper: 'a paper',
  scales: {
    small: { about: '', tasks: { cls: { metric: 'accuracy', mode: 'max', title: 'cls' }, lm: { metric: 'perplexity', mode: 'min', title: 'lm' } }, methods: ['pa', 'sa'], recipe: 'small/{task}-{method}.yaml', seeds: [0, 1] },
  },
  findings: [{ finding: 'parallel beats sequential', better: 'pa', worse: 'sa', paper: 'Table 3' }],
  table: [{ recipe: 'big-pa.yaml', table: '3', metric: 'accuracy', paper: 94.2, params: '0.5%', scale: 100 }],
};

const result = (task: string, method: string, metric: string, values: number[]): MethodResult => ({
  task, method, metric, values, mean: values.reduce((a, b) => a + b, 0) / values.length, stored_params: 10, stored_percent: 1, wall_time_s: 1,
});

test('a finding holds per task on the mean, in the direction of the task\'s metric, with its seed count', () => {
  const f = testFindings([
    result('cls', 'pa', 'accuracy', [0.70, 0.64]), result('cls', 'sa', 'accuracy', [0.66, 0.66]),
    result('lm', 'pa', 'perplexity', [12, 14]), result('lm', 'sa', 'perplexity', [11, 13]),
  ], MANIFEST);
  assert.deepEqual(f.map((x) => [x.task, x.holds, x.seedsHolding, x.seeds]), [['cls', true, 1, 2], ['lm', false, 0, 2]]);
  assert.ok(Math.abs(f[0]!.betterMean - 0.67) < 1e-12);
});

function run(recipe: string, seed: number, metrics: Record<string, number>): RunRecord {
  const plan = { name: 'x', recipePath: `/p/${recipe}`, seed, method: { preset: 'custom', modules: [], unfreeze: [], trainHead: true }, backbone: { path: '/nowhere' } } as unknown as Plan;
  return {
    dir: '/d', label: recipe, sweep: null, trialId: null, overrides: [], kind: 'trial', plan, metrics: [],
    summary: { after: metrics, best: null, trainable_params: 10, total_params: 1000, steps: 1, wall_time_s: 2, backend: 'cpu' } as never,
  };
}

test('the small scale\'s table and findings from run directories; the full scale\'s paper-vs-ours rows', async () => {
  const runs = [
    run('small/cls-pa.yaml', 0, { accuracy: 0.7 }), run('small/cls-pa.yaml', 1, { accuracy: 0.64 }),
    run('small/cls-sa.yaml', 0, { accuracy: 0.66 }), run('small/cls-sa.yaml', 1, { accuracy: 0.66 }),
  ];
  const small = await comparePaper(runs, MANIFEST, 'small');
  assert.deepEqual(small.methods.map((m) => [m.task, m.method, m.values]), [['cls', 'pa', [0.7, 0.64]], ['cls', 'sa', [0.66, 0.66]]]);
  assert.equal(small.findings.length, 1);
  assert.match(small.markdown, /\| parallel beats sequential \| cls \| `pa` \| 0\.6700 \| `sa` \| 0\.6600 \| \*\*yes\*\* \| 1\/2 \| Table 3 \|/);
  const full = await comparePaper([run('big-pa.yaml', 0, { accuracy: 0.9312 })], MANIFEST, 'full');
  assert.deepEqual(full.table.map((r) => [r.recipe, r.paper, r.ours]), [['big-pa.yaml', 94.2, 93.12]]);
  assert.match(full.markdown, /\| `big-pa\.yaml` \| 3 \| 0\.5% \| accuracy \| 94\.2 \| 93\.12 \|/);
});
