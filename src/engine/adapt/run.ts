// `peft adapt-test`: a trained classifier adapted to a test file without its labels — the source
// model's predictions first (the baseline), then the method's, online (batch by batch, each
// batch predicted as the method leaves it) or offline (a pass over the whole file first). With
// labels in the file, accuracy and NLL before and after; every row's prediction written (JSONL,
// atomically), with the source model's beside it.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { Plan } from '../../plan/index.js';
import type { BackendInfo } from '../backend/index.js';
import type { Batch } from '../data/batches.js';
import { buildSplit } from '../data/build.js';
import { LabelSet, resolveSplits } from '../data/index.js';
import { openInference } from '../infer/inference.js';
import { splitFor, type RunTarget } from '../infer/target.js';
import { ttaMethod, TTA_METHODS } from './registry.js';
import { sourceMethod } from './methods/source.js';
import { ScoreTally, type TtaScores } from './metrics.js';
import { fileHasLabels } from './labels.js';
import type { TtaContext, TtaMode, TtaSettings } from './types.js';
import { PeftError } from '../../errors.js';

export interface AdaptTestOptions {
  data: string;
  method: string;
  mode: TtaMode;
  batchSize?: number;
  output?: string;
  backend?: string;
  limit?: number;
  settings?: Partial<TtaSettings>;
}

export interface AdaptTestEvents {
  onBackend?(b: BackendInfo): void;
  onWarning?(message: string): void;
  onNote?(message: string): void;
  onData?(info: { path: string; examples: number; labelled: boolean }): void;
  onProgress?(done: number, total: number): void;
}

export interface AdaptTestResult {
  method: string;
  mode: TtaMode;
  path: string;
  examples: number;
  labelled: boolean;
  before: TtaScores | null;
  after: TtaScores | null;
  output: string;
  notes: string[];
}

const CLASSIFICATION = ['seq-cls', 'image-cls', 'audio-cls', 'clip-cls'];

export function checkMethod(name: string, mode: TtaMode): void {
  const m = ttaMethod(name);
  if (!m) {
    throw new PeftError('USAGE', `unknown test-time adaptation method "${name}"`, { hint: `methods: ${TTA_METHODS.map((x) => x.name).join(', ')}` });
  }
  if (!m.modes.includes(mode)) throw new PeftError('USAGE', `${name} has no ${mode} mode: ${m.onlineOnly ?? 'the paper defines only the other'}`, { hint: `use --mode ${m.modes[0]}` });
}

export async function adaptTest(target: RunTarget & { plan: Plan }, opts: AdaptTestOptions, ev: AdaptTestEvents = {}): Promise<AdaptTestResult> {
  const plan = target.plan;
  checkMethod(opts.method, opts.mode);
  if (!CLASSIFICATION.includes(plan.task.type)) {
    throw new PeftError('USAGE', `test-time adaptation adapts classifiers; this run is ${plan.task.type}`, { hint: `tasks: ${CLASSIFICATION.join(', ')}` });
  }
  const method = ttaMethod(opts.method)!;
  const { split } = splitFor(plan, opts.data, 'test');
  const limited = opts.limit !== undefined ? { ...split, limit: opts.limit } : split;
  const labelled = await fileHasLabels(plan, limited);
  const s = await openInference(plan, target.adapterDir, { backend: opts.backend });
  ev.onBackend?.(s.backend);
  for (const w of s.warnings) ev.onWarning?.(w);
  const batchSize = opts.batchSize ?? plan.eval.batchSize;
  const built = await buildSplit(plan, limited, s.tokenizer, {
    name: 'test', batchSize, shuffle: false, keepWhere: true, unlabelled: !labelled, model: s.modelInfo,
  });
  const examples = built.stats.examples;
  ev.onData?.({ path: split.path, examples, labelled });
  const classes = plan.task.labels?.length ?? plan.task.numLabels ?? (s.model.config.num_labels as number | undefined) ?? 2;
  const notes: string[] = [];
  const trainSplit = resolveSplits(plan.data).train;
  const ctx: TtaContext = {
    model: s.model, peft: s.peft, mode: opts.mode, classes,
    settings: { seed: plan.seed, ...opts.settings },
    note: (m) => {
      notes.push(m);
      ev.onNote?.(m);
    },
    sourceData: trainSplit ? async () => (await buildSplit(plan, trainSplit, s.tokenizer, {
      name: 'train', batchSize: 64, shuffle: false, model: s.modelInfo,
    })).batcher : undefined,
  };
  const batches = (): Iterable<Batch> => built.batcher.sequential();
  // the source model first: the baseline every row is written beside
  const sourceRunner = await sourceMethod.start(ctx);
  const baseline: Float32Array[] = [];
  for (const b of batches()) baseline.push(sourceRunner.predict(b));
  const runner = await method.start(ctx);
  const before = new ScoreTally();
  const after = new ScoreTally();
  const labels = LabelSet.fromTask(plan.task);
  const out = resolve(opts.output ?? (target.runDir ? join(target.runDir, 'tta', `${method.name}-${opts.mode}.jsonl`) : `tta-${method.name}-${opts.mode}.jsonl`));
  mkdirSync(dirname(out), { recursive: true });
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    if (opts.mode === 'offline') await runner.prepare?.(batches());
    let done = 0;
    let k = 0;
    for (const b of batches()) {
      const probs = runner.predict(b);
      const base = baseline[k++];
      const refs = b.labels ? Array.from(b.labels, (v) => Math.round(v)) : null;
      if (refs) {
        before.add(base, classes, refs);
        after.add(probs, classes, refs);
      }
      for (let i = 0; i < b.size; i++) {
        const row = Array.from(probs.subarray(i * classes, (i + 1) * classes));
        const id = row.indexOf(Math.max(...row));
        const baseRow = Array.from(base.subarray(i * classes, (i + 1) * classes));
        const rec: Record<string, unknown> = {
          where: b.wheres?.[i], label: labels.name(id), label_id: id, before: labels.name(baseRow.indexOf(Math.max(...baseRow))),
          probs: row.map((v) => Number(v.toPrecision(6))),
        };
        if (refs) rec.reference = labels.name(refs[i]);
        const buf = Buffer.from(JSON.stringify(rec) + '\n', 'utf8');
        let off = 0;
        while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      }
      done += b.size;
      ev.onProgress?.(done, examples);
    }
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, out);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // closed
    }
    try {
      unlinkSync(tmp);
    } catch {
      // gone
    }
    throw e;
  } finally {
    runner.restore();
  }
  return { method: method.name, mode: opts.mode, path: split.path, examples, labelled, before: before.scores(), after: after.scores(), output: out, notes };
}
