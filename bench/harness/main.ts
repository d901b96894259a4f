// `npm run bench`: the speed of peft's training engine against the PyTorch peer, in one run.
// Run with tsx from the package root (`node --expose-gc --import tsx bench/harness/main.ts`);
// the harness is not part of the shipped dist/. Options: USAGE below (`npm run bench -- --help`).
//
// For every backend that loads: LoRA training, full fine-tuning and inference on the BERT-style
// workload of ../shared/bench/torch_lora.py and on stories260K; parity of the bench model with
// the reference's dump; the PyTorch reference itself when /usr/bin/python3 imports torch, and the
// ratio per mode; the load benchmark; a profile summary. Each figure waits until other processes
// leave the cores alone (./quiet.ts) and is taken again if they did not meanwhile.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, listBackends } from '../../src/engine/backend/index.js';
import { BENCH_CONFIG, BENCH_GFLOP } from './workload.js';
import type { BenchMode } from './trainer.js';
import { benchBert, benchStories, loraStepper, type SuiteOptions } from './suite.js';
import { DEBIAN_PYTHON, PACKAGE_ROOT, defaultTorchScript, runTorch, runTorchDump, torchStatus, type TorchSetup } from './torch.js';
import { readTorchDump } from './dump.js';
import { checkParity } from './parity.js';
import { storiesWorkload } from './stories.js';
import { benchShippedRecipes } from './stories-recipes.js';
import { runLoadBench } from './load.js';
import { formatProfile, profileStep } from './profile.js';
import { timeSteps } from './timing.js';
import { measureQuietly, waitQuiet, type QuietOptions } from './quiet.js';
import { benchSelective, formatSelective } from './selective.js';
import {
  formatResults, load1, machine, profileSummary, ratioOf, torchFigures, writeResults,
  type BackendFigures, type BenchResults, type TorchFigures, type TorchMeasured,
} from './report.js';

const USAGE = `npm run bench [-- OPTIONS]   (bench/README.md says what is measured)

  npm run bench                      everything; writes bench/results.json
  npm run bench -- --profile         only the kernel-by-kernel profile of the LoRA step (default backend)
  npm run bench -- --quick           fewer steps (a smoke test; the figures are rough)
  npm run bench -- --selective       only the selective presets next to LoRA and full fine-tuning (updates FILE's "selective")
  npm run bench -- --stories         only the shipped stories260K recipes against their PyTorch peer (updates FILE's "stories")

options: --backends native,wasm   --quick   --cpu-full   --no-torch   --no-parity   --no-stories
         --no-load   --no-selective   --stories-reps N (default 3; medians)   --out FILE   --python PATH   --torch-script PATH (default ../shared/bench/torch_lora.py;
         env PEFT_TORCH_SCRIPT)   --quiet-limit CORES (default 0.15)   --no-wait   --help`;

interface Args {
  help: boolean;
  profile: boolean;
  backends: string[] | null;
  quick: boolean;
  cpuFull: boolean;
  torch: boolean;
  parity: boolean;
  stories: boolean;
  load: boolean;
  selective: boolean;
  selectiveOnly: boolean;
  /** Only the shipped-recipe section (updates the results file's "stories"), run this many times. */
  storiesOnly: boolean;
  storiesReps: number;
  out: string;
  /** Cores other processes may use while a figure is taken; null: do not wait. */
  quietLimit: number | null;
  python: string;
  script: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    help: false, profile: false, backends: null, quick: false, cpuFull: false, torch: true, parity: true, stories: true, load: true,
    selective: true, selectiveOnly: false, storiesOnly: false, storiesReps: 3,
    out: join(PACKAGE_ROOT, 'bench', 'results.json'), quietLimit: 0.15, python: DEBIAN_PYTHON, script: defaultTorchScript(),
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === '--help' || k === '-h') a.help = true;
    else if (k === '--profile') a.profile = true;
    else if (k === '--backends') a.backends = value().split(',').filter(Boolean);
    else if (k === '--quick') a.quick = true;
    else if (k === '--cpu-full') a.cpuFull = true;
    else if (k === '--no-torch') a.torch = false;
    else if (k === '--no-parity') a.parity = false;
    else if (k === '--no-stories') a.stories = false;
    else if (k === '--no-load') a.load = false;
    else if (k === '--no-selective') a.selective = false;
    else if (k === '--selective') a.selectiveOnly = true;
    else if (k === '--stories') a.storiesOnly = true;
    else if (k === '--stories-reps') a.storiesReps = Math.max(1, Number(value()) || 1);
    else if (k === '--out') a.out = value();
    else if (k === '--quiet-limit') a.quietLimit = Number(value());
    else if (k === '--no-wait') a.quietLimit = null;
    else if (k === '--python') a.python = value();
    else if (k === '--torch-script') a.script = value();
    else throw new Error(`unknown option ${k} (npm run bench -- --help)`);
  }
  return a;
}

const log = (line: string) => console.log(line);
/** Steps of the selective section: fewer than the main modes' (seven methods, some with several passes per step). */
const selectiveTiming = (quick: boolean) => (quick ? { warmup: 1, reps: 1, steps: 2, budgetSec: 10 } : { warmup: 2, reps: 3, steps: 5, budgetSec: 40 });
const loads = () => loadavg().map((x) => Number(x.toFixed(2)));

function hasAvx512(): boolean {
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags')) ?? '';
    return /\bavx512f\b/.test(flags);
  } catch {
    return false;
  }
}

/** The kernel profile of the LoRA step on the default backend (printed; summary returned). */
async function runProfile(quiet: QuietOptions | null): Promise<BenchResults['profile']> {
  const info = await initBackend();
  if (quiet) await waitQuiet(quiet);
  const { stepper, dispose } = loraStepper();
  try {
    const t = timeSteps(() => stepper.run(), { warmup: 3, reps: 1, steps: 5, budgetSec: 20 });
    let grads = new Map<string, tf.Tensor>();
    const p = await profileStep([
      { name: 'forward + backward', run: () => void ({ grads } = stepper.gradients()) },
      { name: 'AdamW', run: () => { stepper.apply(grads); tf.dispose([...grads.values()]); } },
    ], { steps: 3, stepMs: t.stepMedianS * 1000 });
    log(formatProfile(p, `LoRA step of the BERT-style workload (${info.threads} threads, load ${load1()})`));
    return profileSummary(p);
  } finally {
    dispose();
  }
}

/** The peer's runs, one mode at a time (as the default backend finishes the same mode). */
class TorchRuns {
  readonly runs: Partial<Record<BenchMode, TorchMeasured>> = {};
  readonly timing: { warmup: number; steps: number; reps: number };
  constructor(readonly setup: TorchSetup, readonly label: string, quick: boolean) {
    this.timing = quick ? { warmup: 1, steps: 3, reps: 1 } : { warmup: 3, steps: 10, reps: 3 };
  }

  async run(mode: BenchMode, quiet: QuietOptions | null): Promise<void> {
    const q = await measureQuietly(() => runTorch(this.setup, mode, this.timing), quiet);
    const r: TorchMeasured = { ...q.value, others_cores: q.othersCores, load1: load1() };
    this.runs[mode] = r;
    log(`  torch ${this.label} ${mode}: ${r.seq_per_s_median} seq/s, step ${(r.step_s_median * 1000).toFixed(1)} ms (others ${r.others_cores} cores, load ${load1()})`);
  }

  figures(): TorchFigures | undefined {
    return torchFigures(this.runs, this.label, BENCH_GFLOP, this.timing);
  }
}

async function main(): Promise<void> {
  tf.env().set('PROD', true);
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    log(USAGE);
    return;
  }
  if (args.profile) {
    await runProfile(args.quietLimit === null ? null : { limit: args.quietLimit, maxWaitS: 300, attempts: 1, log });
    return;
  }
  if (args.selectiveOnly) {
    const info = await initBackend(args.backends?.[0]);
    const figures = await benchSelective(selectiveTiming(args.quick), args.quietLimit === null ? null : { limit: args.quietLimit, maxWaitS: 900, attempts: 3, log }, log);
    const previous = existsSync(args.out) ? JSON.parse(readFileSync(args.out, 'utf8')) as BenchResults : null;
    if (previous) writeResults(args.out, { ...previous, selective: { backend: info.name, threads: info.threads, figures } });
    log(`\n${formatSelective(figures, info.name)}${previous ? `\n\nupdated the selective figures in ${args.out}` : ''}`);
    return;
  }
  if (args.storiesOnly) {
    const def = (await initBackend(args.backends?.[0])).name;
    const torch = args.torch ? torchStatus(args.python, args.script) : { ok: false as const, reason: '--no-torch' };
    const setup: TorchSetup = { python: args.python, script: args.script, threads: 2 };
    const storyPeers = torch.ok
      ? [{ setup, label: process.env.OPENBLAS_CORETYPE ?? 'auto' }, ...(hasAvx512() ? [{ setup: { ...setup, coretype: 'SkylakeX' }, label: 'SkylakeX' }] : [])]
      : [];
    log(`shipped stories260K recipes on ${def} (peer: torch_stories_lora.py), ${args.quick ? 1 : args.storiesReps} runs each`);
    const shipped = await benchShippedRecipes({
      backend: def, steps: args.quick ? 20 : 200, warmup: args.quick ? 2 : 5, peers: storyPeers, log, reps: args.quick ? 1 : args.storiesReps,
      quiet: args.quietLimit === null ? null : { limit: args.quietLimit, maxWaitS: 900, attempts: 3, log },
    });
    const previous = existsSync(args.out) ? JSON.parse(readFileSync(args.out, 'utf8')) as BenchResults : null;
    if (previous) writeResults(args.out, { ...previous, stories: shipped });
    if (previous) log(`updated the stories figures in ${args.out}`);
    return;
  }
  const loadBefore = loads();
  log(`peft bench — load average ${loadBefore.join(' ')} (run it on a quiet machine)`);
  const status = await listBackends();
  const available = status.filter((s) => s.available).map((s) => s.name as string);
  for (const s of status) if (!s.available && !s.notInstalled) log(`backend ${s.name} unavailable: ${s.reason}`);
  const backends = args.backends ? args.backends.filter((b) => available.includes(b)) : available;
  const def = (await initBackend()).name;
  // the default backend first
  backends.sort((a, b) => (a === def ? -1 : b === def ? 1 : 0));
  // the figures at the top of results.json and the torch ratios are this one's
  const lead = backends[0];
  if (!lead) throw new Error(`none of ${args.backends?.join(', ')} loads here (available: ${available.join(', ')})`);
  const torch = args.torch ? torchStatus(args.python, args.script) : { ok: false as const, reason: '--no-torch' };
  const setup: TorchSetup = { python: args.python, script: args.script, threads: 2 };
  const peers = torch.ok ? [new TorchRuns(setup, process.env.OPENBLAS_CORETYPE ?? 'auto', args.quick)] : [];
  if (torch.ok && hasAvx512()) peers.push(new TorchRuns({ ...setup, coretype: 'SkylakeX' }, 'SkylakeX', args.quick));
  let torchSkipped: string | undefined = torch.ok ? undefined : torch.reason;
  const quiet: QuietOptions | null = args.quietLimit === null ? null : { limit: args.quietLimit, maxWaitS: 900, attempts: 3, log };
  const afterMode = async (backend: string, mode: BenchMode) => {
    if (backend !== lead || torchSkipped) return;
    try {
      for (const p of peers) await p.run(mode, quiet);
    } catch (e) {
      torchSkipped = (e as Error).message;
    }
  };
  const o: SuiteOptions = { quick: args.quick, cpuFull: args.cpuFull, log, quiet, afterMode };

  // what needs a quiet machine most comes first: the lead backend with the peer, its profile
  const results: Record<string, BackendFigures> = {};
  let profile: BenchResults['profile'];
  for (const b of backends) {
    log(`BERT-style workload on ${b}`);
    results[b] = await benchBert(b, o);
    const detail = status.find((x) => x.name === b)?.detail;
    if (detail) results[b].detail = detail;
    if (b === lead && b === def) profile = await runProfile(quiet);
  }
  const torchMain = torchSkipped ? undefined : peers[0]?.figures();
  const torchAvx = torchSkipped ? undefined : peers[1]?.figures();

  // the shipped recipes' workloads, each with the PyTorch peer right after it
  let shipped: BenchResults['stories'] = { skipped: '--no-stories' };
  if (args.stories) {
    log(`shipped stories260K recipes on ${def} (peer: torch_stories_lora.py)`);
    const storyPeers = torch.ok
      ? [{ setup, label: process.env.OPENBLAS_CORETYPE ?? 'auto' }, ...(hasAvx512() ? [{ setup: { ...setup, coretype: 'SkylakeX' }, label: 'SkylakeX' }] : [])]
      : [];
    shipped = await benchShippedRecipes({
      backend: def, steps: args.quick ? 20 : 200, warmup: args.quick ? 2 : 5, peers: storyPeers, quiet, log, reps: args.quick ? 1 : args.storiesReps,
    });
  }

  let stories: BenchResults['stories260K'] = { skipped: '--no-stories' };
  if (args.stories) {
    const w = await storiesWorkload();
    const sb: Record<string, BackendFigures> = {};
    for (const b of backends) {
      log(`stories260K on ${b}`);
      sb[b] = await benchStories(b, w, o);
    }
    w.dispose();
    stories = { batch: 16, seq: 128, backends: sb };
  }

  const parity: BenchResults['parity'] = {};
  let paritySkipped: string | null = !args.parity ? '--no-parity' : torch.ok ? null : torch.reason;
  if (!paritySkipped) {
    const dir = mkdtempSync(join(tmpdir(), 'peft-bench-dump-'));
    try {
      runTorchDump(setup, dir);
      const dump = readTorchDump(dir);
      for (const b of backends) {
        await initBackend(b);
        try {
          // pure JS: the forward pass only (a LoRA step takes about half a minute there)
          (parity as Record<string, unknown>)[b] = checkParity(dump, b === 'cpu' ? 0 : 3);
        } catch (e) {
          (parity as Record<string, unknown>)[b] = { error: (e as Error).message };
        }
        log(`parity on ${b}: ${JSON.stringify((parity as Record<string, unknown>)[b]).slice(0, 160)}…`);
      }
    } catch (e) {
      paritySkipped = `dump failed: ${(e as Error).message}`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  let selective: BenchResults['selective'] = { skipped: '--no-selective' };
  if (args.selective) {
    const info = await initBackend(lead);
    log(`selective presets on ${lead}`);
    selective = { backend: info.name, threads: info.threads, figures: await benchSelective(selectiveTiming(args.quick), quiet, log) };
  }

  const loadBench: BenchResults['load'] = args.load ? runLoadBench(backends, { log }) : { skipped: '--no-load' };

  const top = results[lead]?.modes ?? {};
  const out: BenchResults = {
    date: new Date().toISOString(),
    machine: { ...machine(), load_before: loadBefore, load_after: loads() },
    workload: { ...BENCH_CONFIG, gflop_per_step: BENCH_GFLOP, reference: 'torch_lora.py (../shared/bench)' },
    backend: lead, threads: results[lead]?.threads ?? 0, ...top,
    ...(torchMain ? { torch: torchMain, ratio: ratioOf(top, torchMain) } : {}),
    ...(torchAvx ? { torch_avx512: torchAvx, ratio_avx512: ratioOf(top, torchAvx) } : {}),
    ...(torchSkipped ? { torch_skipped: torchSkipped } : {}),
    backends: results, stories: shipped, stories260K: stories,
    parity: paritySkipped ? { skipped: paritySkipped } : parity,
    load: loadBench, profile, selective,
  };
  writeResults(args.out, out);
  log('');
  log(formatResults(out));
  if (selective && 'figures' in selective) log(`\n${formatSelective(selective.figures, selective.backend)}`);
  log(`\nwrote ${args.out}`);
}

await main();
