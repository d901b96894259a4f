// The load benchmark (issue "backbones" item 7): a ~110 M-parameter BERT-base-like checkpoint
// with random weights, written by the project's own sharded safetensors writer, then loaded with
// `loadBackbone` in a fresh child process per backend (./load-child.ts), recording load time and
// peak RSS next to the weights' byte size. Loading reads tensor by tensor, so the peak should be
// about the weights once plus the process's own baseline: peak − baseline ≈ 1 × weight bytes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** BERT-base's shape (bert-base-uncased: 109.5 M parameters with the pooler). */
export const LOAD_CONFIG = {
  architectures: ['BertForSequenceClassification'], model_type: 'bert', vocab_size: 30522, hidden_size: 768,
  num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, max_position_embeddings: 512,
  type_vocab_size: 2, hidden_act: 'gelu', layer_norm_eps: 1e-12, hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1, num_labels: 2,
};

export interface WriteReport {
  params: number;
  tensors: number;
  /** Bytes of tensor data (float32). */
  weightBytes: number;
  files: string[];
  writeS: number;
}

export interface LoadChildReport {
  backend: string;
  loadS: number;
  params: number;
  /** Peak RSS of the process before the load began (runtime, tfjs, the backend), bytes. */
  baselineMaxRss: number;
  /** Peak RSS of the process once loaded, bytes. */
  maxRss: number;
  /** Where the peak comes from: /proc/self/status VmHWM on Linux, else process.resourceUsage().maxRSS. */
  peakSource: 'VmHWM' | 'maxRSS';
  /** process.resourceUsage().maxRSS, bytes (on Linux it includes the parent's peak at the fork). */
  resourceMaxRss: number;
  /** RSS once loaded, after a garbage collection. */
  rssAfter: number;
  /** Bytes tfjs reports holding for the model's tensors. */
  tfBytes: number;
}

export interface LoadRun extends LoadChildReport {
  /** maxRss / weight bytes. */
  peakOverWeights: number;
  /** (maxRss − baselineMaxRss) / weight bytes: what the load itself added at its peak. */
  addedOverWeights: number;
  /** (rssAfter − baselineMaxRss) / weight bytes: what stays once loaded. */
  keptOverWeights: number;
}

export interface LoadBench {
  config: string;
  params: number;
  weightBytes: number;
  fileBytes: number;
  shards: number;
  writeS: number;
  runs: LoadRun[];
  errors: string[];
}

const CHILD = fileURLToPath(new URL('./load-child.ts', import.meta.url));
/** The bench is TypeScript run through tsx (never compiled into dist/): the child loads it too,
 * resolved from here so that it works from any working directory. */
const TSX = import.meta.resolve('tsx');

function child<T>(args: string[]): T {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', TSX, CHILD, ...args], { encoding: 'utf8', maxBuffer: 2 ** 20 });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) {
    throw new Error(`load-child ${args[0]} failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  }
  return JSON.parse(last) as T;
}

/** Writes the checkpoint to a temporary folder, loads it on each backend, removes it (unless `keep`). */
export function runLoadBench(backends: string[], opts: { shardMb?: number; keep?: boolean; log?: (s: string) => void } = {}): LoadBench {
  const log = opts.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'peft-bench-load-'));
  try {
    const w = child<WriteReport>(['write', dir, String(opts.shardMb ?? 100)]);
    const fileBytes = w.files.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    log(`load benchmark: wrote ${(w.params / 1e6).toFixed(1)} M parameters (${(w.weightBytes / 2 ** 20).toFixed(0)} MiB) in ${w.files.length} files, ${w.writeS.toFixed(1)} s`);
    const runs: LoadRun[] = [];
    const errors: string[] = [];
    for (const b of backends) {
      try {
        const r = child<LoadChildReport>(['load', dir, b]);
        runs.push({
          ...r,
          peakOverWeights: r.maxRss / w.weightBytes,
          addedOverWeights: (r.maxRss - r.baselineMaxRss) / w.weightBytes,
          keptOverWeights: (r.rssAfter - r.baselineMaxRss) / w.weightBytes,
        });
      } catch (e) {
        errors.push(`${b}: ${(e as Error).message}`);
      }
    }
    return { config: 'BERT-base-like (bert, 12 × 768, vocab 30522)', params: w.params, weightBytes: w.weightBytes, fileBytes, shards: w.files.filter((f) => f.endsWith('.safetensors')).length, writeS: w.writeS, runs, errors };
  } finally {
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    else log(`load benchmark checkpoint kept in ${dir}`);
  }
}
