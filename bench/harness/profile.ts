// Kernel-by-kernel profile of a bench step on the active backend: `tf.profile` kernel times
// summed by kernel name (registered kernels only: a customGrad op shows up both as its scope and
// as the kernels it runs, the scope is left out), matmul GFLOP/s from the recorded shapes, and the
// wall time no kernel accounts for — the engine's overhead (tape, gradient bookkeeping, tensor
// creation and disposal, JS glue between kernels).
import * as tf from '@tensorflow/tfjs-core';

export interface KernelRow {
  kernel: string;
  calls: number;
  ms: number;
  /** Matmul kernels: GFLOP run (2 per multiply-add). */
  gflop?: number;
}

export interface StepProfile {
  backend: string;
  /** Steps profiled (times are per step). */
  steps: number;
  kernels: KernelRow[];
  phases: PhaseRow[];
  kernelMs: number;
  /** Wall time of a profiled step. */
  profiledWallMs: number;
  /** Wall time of an unprofiled step (the bench's median), when given: the profiler's own cost shows against it. */
  stepMs: number | null;
  /** Profiled wall − kernel time (both from the same steps). */
  overheadMs: number;
  matmulMs: number;
  matmulGflop: number;
}

const MATMULS = new Set(['BatchMatMul', '_FusedMatMul']);

/** FLOPs of a product from its shapes: out [.., m, n], a holding m·k per batch entry. */
function matmulFlop(inputShapes: (number[] | null)[], outputShapes: number[][]): number {
  const a = inputShapes[0];
  const out = outputShapes[0];
  if (!a || !out || out.length < 2) return 0;
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
  const m = out[out.length - 2];
  const batchA = size(a.slice(0, -2));
  const k = size(a) / (batchA * m);
  return 2 * size(out) * k;
}

/** A part of the step profiled on its own (forward + backward, the optimizer step, …). */
export interface Phase {
  name: string;
  run: () => void;
}

export interface PhaseRow {
  phase: string;
  wallMs: number;
  kernelMs: number;
}

/** Profiles `steps` steps (already warmed up), each running the phases in order. */
export async function profileStep(phases: Phase[], opts: { steps?: number; stepMs?: number } = {}): Promise<StepProfile> {
  const steps = opts.steps ?? 1;
  const backend = tf.getBackend();
  const registered = new Set(tf.getKernelsForBackend(backend).map((k) => k.kernelName));
  const rows = new Map<string, KernelRow>();
  const phaseRows = phases.map((p) => ({ phase: p.name, wallMs: 0, kernelMs: 0 }));
  for (let i = 0; i < steps; i++) {
    for (const [j, phase] of phases.entries()) {
      const t0 = performance.now();
      const info = await tf.profile(() => phase.run());
      phaseRows[j].wallMs += (performance.now() - t0) / steps;
      for (const k of info.kernels) {
        if (!registered.has(k.name)) continue;
        const ms = (k.kernelTimeMs as number) / steps;
        phaseRows[j].kernelMs += ms;
        const row = rows.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
        row.calls += 1 / steps;
        row.ms += ms;
        if (MATMULS.has(k.name)) row.gflop = (row.gflop ?? 0) + matmulFlop(k.inputShapes, k.outputShapes) / 1e9 / steps;
        rows.set(k.name, row);
      }
    }
  }
  const kernels = [...rows.values()].sort((a, b) => b.ms - a.ms);
  const kernelMs = kernels.reduce((s, r) => s + r.ms, 0);
  const wallMs = phaseRows.reduce((s, r) => s + r.wallMs, 0);
  const mm = kernels.filter((r) => MATMULS.has(r.kernel));
  return {
    backend, steps, kernels, phases: phaseRows, kernelMs, profiledWallMs: wallMs, stepMs: opts.stepMs ?? null,
    overheadMs: wallMs - kernelMs,
    matmulMs: mm.reduce((s, r) => s + r.ms, 0),
    matmulGflop: mm.reduce((s, r) => s + (r.gflop ?? 0), 0),
  };
}

export function formatProfile(p: StepProfile, title: string, limit = 20): string {
  const base = p.profiledWallMs;
  const pct = (ms: number) => `${((100 * ms) / base).toFixed(1).padStart(5)}%`;
  const lines = [
    `${title} — kernel profile on ${p.backend} (tf.profile, per step, mean of ${p.steps})`,
    `${'kernel'.padEnd(26)} ${'calls'.padStart(6)} ${'ms'.padStart(9)} ${'of step'.padStart(8)}  GFLOP/s`,
  ];
  for (const r of p.kernels.slice(0, limit)) {
    const gf = r.gflop ? ((r.gflop * 1000) / r.ms).toFixed(0).padStart(7) : '';
    lines.push(`${r.kernel.padEnd(26)} ${r.calls.toFixed(0).padStart(6)} ${r.ms.toFixed(1).padStart(9)} ${pct(r.ms).padStart(8)}  ${gf}`);
  }
  const rest = p.kernels.slice(limit);
  if (rest.length) {
    const ms = rest.reduce((s, r) => s + r.ms, 0);
    lines.push(`${`(${rest.length} more kernels)`.padEnd(26)} ${rest.reduce((s, r) => s + r.calls, 0).toFixed(0).padStart(6)} ${ms.toFixed(1).padStart(9)} ${pct(ms).padStart(8)}`);
  }
  const other = p.kernelMs - p.matmulMs;
  lines.push(`phases: ${p.phases.map((r) => `${r.phase} ${r.wallMs.toFixed(1)} ms (kernels ${r.kernelMs.toFixed(1)})`).join('; ')}`);
  lines.push(
    `kernels ${p.kernelMs.toFixed(1)} ms = matmul ${p.matmulMs.toFixed(1)} ms (${p.matmulGflop.toFixed(2)} GFLOP, ${((p.matmulGflop * 1000) / Math.max(p.matmulMs, 1e-9)).toFixed(0)} GFLOP/s) + other kernels ${other.toFixed(1)} ms`,
    `profiled step ${base.toFixed(1)} ms − kernels = engine overhead ${p.overheadMs.toFixed(1)} ms (${pct(p.overheadMs).trim()})` +
      (p.stepMs !== null ? `; unprofiled step (median) ${p.stepMs.toFixed(1)} ms` : ''),
  );
  return lines.join('\n');
}
