// Planner checks on what a recipe points at and how big it makes things, before anything is
// built: config.json read with bounds, data files that are regular files, the run name a file
// name gives, and token budgets against the model's positions. Pure file-system reads.
import { statSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { ModelSizes } from '../plan/index.js';

/** A config.json is a few kilobytes; anything past this is not one. */
const MAX_CONFIG_BYTES = 16 << 20;
/** Tokens one batch may hold (batch_size × max_length): past this a step cannot fit in memory. */
export const MAX_BATCH_TOKENS = 1 << 20;

/** The run name pattern (schemas/recipe.schema.json's `name`). */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export type ConfigRead = { config: Record<string, unknown> } | { error: string; hint: string };

/** What kind of file-system object a path is, in words ('a FIFO', 'a directory'), or null for a regular file. */
export function notRegular(path: string): string | null {
  const st = statSync(path);
  if (st.isFile()) return null;
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Reads a backbone's config.json: a regular file, bounded in size, a JSON object. */
export function readConfig(file: string): ConfigRead {
  try {
    const kind = notRegular(file);
    if (kind) return { error: `${file} is ${kind}, not a config file`, hint: 'config.json must be a regular JSON file' };
    const size = statSync(file).size;
    if (size > MAX_CONFIG_BYTES) return { error: `${file} is ${size} bytes: too large for a config.json`, hint: 'config.json describes the model in a few kilobytes; is it the right file?' };
    const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { error: `${file} must hold a JSON object`, hint: 'a Hugging Face config.json is one JSON object {"model_type": …}' };
    return { config: raw as Record<string, unknown> };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code) return { error: `cannot read ${file} (${code === 'EACCES' ? 'permission denied' : code})`, hint: 'check that the backbone directory is readable' };
    return { error: `config.json is not valid JSON (${(e as Error).message})`, hint: `fix or re-download ${file}` };
  }
}

/** A path as written that cannot name a file: a NUL character; `~` (no shell expands it here). */
export function rawPathProblem(p: string): { message: string; hint: string } | null {
  if (p.includes('\0')) return { message: 'path contains a NUL character', hint: 'remove the \\0 escape from the path' };
  if (p === '~' || p.startsWith('~/')) return { message: `path starts with ~ (${p}), which is not expanded`, hint: 'write the home directory out, or a path relative to the recipe' };
  return null;
}

/** Why a data path cannot be read as the split's file (null: it can), with a hint. */
export function dataPathProblem(path: string, format: string): { message: string; hint: string } | null {
  let kind: string | null;
  try {
    kind = notRegular(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { message: `data file not found: ${path}`, hint: 'paths are relative to the recipe file' };
    return { message: `cannot read data file ${path} (${code === 'EACCES' ? 'permission denied' : String(code ?? e)})`, hint: 'check the file permissions' };
  }
  if (kind === null) return null;
  if (kind === 'a directory' && format === 'idx') return null; // a folder with one *images-idx3* file
  return {
    message: `data path ${path} is ${kind}, not a regular file`,
    hint: kind === 'a directory'
      ? 'name the file itself (e.g. train.jsonl), not its folder (only IDX data may name a folder)'
      : 'data must be a regular file (text, jsonl, csv, tsv, parquet or idx, optionally gzipped IDX): copy the stream to a file first',
  };
}

/** The run name of a recipe without `name:`: its file name without .yaml, if that is a valid name. */
export function nameFromFile(file: string): { name: string } | { error: string; hint: string } {
  const name = basename(file).replace(/\.ya?ml$/i, '');
  if (NAME_PATTERN.test(name)) return { name };
  return {
    error: `the file name gives no valid run name ("${name}")`,
    hint: 'add name: <letters, digits, . _ -> to the recipe (the run goes to <output.dir>/<name>/), or rename the file',
  };
}

export interface TokenBudget {
  maxLength: number;
  batchSize: number;
  /** eval.batch_size when the recipe sets one (else it is the training batch size, checked once). */
  evalBatchSize: number | null;
  maxNewTokens: number | null;
  taskType: string;
}

/** Token counts against the model's positions and a per-batch bound: [key path, message, hint]. */
export function budgetProblems(b: TokenBudget, sizes: ModelSizes | null): [string[], string, string][] {
  const out: [string[], string, string][] = [];
  const n = sizes?.maxPositions ?? null;
  if (n !== null && b.taskType !== 'image-cls' && b.maxLength > n) {
    out.push([['data', 'max_length'], `max_length ${b.maxLength} is more than the model's ${n} positions (${sizes?.positionsKey})`, `use at most ${n}`]);
  }
  if (n !== null && b.maxNewTokens !== null && b.maxNewTokens > n) {
    out.push([['generate', 'max_new_tokens'], `max_new_tokens ${b.maxNewTokens} is more than the model's ${n} positions (${sizes?.positionsKey})`, `use at most ${n}`]);
  }
  for (const [path, batch] of [[['training', 'batch_size'], b.batchSize], [['eval', 'batch_size'], b.evalBatchSize]] as const) {
    if (batch !== null && batch * b.maxLength > MAX_BATCH_TOKENS) {
      out.push([[...path], `batch_size ${batch} × max_length ${b.maxLength} = ${batch * b.maxLength} tokens in one batch (at most ${MAX_BATCH_TOKENS})`,
        'use a smaller batch with training.grad_accum to keep the effective batch size']);
    }
  }
  return out;
}
