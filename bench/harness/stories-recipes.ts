// The workloads users run: the shipped stories260K recipes (configs/glue/sst2-lora.yaml — short,
// variable-length classification batches — and configs/lm/tinyshakespeare-lora.yaml — blocks of
// 128 tokens), each trained by the real training loop in a child process (./stories-child.ts) and
// measured back to back with the lean PyTorch peer ../shared/bench/torch_stories_lora.py doing the
// same work (same settings, same batch shapes, same number of steps) on the same cores.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT, runTorchStories, storiesTorchScript, type TorchSetup, type TorchStoriesRun } from './torch.js';
import { measureQuietly, type QuietOptions } from './quiet.js';
import { load1 } from './report.js';
import { median } from './timing.js';

export type StoriesTask = 'seqcls' | 'lm';
export const STORIES_TASKS: readonly StoriesTask[] = ['seqcls', 'lm'];

export const STORIES_RECIPES: Record<StoriesTask, string> = {
  seqcls: 'configs/glue/sst2-lora.yaml',
  lm: 'configs/lm/tinyshakespeare-lora.yaml',
};

/** SST-2's train-split token counts as the project's tokenizer encodes them (the peer's --lengths). */
export const STORIES_LENGTHS = join(PACKAGE_ROOT, '..', 'shared', 'bench', 'sst2-train-lengths.txt');
export const STORIES_MODEL = join(PACKAGE_ROOT, 'assets', 'models', 'stories260K');

/** What the child prints. */
export interface StoriesChildReport {
  task: StoriesTask;
  backend: string;
  threads: number;
  steps: number;
  warmup: number;
  batch: number;
  seconds: number;
  seq_per_s: number;
  /** Real (unpadded) tokens per second, and tokens including padding. */
  tokens_per_s: number;
  padded_tokens_per_s: number;
  loss_last: number;
  /** Seconds to read and tokenise the data (before step 1). */
  data_s: number;
  /** The child's peak RSS (VmHWM), the whole run: session, data, training. */
  peak_rss_mb: number;
  /** RSS when the child started, after the session (backend, model), after the data, at the end. */
  rss_mb: Record<string, number>;
  /** seqcls: whether the pipeline's token counts equal the peer's lengths file. */
  lengths_match: boolean | null;
  /** The recipe's validation split evaluated after training: real tokens per second (forward only). */
  eval: { examples: number; batch: number; passes: number; seconds: number; tokens_per_s: number } | null;
}

export interface StoriesFigures {
  recipe: string;
  seq_per_s: number;
  /** Every run's seq/s when the section ran several times (the figures are their medians). */
  runs?: { peft_seq_per_s: number[]; torch_seq_per_s: Record<string, number[]> };
  /** The PyTorch peer's seq/s (the faster of its runs when it ran with two OpenBLAS core types). */
  torch_seq_per_s?: number;
  ratio?: number;
  /** Evaluation's real tokens per second, and its ratio to the training step's. */
  eval_tokens_per_s?: number;
  eval_vs_train?: number;
  peft: StoriesChildReport & { others_cores: number; load1: number };
  torch?: (TorchStoriesRun & { coretype: string; others_cores: number; load1: number })[];
  torch_skipped?: string;
}

const TSX = import.meta.resolve('tsx');
const CHILD = join(PACKAGE_ROOT, 'bench', 'harness', 'stories-child.ts');

export function runStoriesChild(task: StoriesTask, steps: number, warmup: number, backend: string): StoriesChildReport {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', TSX, CHILD, task, String(steps), String(warmup), backend], {
    encoding: 'utf8', maxBuffer: 2 ** 20,
  });
  const lines = (r.stdout ?? '').trim().split('\n');
  if (r.status !== 0) throw new Error(`stories child ${task} failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(lines[lines.length - 1]!) as StoriesChildReport;
}

export interface StoriesOptions {
  backend: string;
  steps: number;
  warmup: number;
  /** Peers to run (none when torch is absent): each a setup and its core-type label. */
  peers: { setup: TorchSetup; label: string }[];
  quiet: QuietOptions | null;
  log: (line: string) => void;
  /** Times each side runs, in turn (default 1). */
  reps?: number;
}

/**
 * Both recipes, each with its peers right after it, `reps` times in turn (peft, peers, peft, …):
 * the figures are medians, since a shared 2-core machine drifts by ±30% from one run to the next
 * even with nothing else on it.
 */
export async function benchShippedRecipes(o: StoriesOptions): Promise<Partial<Record<StoriesTask, StoriesFigures>>> {
  const out: Partial<Record<StoriesTask, StoriesFigures>> = {};
  const peers = o.peers.filter((p) => existsSync(storiesTorchScript(p.setup.script)));
  const reps = Math.max(1, o.reps ?? 1);
  for (const task of STORIES_TASKS) {
    const runs: StoriesFigures['peft'][] = [];
    const torchRuns = new Map<string, NonNullable<StoriesFigures['torch']>>();
    let torchSkipped: string | undefined;
    for (let rep = 0; rep < reps; rep++) {
      const q = await measureQuietly(() => runStoriesChild(task, o.steps, o.warmup, o.backend), o.quiet);
      const peft = { ...q.value, others_cores: q.othersCores, load1: load1() };
      runs.push(peft);
      o.log(`  peft ${task} (${STORIES_RECIPES[task]}): ${peft.seq_per_s} seq/s, ${peft.tokens_per_s} tok/s, peak RSS ${peft.peak_rss_mb} MB (others ${peft.others_cores} cores, load ${peft.load1})`);
      if (peft.eval) o.log(`  peft ${task} evaluation: ${peft.eval.tokens_per_s} tok/s (${(peft.eval.tokens_per_s / peft.tokens_per_s).toFixed(2)}× the training step's tokens per second)`);
      if (torchSkipped) continue;
      try {
        for (const p of peers) {
          const t = await measureQuietly(() => runTorchStories(p.setup, STORIES_MODEL, task === 'seqcls' ? 'seq-cls' : 'lm', o.steps, o.warmup, STORIES_LENGTHS), o.quiet);
          const run = { ...t.value, coretype: p.label, others_cores: t.othersCores, load1: load1() };
          if (!torchRuns.has(p.label)) torchRuns.set(p.label, []);
          torchRuns.get(p.label)!.push(run);
          o.log(`  torch ${p.label} ${task}: ${run.seq_per_s} seq/s (others ${run.others_cores} cores, load ${run.load1})`);
        }
      } catch (e) {
        torchSkipped = (e as Error).message;
      }
    }
    // the run with the median speed stands for peft; each peer's median for it
    const bySpeed = [...runs].sort((a, b) => a.seq_per_s - b.seq_per_s);
    const peft = bySpeed[Math.floor((bySpeed.length - 1) / 2)]!;
    const f: StoriesFigures = { recipe: STORIES_RECIPES[task], seq_per_s: Number(median(runs.map((r) => r.seq_per_s)).toFixed(2)), peft };
    if (reps > 1) f.runs = { peft_seq_per_s: runs.map((r) => r.seq_per_s), torch_seq_per_s: Object.fromEntries([...torchRuns].map(([k, v]) => [k, v.map((r) => r.seq_per_s)])) };
    const evals = runs.filter((r) => r.eval).map((r) => r.eval!.tokens_per_s / r.tokens_per_s);
    if (evals.length) {
      f.eval_tokens_per_s = Math.round(median(runs.filter((r) => r.eval).map((r) => r.eval!.tokens_per_s)));
      f.eval_vs_train = Number(median(evals).toFixed(2));
    }
    if (torchRuns.size) {
      f.torch = [...torchRuns.values()].map((rs) => [...rs].sort((a, b) => a.seq_per_s - b.seq_per_s)[Math.floor((rs.length - 1) / 2)]!);
      f.torch_seq_per_s = Math.max(...[...torchRuns.values()].map((rs) => Number(median(rs.map((r) => r.seq_per_s)).toFixed(2))));
      f.ratio = Number((f.seq_per_s / f.torch_seq_per_s).toFixed(3));
    } else f.torch_skipped = torchSkipped ?? (peers.length ? 'no peer ran' : 'torch_stories_lora.py or torch not available');
    o.log(`  ${task}: peft ${f.seq_per_s} seq/s${f.torch_seq_per_s ? `, torch ${f.torch_seq_per_s} seq/s: ${f.ratio}×` : ''}${reps > 1 ? ` (medians of ${reps})` : ''}`);
    out[task] = f;
  }
  return out;
}
