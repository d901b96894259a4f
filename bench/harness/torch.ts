// The PyTorch peer (../shared/bench/torch_lora.py), run as its README says: Debian's
// /usr/bin/python3 with python3-torch, the OpenMP build of OpenBLAS on LD_LIBRARY_PATH,
// OPENBLAS_NUM_THREADS and --threads equal. Its last stdout line is one JSON object.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchMode } from './trainer.js';

export const DEBIAN_PYTHON = '/usr/bin/python3';
export const OPENBLAS_OPENMP_DIR = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

export interface TorchSetup {
  python: string;
  script: string;
  threads: number;
  /** OPENBLAS_CORETYPE for the run; undefined keeps the environment's. */
  coretype?: string;
}

/** What torch_lora.py prints for one mode (the fields used here). */
export interface TorchRun {
  mode: BenchMode;
  torch: string;
  threads: number;
  openblas_threads: string | null;
  trainable_params: number;
  total_params: number;
  step_s_rep_medians: number[];
  step_s_min: number;
  step_s_median: number;
  seq_per_s_best: number;
  seq_per_s_median: number;
  tok_per_s_best: number;
  tok_per_s_median: number;
}

/** The package root (this file is bench/harness/torch.ts). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** torch_lora.py: PEFT_TORCH_SCRIPT, else ../shared/bench/torch_lora.py next to the package. */
export function defaultTorchScript(): string {
  return process.env.PEFT_TORCH_SCRIPT ?? join(PACKAGE_ROOT, '..', 'shared', 'bench', 'torch_lora.py');
}

function env(s: TorchSetup): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    LD_LIBRARY_PATH: [OPENBLAS_OPENMP_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    OPENBLAS_NUM_THREADS: String(s.threads),
  };
  if (s.coretype) e.OPENBLAS_CORETYPE = s.coretype;
  return e;
}

/** Whether the peer can run here: the script exists and the python imports torch (its version), or why not. */
export function torchStatus(python = DEBIAN_PYTHON, script = defaultTorchScript()): { ok: true; version: string } | { ok: false; reason: string } {
  if (!existsSync(script)) return { ok: false, reason: `${script} not found (set PEFT_TORCH_SCRIPT)` };
  if (!existsSync(python)) return { ok: false, reason: `${python} not found` };
  const r = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], {
    encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: OPENBLAS_OPENMP_DIR },
  });
  if (r.status !== 0) {
    return { ok: false, reason: `${python} cannot import torch (apt-get install -y python3-torch python3-numpy libopenblas0-openmp)` };
  }
  return { ok: true, version: r.stdout.trim() };
}

function runScript(s: TorchSetup, args: string[]): Record<string, unknown> {
  const r = spawnSync(s.python, [resolve(s.script), '--threads', String(s.threads), ...args], {
    encoding: 'utf8', env: env(s), maxBuffer: 16 * 2 ** 20,
  });
  const lines = (r.stdout ?? '').trim().split('\n');
  if (r.status !== 0 || lines.length === 0) {
    throw new Error(`${s.script.split('/').pop()} ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  }
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

/** One timed mode of the peer. */
export function runTorch(s: TorchSetup, mode: BenchMode, timing: { warmup?: number; steps?: number; reps?: number } = {}): TorchRun {
  const args = ['--mode', mode];
  if (timing.warmup !== undefined) args.push('--warmup', String(timing.warmup));
  if (timing.steps !== undefined) args.push('--steps', String(timing.steps));
  if (timing.reps !== undefined) args.push('--reps', String(timing.reps));
  return runScript(s, args) as unknown as TorchRun;
}

/** What torch_stories_lora.py prints (the fields used here). */
export interface TorchStoriesRun {
  task: 'seq-cls' | 'lm';
  steps: number;
  batch: number;
  seconds: number;
  seq_per_s: number;
  tokens_per_s: number;
  padded_tokens_per_s: number;
  threads: number;
  torch: string;
  loss_last: number;
}

/** ../shared/bench/torch_stories_lora.py, beside torch_lora.py. */
export function storiesTorchScript(script: string): string {
  return join(dirname(resolve(script)), 'torch_stories_lora.py');
}

/** One run of torch_stories_lora.py on `model` (a LLaMA model directory). */
export function runTorchStories(
  s: TorchSetup, model: string, task: 'seq-cls' | 'lm', steps: number, warmup: number, lengths: string,
): TorchStoriesRun {
  const args = ['--model', model, '--task', task, '--steps', String(steps), '--warmup', String(warmup)];
  if (task === 'seq-cls') args.push('--lengths', lengths);
  return runScript({ ...s, script: storiesTorchScript(s.script) }, args) as unknown as TorchStoriesRun;
}

/** `torch_lora.py --dump DIR`: its weights, batch, logits and losses over 3 AdamW steps. */
export function runTorchDump(s: TorchSetup, dir: string): { loss0: number; losses: number[] } {
  return runScript(s, ['--dump', dir]) as unknown as { loss0: number; losses: number[] };
}
