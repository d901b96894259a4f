// What one bench run measured, as bench/results.json holds it, and as the table it prints.
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { BenchMode } from './trainer.js';
import type { Timing } from './timing.js';
import type { TorchRun } from './torch.js';
import type { ParityResult } from './parity.js';
import type { LoadBench } from './load.js';
import type { StepProfile } from './profile.js';
import type { StoriesFigures, StoriesTask } from './stories-recipes.js';

/** One mode on one implementation. */
export interface ModeFigures {
  seq_per_s: number;
  seq_per_s_best: number;
  tok_per_s: number;
  /** Median over repetitions of each repetition's median step, ms. */
  step_ms: number;
  step_ms_best: number;
  rep_medians_ms: number[];
  steps_per_rep: number;
  reps: number;
  warmup: number;
  /** Matmul GFLOP/s at the median step (README's FLOP counts; BERT-style workload only). */
  gflop_per_s?: number;
  trainable_params?: number;
  total_params?: number;
  /** Machine load average (1 min) when the mode finished. */
  load1: number;
  /** Cores other processes kept busy on average while the figure was taken (./quiet.ts). */
  others_cores?: number;
}

export type ModeTable = Partial<Record<BenchMode, ModeFigures>>;

export interface BackendFigures {
  backend: string;
  threads: number;
  detail?: string;
  modes: ModeTable;
  /** Modes not run, and why. */
  skipped: Partial<Record<BenchMode, string>>;
}

export interface TorchFigures extends ModeTable {
  version: string;
  threads: number;
  blas: string;
  coretype: string;
}

export interface BenchResults {
  date: string;
  machine: { cpu: string; cores: number; node: string; load_before: number[]; load_after: number[] };
  workload: Record<string, unknown>;
  /** The default backend's figures at the top (what the issue's targets are about). */
  backend: string;
  threads: number;
  lora?: ModeFigures;
  full?: ModeFigures;
  infer?: ModeFigures;
  /** PyTorch as the bench README's command runs it (OpenBLAS-openmp, the environment's core type). */
  torch?: TorchFigures;
  /** default backend / torch, seq/s per mode. */
  ratio?: ModeRatio;
  /** PyTorch with OPENBLAS_CORETYPE=SkylakeX (AVX-512), when the CPU has it: the like-for-like peer of native's SkylakeX kernels. */
  torch_avx512?: TorchFigures;
  ratio_avx512?: ModeRatio;
  torch_skipped?: string;
  backends: Record<string, BackendFigures>;
  /** The shipped stories260K recipes (SST-2 classification, Tiny Shakespeare LM) against torch_stories_lora.py. */
  stories: Partial<Record<StoriesTask, StoriesFigures>> | { skipped: string };
  stories260K: { batch: number; seq: number; backends: Record<string, BackendFigures> } | { skipped: string };
  parity: Record<string, ParityResult | { error: string }> | { skipped: string };
  load: LoadBench | { skipped: string };
  /** The selective presets next to LoRA and full fine-tuning (./selective.ts). */
  selective?: { backend: string; threads: number; figures: Record<string, import('./selective.js').SelectiveFigures> } | { skipped: string };
  profile?: { backend: string; step_ms: number; profiled_step_ms: number; kernel_ms: number; matmul_ms: number; matmul_gflop_per_s: number; overhead_ms: number; phases: { phase: string; wall_ms: number; kernel_ms: number }[]; top: { kernel: string; calls: number; ms: number }[] };
}

export type ModeRatio = Partial<Record<BenchMode, number>>;

export function load1(): number {
  return Number(loadavg()[0].toFixed(2));
}

export function machine(): Pick<BenchResults['machine'], 'cpu' | 'cores' | 'node'> {
  const c = cpus();
  return { cpu: c[0]?.model ?? 'unknown', cores: c.length, node: process.version };
}

const r2 = (x: number) => Number(x.toFixed(2));

export function figuresOf(
  t: Timing, batch: number, seq: number, extra: { gflop?: number; trainable?: number; total?: number; others?: number } = {},
): ModeFigures {
  const f: ModeFigures = {
    seq_per_s: r2(batch / t.stepMedianS), seq_per_s_best: r2(batch / t.stepBestS), tok_per_s: Math.round((batch * seq) / t.stepMedianS),
    step_ms: Number((t.stepMedianS * 1000).toFixed(1)), step_ms_best: Number((t.stepBestS * 1000).toFixed(1)),
    rep_medians_ms: t.repMediansS.map((s) => Number((s * 1000).toFixed(1))), steps_per_rep: t.stepsPerRep, reps: t.reps, warmup: t.warmup,
    load1: load1(),
  };
  if (extra.gflop !== undefined) f.gflop_per_s = r2(extra.gflop / t.stepMedianS);
  if (extra.trainable !== undefined) f.trainable_params = extra.trainable;
  if (extra.total !== undefined) f.total_params = extra.total;
  if (extra.others !== undefined) f.others_cores = extra.others;
  return f;
}

/** A peer run with when it was taken: cores other processes used meanwhile, the load average after. */
export type TorchMeasured = TorchRun & { others_cores: number; load1: number };

export function torchFigures(
  runs: Partial<Record<BenchMode, TorchMeasured>>, coretype: string, gflop: Record<BenchMode, number>,
  timing: { warmup: number; steps: number },
): TorchFigures | undefined {
  const any = Object.values(runs)[0];
  if (!any) return undefined;
  const out: TorchFigures = { version: any.torch, threads: any.threads, blas: 'openblas-openmp', coretype };
  for (const [mode, r] of Object.entries(runs) as [BenchMode, TorchMeasured][]) {
    out[mode] = {
      seq_per_s: r.seq_per_s_median, seq_per_s_best: r.seq_per_s_best, tok_per_s: Math.round(r.tok_per_s_median),
      step_ms: Number((r.step_s_median * 1000).toFixed(1)), step_ms_best: Number((r.step_s_min * 1000).toFixed(1)),
      rep_medians_ms: r.step_s_rep_medians.map((s) => Number((s * 1000).toFixed(1))), steps_per_rep: timing.steps,
      reps: r.step_s_rep_medians.length, warmup: timing.warmup, gflop_per_s: r2(gflop[mode] / r.step_s_median),
      trainable_params: r.trainable_params, total_params: r.total_params, load1: r.load1, others_cores: r.others_cores,
    };
  }
  return out;
}

export function ratioOf(ours: ModeTable, peer: ModeTable | undefined): ModeRatio | undefined {
  if (!peer) return undefined;
  const out: ModeRatio = {};
  for (const m of ['lora', 'full', 'infer'] as const) {
    const a = ours[m];
    const b = peer[m];
    if (a && b) out[m] = Number((a.seq_per_s / b.seq_per_s).toFixed(3));
  }
  return out;
}

export function writeResults(path: string, r: BenchResults): void {
  writeFileSync(path, JSON.stringify(r, null, 2) + '\n');
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
}

const W = [20, 6, 4, 9, 8, 9, 8, 7, 9];
const HEADER = row(['implementation', 'mode', 'thr', 'seq/s', 'tok/s', 'step ms', 'GFLOP/s', 'others', 'vs torch'], W);

function modeRows(name: string, threads: number, t: ModeTable, skipped: Partial<Record<BenchMode, string>>, peer?: ModeTable): string[] {
  const out: string[] = [];
  for (const m of ['lora', 'full', 'infer'] as const) {
    const f = t[m];
    if (!f) {
      if (skipped[m]) out.push(row([name, m, String(threads), '–', '', '', '', '', ''], W) + `  (${skipped[m]})`);
      continue;
    }
    const vs = peer?.[m] ? `${(f.seq_per_s / peer[m]!.seq_per_s).toFixed(2)}×` : '';
    out.push(row([name, m, String(threads), f.seq_per_s.toFixed(2), String(f.tok_per_s), f.step_ms.toFixed(1), f.gflop_per_s?.toFixed(1) ?? '', f.others_cores?.toFixed(2) ?? '', vs], W));
  }
  return out;
}

/** The printed summary of a run. */
export function formatResults(r: BenchResults): string {
  const lines: string[] = [];
  const w = r.workload;
  lines.push(`BERT-style workload: hidden ${w.hidden}, ${w.layers} layers, ${w.heads} heads, FFN ${w.intermediate}, vocab ${w.vocab}, batch ${w.batch} × ${w.seq}`);
  lines.push(HEADER);
  for (const b of Object.values(r.backends)) lines.push(...modeRows(b.backend, b.threads, b.modes, b.skipped, r.torch));
  if (r.torch) lines.push(...modeRows(`torch ${r.torch.coretype}`, r.torch.threads, r.torch, {}));
  if (r.torch_avx512) lines.push(...modeRows(`torch ${r.torch_avx512.coretype}`, r.torch_avx512.threads, r.torch_avx512, {}));
  if (r.torch) lines.push(`torch ${r.torch.version}, OpenBLAS-openmp, OPENBLAS_NUM_THREADS=${r.torch.threads}; 'vs torch' is against the first torch row`);
  if (r.torch_skipped) lines.push(`torch: not run (${r.torch_skipped})`);
  if (r.ratio) lines.push(`ratio ${r.backend}/torch (seq/s): ${fmtRatio(r.ratio)}`);
  if (r.ratio_avx512) lines.push(`ratio ${r.backend}/torch AVX-512 (seq/s): ${fmtRatio(r.ratio_avx512)}`);
  if ('skipped' in r.stories && typeof r.stories.skipped === 'string') lines.push('', `shipped recipes: ${r.stories.skipped}`);
  else {
    lines.push('', 'shipped stories260K recipes (batch 32; LoRA r=8 on all 7 projections), against torch_stories_lora.py in the same run:');
    for (const [task, f] of Object.entries(r.stories as Partial<Record<StoriesTask, StoriesFigures>>)) {
      if (!f) continue;
      const peer = f.torch_seq_per_s !== undefined ? `torch ${f.torch_seq_per_s} seq/s → ${f.ratio}×` : `torch: ${f.torch_skipped}`;
      lines.push(`  ${task.padEnd(6)} ${f.recipe}: peft ${f.seq_per_s} seq/s (${f.peft.tokens_per_s} tok/s, peak RSS ${f.peft.peak_rss_mb} MB), ${peer}`);
    }
  }
  if ('backends' in r.stories260K) {
    lines.push('', `stories260K (LLaMA, causal LM), Tiny Shakespeare, batch ${r.stories260K.batch} × ${r.stories260K.seq}`, HEADER);
    for (const b of Object.values(r.stories260K.backends)) lines.push(...modeRows(b.backend, b.threads, b.modes, b.skipped));
  } else lines.push('', `stories260K: ${r.stories260K.skipped}`);
  lines.push('', 'parity with torch_lora.py --dump (loss0, losses of 3 AdamW steps and after):');
  if ('skipped' in r.parity && typeof r.parity.skipped === 'string') lines.push(`  skipped: ${r.parity.skipped}`);
  else {
    for (const [b, p] of Object.entries(r.parity as Record<string, ParityResult | { error: string }>)) {
      if ('error' in p) lines.push(`  ${b}: error ${p.error}`);
      else lines.push(`  ${b}: max |Δloss| ${p.maxAbsDiff.toExponential(2)} (relative ${p.maxRelDiff.toExponential(2)}), max |Δlogit| ${p.logitsMaxAbsDiff.toExponential(2)}, ${p.losses.length ? `${p.losses.length - 1} steps` : 'forward only'}`);
    }
  }
  if ('runs' in r.load) {
    const l = r.load;
    lines.push('', `load: ${l.config}, ${(l.params / 1e6).toFixed(1)} M parameters, ${(l.weightBytes / 2 ** 20).toFixed(0)} MiB of weights in ${l.shards} shards`);
    for (const x of l.runs) {
      lines.push(`  ${x.backend.padEnd(7)} load ${x.loadS.toFixed(2)} s, peak RSS ${(x.maxRss / 2 ** 20).toFixed(0)} MiB = ${x.peakOverWeights.toFixed(2)}× weights; above the ${(x.baselineMaxRss / 2 ** 20).toFixed(0)} MiB baseline: peak ${x.addedOverWeights.toFixed(2)}×, kept ${x.keptOverWeights.toFixed(2)}×`);
    }
    for (const e of l.errors) lines.push(`  ${e}`);
  } else lines.push('', `load: ${r.load.skipped}`);
  if (r.profile) {
    const p = r.profile;
    lines.push('', `profile of the LoRA step on ${p.backend}: ${p.profiled_step_ms} ms profiled (${p.step_ms} ms unprofiled) = matmul ${p.matmul_ms} ms (${p.matmul_gflop_per_s} GFLOP/s) + other kernels ${(p.kernel_ms - p.matmul_ms).toFixed(1)} ms + engine overhead ${p.overhead_ms} ms`);
  }
  lines.push('', `machine: ${r.machine.cpu}, ${r.machine.cores} cores; load average before ${r.machine.load_before.join(' ')}, after ${r.machine.load_after.join(' ')}`);
  return lines.join('\n');
}

function fmtRatio(r: ModeRatio): string {
  return Object.entries(r).map(([m, v]) => `${m} ${v!.toFixed(2)}`).join(', ');
}

export function profileSummary(p: StepProfile): NonNullable<BenchResults['profile']> {
  return {
    backend: p.backend, step_ms: Number((p.stepMs ?? p.profiledWallMs).toFixed(1)), profiled_step_ms: Number(p.profiledWallMs.toFixed(1)), kernel_ms: Number(p.kernelMs.toFixed(1)),
    matmul_ms: Number(p.matmulMs.toFixed(1)), matmul_gflop_per_s: Number(((p.matmulGflop * 1000) / Math.max(p.matmulMs, 1e-9)).toFixed(1)),
    overhead_ms: Number(p.overheadMs.toFixed(1)),
    phases: p.phases.map((r) => ({ phase: r.phase, wall_ms: Number(r.wallMs.toFixed(1)), kernel_ms: Number(r.kernelMs.toFixed(1)) })),
    top: p.kernels.slice(0, 12).map((k) => ({ kernel: k.kernel, calls: Math.round(k.calls), ms: Number(k.ms.toFixed(2)) })),
  };
}
