// The compute backend: which tfjs backend runs the model, and the kernels the project adds.
//
// API for the engine (lead): call once, before building tensors:
//
//   import { initBackend } from './index.js';
//   const info = await initBackend(plan.backend);   // undefined = best available
//   if (info.fallbackNote) say(info.fallbackNote); // e.g. "native backend unavailable (…); using wasm"
//   // info.name ∈ tensorflow-gpu | tensorflow | native | wasm | cpu; info.threads is real
//
// Order without a request: tensorflow-gpu, tensorflow (optional packages), native (OpenBLAS
// addon), wasm, cpu. A forced backend that is unknown or fails is PeftError('BACKEND').
// `listBackends()` says which load and why the others do not (for `peft` to print).
//
// initBackend also registers tfjs-core's gradients and chained ops (`ensureGradients`,
// ./gradients.ts): the Node bundle of tfjs-core has neither, so tf.grad / tf.variableGrads /
// t.reshape() need this first. Code that trains without initBackend (a unit test on cpu, say)
// calls `await ensureGradients()`.
//
// Fused ops for the model code — the largest remaining win once matmul is fast (bench step
// ~200 → ~125 ms on native here): `gelu(x, 'tanh' | 'none')` and `layerNorm(x, w, b, eps)`
// are one kernel forward and one backward on native, and the same composite maths as plain
// tfjs ops elsewhere (./fused).
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { PeftError } from '../../errors.js';
import { ensureGradients } from './gradients.js';
import { BACKEND_ORDER, type BackendInfo, type BackendName, type BackendStatus } from './types.js';

export { BACKEND_ORDER, type BackendInfo, type BackendName, type BackendStatus } from './types.js';
export { ensureGradients } from './gradients.js';
export { gelu, layerNorm, rmsNorm, swiglu, rowNll, loraLinear, attention, fusedAttentionAvailable, adamUpdate, sumSquares } from './fused/index.js';

/** A backend that prepared: its tfjs registry name, live thread count and a detail line. */
interface Prepared {
  tfName: string;
  threads: () => number;
  detail: string;
}

class NotInstalled extends Error {}

function isModuleNotFound(e: unknown, pkg: string): boolean {
  const err = e as { code?: string; message?: string };
  return (
    (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') &&
    typeof err.message === 'string' &&
    err.message.includes(pkg)
  );
}

async function prepareTensorflow(pkg: string): Promise<Prepared> {
  try {
    // A variable specifier: these optional packages have no types and may be absent.
    const spec: string = pkg;
    await import(spec);
  } catch (e) {
    if (isModuleNotFound(e, pkg)) throw new NotInstalled(`${pkg} not installed`);
    throw new Error(`${pkg} failed to load: ${firstLine(e)}`);
  }
  if (!(tf.engine().registryFactory as Record<string, unknown>)['tensorflow']) {
    throw new Error(`${pkg} loaded but registered no 'tensorflow' backend`);
  }
  // libtensorflow's intra-op pool defaults to one thread per core.
  return { tfName: 'tensorflow', threads: () => availableParallelism(), detail: pkg };
}

const PREPARE: Record<BackendName, () => Promise<Prepared>> = {
  'tensorflow-gpu': () => prepareTensorflow('@tensorflow/tfjs-node-gpu'),
  tensorflow: () => prepareTensorflow('@tensorflow/tfjs-node'),
  native: async () => (await import('./native/index.js')).prepareNative(),
  wasm: async () => (await import('./wasm.js')).prepareWasm(),
  cpu: async () => ({ tfName: 'cpu', threads: () => 1, detail: 'pure JS' }),
};

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0];
}

/** Per backend: prepared once; the outcome is remembered. */
const outcomes = new Map<BackendName, Promise<{ ok: Prepared } | { error: Error }>>();

function prepare(name: BackendName): Promise<{ ok: Prepared } | { error: Error }> {
  let p = outcomes.get(name);
  if (!p) {
    p = (async () => {
      try {
        const prepared = await PREPARE[name]();
        // Initialise it now (wasm compiles its module here); restore whatever was active.
        const previous = tf.engine().backendName;
        const ok = await tf.setBackend(prepared.tfName);
        if (previous && previous !== prepared.tfName) await tf.setBackend(previous);
        if (!ok) throw new Error(`tfjs could not initialise the '${prepared.tfName}' backend`);
        return { ok: prepared };
      } catch (e) {
        return { error: e instanceof Error ? e : new Error(String(e)) };
      }
    })();
    outcomes.set(name, p);
  }
  return p;
}

function isBackendName(s: string): s is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(s);
}

/** Which backends load on this machine, and why the others do not. Loads each (once). */
export async function listBackends(): Promise<BackendStatus[]> {
  const out: BackendStatus[] = [];
  for (const name of BACKEND_ORDER) {
    const r = await prepare(name);
    if ('ok' in r) {
      out.push({ name, available: true, threads: r.ok.threads(), detail: r.ok.detail });
    } else {
      out.push({
        name,
        available: false,
        reason: r.error.message,
        ...(r.error instanceof NotInstalled ? { notInstalled: true } : {}),
      });
    }
  }
  return out;
}

let chosen: { request: string | undefined; info: BackendInfo } | null = null;

/**
 * Chooses, initialises and activates the backend. `requested` forces one (see BACKEND_ORDER);
 * without it the first that loads wins, and `fallbackNote` says which preferred ones were
 * skipped and why (optional packages that are simply not installed are not mentioned).
 */
export async function initBackend(requested?: string): Promise<BackendInfo> {
  await ensureGradients();
  const request = requested === undefined || requested === '' || requested === 'auto' ? undefined : requested;
  if (chosen && chosen.request === request) {
    await tf.setBackend(tfNameOf(chosen.info.name));
    return chosen.info;
  }
  if (request !== undefined) {
    if (!isBackendName(request)) {
      throw new PeftError('BACKEND', `unknown backend "${request}"`, {
        hint: `choose one of ${BACKEND_ORDER.join(', ')}; available here: ${(await availableNames()).join(', ')}`,
      });
    }
    const r = await prepare(request);
    if ('error' in r) {
      throw new PeftError('BACKEND', `backend "${request}" is unavailable: ${r.error.message}`, {
        hint: `available here: ${(await availableNames()).join(', ')}`,
      });
    }
    return activate(request, r.ok, null, request);
  }
  const skipped: string[] = [];
  for (const name of BACKEND_ORDER) {
    const r = await prepare(name);
    if ('ok' in r) {
      const note = skipped.length ? `${skipped.join('; ')}; using ${name}` : null;
      return activate(name, r.ok, note, request);
    }
    if (!(r.error instanceof NotInstalled)) skipped.push(`${name} backend unavailable (${r.error.message})`);
  }
  // cpu always prepares; reaching here means tfjs itself is broken.
  throw new PeftError('BACKEND', 'no tfjs backend could be initialised', { hint: 'reinstall with `npm ci`' });
}

/**
 * Lets go of buffers the active backend keeps for reuse (the native backend's pool), when the
 * work that reused them is over: what comes next (the loss figure, another trial) does not
 * start with a training step's worth of idle memory.
 */
export function releaseCachedBuffers(): void {
  (tf.backend() as { trimPool?(): void }).trimPool?.();
}

const tfNames = new Map<string, string>();

function tfNameOf(name: string): string {
  return tfNames.get(name) ?? name;
}

async function activate(
  name: BackendName,
  p: Prepared,
  fallbackNote: string | null,
  request: string | undefined,
): Promise<BackendInfo> {
  if (!(await tf.setBackend(p.tfName))) {
    throw new PeftError('BACKEND', `backend "${name}" failed to initialise`, { hint: 'try --backend cpu' });
  }
  tfNames.set(name, p.tfName);
  const info: BackendInfo = { name, threads: p.threads(), fallbackNote };
  chosen = { request, info };
  return info;
}

async function availableNames(): Promise<string[]> {
  return (await listBackends()).filter((s) => s.available).map((s) => s.name);
}
