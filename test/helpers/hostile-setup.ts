// Setting up a hostile case in its temporary directory: what cannot be committed as a file (a
// FIFO, a symlink loop, a gzip bomb, a damaged copy of a trained run, a model directory with one
// config key changed) is made by a small set of named steps that expected.json lists.
import {
  chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { gzipSync } from 'node:zlib';

export type Setup =
  | { model: { to: string; config?: Record<string, unknown>; remove?: string[]; weights?: 'link' | 'copy' | 'none' } }
  | { fifo: string }
  | { symlink: [string, string] }
  | { mkdir: string }
  | { write: [string, string] }
  | { writeHex: [string, string] }
  | { replace: [string, string, string] }
  | { gzip: [string, string, number] }
  | { trainedRun: string }
  | { truncate: [string, number] }
  | { jsonSet: [string, string, unknown] }
  | { remove: string }
  | { chmod: [string, string] }
  | { copy: [string, string] };

export interface SetupContext {
  repo: string;
  /** The run trained once for the whole corpus (null until trained). */
  trainedRun: string | null;
}

export interface CaseVars {
  repo: string;
  case: string;
  /** The case's copy of the trained run, once a trainedRun step made it. */
  run: string;
}

const TEXT = /\.(ya?ml|json|jsonl|txt|csv|tsv)$/;

/** Replaces @REPO@ and @CASE@ in the case's text files. */
export function expand(dir: string, vars: CaseVars): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) expand(p, vars);
    else if (TEXT.test(name)) {
      const text = readFileSync(p, 'latin1');
      if (text.includes('@')) writeFileSync(p, text.replace(/@REPO@/g, vars.repo).replace(/@CASE@/g, vars.case), 'latin1');
    }
  }
}

const MODEL_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'];

/** A path of a case: relative to its directory unless absolute (@RUN@, @CASE@ expand to absolute paths). */
export function inCase(dir: string, p: string): string {
  return isAbsolute(p) ? p : join(dir, p);
}

function sub(s: string, vars: CaseVars): string {
  return s.replace(/@REPO@/g, vars.repo).replace(/@CASE@/g, vars.case).replace(/@RUN@/g, vars.run);
}

/** Sets one dotted key of a JSON file (numbers in the path index lists). */
function jsonSet(file: string, dotted: string, value: unknown): void {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const keys = dotted.split('.');
  let o: Record<string, unknown> = doc;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  o[keys[keys.length - 1]!] = value;
  writeFileSync(file, JSON.stringify(doc));
}

export function applySetup(step: Setup, dir: string, ctx: SetupContext, vars: CaseVars): void {
  const at = (p: string) => inCase(dir, sub(p, vars));
  if ('model' in step) {
    const { to, config, remove, weights } = step.model;
    const src = join(ctx.repo, 'assets', 'models', 'stories260K');
    mkdirSync(at(to), { recursive: true });
    for (const f of MODEL_FILES) copyFileSync(join(src, f), join(at(to), f));
    if (weights === 'copy') copyFileSync(join(src, 'model.safetensors'), join(at(to), 'model.safetensors'));
    else if (weights !== 'none') symlinkSync(join(src, 'model.safetensors'), join(at(to), 'model.safetensors'));
    if (config) {
      const file = join(at(to), 'config.json');
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...config }));
    }
    for (const f of remove ?? []) rmSync(join(at(to), f), { recursive: true, force: true });
  } else if ('fifo' in step) {
    mkdirSync(dirname(at(step.fifo)), { recursive: true });
    execFileSync('mkfifo', [at(step.fifo)]);
  } else if ('symlink' in step) {
    symlinkSync(sub(step.symlink[1], vars), at(step.symlink[0]));
  } else if ('mkdir' in step) {
    mkdirSync(at(step.mkdir), { recursive: true });
  } else if ('write' in step) {
    mkdirSync(dirname(at(step.write[0])), { recursive: true });
    writeFileSync(at(step.write[0]), sub(step.write[1], vars));
  } else if ('writeHex' in step) {
    mkdirSync(dirname(at(step.writeHex[0])), { recursive: true });
    writeFileSync(at(step.writeHex[0]), Buffer.from(step.writeHex[1], 'hex'));
  } else if ('replace' in step) {
    const [file, pattern, by] = step.replace;
    writeFileSync(at(file), readFileSync(at(file), 'utf8').replace(new RegExp(pattern, 'g'), sub(by, vars)));
  } else if ('gzip' in step) {
    const [path, hex, zeros] = step.gzip;
    writeFileSync(at(path), gzipSync(Buffer.concat([Buffer.from(hex, 'hex'), Buffer.alloc(zeros)])));
  } else if ('trainedRun' in step) {
    if (!ctx.trainedRun) throw new Error('the shared trained run is missing');
    const target = join(at(step.trainedRun), basename(ctx.trainedRun));
    cpSync(ctx.trainedRun, target, { recursive: true });
    vars.run = target;
  } else if ('truncate' in step) {
    truncateSync(at(step.truncate[0]), step.truncate[1]);
  } else if ('jsonSet' in step) {
    jsonSet(at(step.jsonSet[0]), step.jsonSet[1], step.jsonSet[2]);
  } else if ('remove' in step) {
    rmSync(at(step.remove), { recursive: true, force: true });
  } else if ('chmod' in step) {
    chmodSync(at(step.chmod[0]), parseInt(step.chmod[1], 8));
  } else if ('copy' in step) {
    cpSync(sub(step.copy[0], vars), at(step.copy[1]), { recursive: true });
  }
}
