// peft compress ADAPTER|RUN_DIR --method compeft|quantize [--density d] [--bits b] --out DIR
// [--eval [RECIPE]]: pack an adapter's tensors (ComPEFT's sparse ternary form, or 1/2/4/8-bit
// codes), print the bytes before and after and, with --eval, the dev metrics before and after.
// Compressed adapters load wherever adapters do (eval, predict, merge); --method unpack writes one
// back as plain float32 for tools that need it (Python peft).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import chalk from 'chalk';
import type { Command } from '../command.js';
import { asList } from '../command.js';
import type { Output } from '../output.js';
import { planFromFile } from '../plan-file.js';
import { PeftError } from '../../errors.js';

interface CompressArgs {
  adapter: string;
  method?: string;
  density?: number;
  alpha?: number;
  scope?: string;
  bits?: number;
  granularity?: string;
  out?: string;
  eval?: string;
  split?: string;
  set?: string | string[];
  backend?: string;
}

function kb(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

export const compressCommand: Command<CompressArgs> = {
  command: 'compress <adapter>',
  describe: 'compress an adapter (ComPEFT sparse ternary, or 1/2/4/8-bit quantisation) into a smaller adapter directory',
  builder: (y) =>
    y
      .positional('adapter', { type: 'string', demandOption: true, describe: 'an adapter directory or a run directory' })
      .option('method', { type: 'string', choices: ['compeft', 'quantize', 'unpack'], describe: 'compeft: top-k sparse ternary (one α); quantize: low-bit codes; unpack: a compressed adapter back to float32' })
      .option('density', { type: 'number', describe: 'compeft: fraction of entries kept, in (0, 1] (default 0.1)' })
      .option('alpha', { type: 'number', describe: 'compeft: the ternary magnitude is alpha × std of the update (default 1; the paper tunes it)' })
      .option('scope', { type: 'string', choices: ['adapter', 'tensor'], describe: 'compeft: one top-k and α over the whole adapter (the authors\' code, default) or per tensor' })
      .option('bits', { type: 'number', describe: 'quantize: 1, 2, 4 or 8 bits per entry' })
      .option('granularity', { type: 'string', choices: ['tensor', 'channel'], describe: 'quantize: one mean/std per tensor (the paper) or per row (our extension)' })
      .option('out', { type: 'string', describe: 'the output adapter directory (default: <adapter>-<method>)' })
      .option('eval', { type: 'string', describe: 'evaluate before and after: on the run\'s recipe (no value) or this recipe' })
      .option('split', { type: 'string', default: 'validation', describe: 'with --eval: the split' })
      .option('set', { type: 'string', array: true, describe: 'with --eval RECIPE: override a key of it' })
      .option('backend', { type: 'string', describe: 'with --eval: force a backend' })
      .example('$0 compress runs/sst2-lora/… --method quantize --bits 1 --out sst2-1bit --eval', '1-bit codes, dev accuracy before and after'),
  async run(args, out) {
    if (!args.method) throw new PeftError('USAGE', 'name the compression: --method compeft|quantize (or unpack)', { hint: 'peft compress ADAPTER --method quantize --bits 1 --out DIR' });
    const engine = await import('../../engine/index.js');
    const scheme = args.method === 'quantize'
      ? { method: 'quantize' as const, bits: args.bits ?? NaN, granularity: (args.granularity ?? 'tensor') as 'tensor' | 'channel' }
      : args.method === 'compeft'
        ? { method: 'compeft' as const, density: args.density ?? 0.1, alpha: args.alpha ?? 1, scope: (args.scope ?? 'adapter') as 'adapter' | 'tensor' }
        : { method: 'unpack' as const };
    if (args.method === 'quantize' && args.bits === undefined) throw new PeftError('USAGE', '--method quantize needs --bits 1|2|4|8');
    for (const [k, ok] of [['density', 'compeft'], ['alpha', 'compeft'], ['scope', 'compeft'], ['bits', 'quantize'], ['granularity', 'quantize']] as const) {
      if (args[k] !== undefined && args.method !== ok) throw new PeftError('USAGE', `--${k} applies to --method ${ok}, not ${args.method}`);
    }
    const input = resolve(args.adapter);
    const target = resolve(args.out ?? `${input.replace(/[\\/]+$/, '')}-${args.method === 'quantize' ? `${args.bits}bit` : args.method}`);
    const evalOn = args.eval === undefined ? null : evalTarget(args.eval, input);
    const r = engine.compressAdapter(input, target, scheme);
    const ratio = r.bytesBefore / r.bytesAfter;
    for (const n of r.notes) out.warn(n);
    const what = scheme.method === 'quantize' ? `${scheme.bits}-bit codes, one mean/std per ${scheme.granularity}`
      : scheme.method === 'compeft' ? `ComPEFT: ${r.kept} of ${r.compressed.entries} entries kept (density ${scheme.density}), ternary ±α with α = ${scheme.alpha}·std per ${scheme.scope}`
        : 'unpacked to float32';
    out.info(`${chalk.bold('compressed')} ${r.compressed.tensors} tensors (${r.compressed.entries} entries): ${what}; ${r.plain.tensors} kept float32 (task head)`);
    out.info(`${chalk.bold('bytes')}      ${kb(r.bytesBefore)} → ${kb(r.bytesAfter)} (${ratio >= 1 ? `${ratio.toFixed(1)}× smaller` : `${(1 / ratio).toFixed(1)}× larger`})`);
    let metrics: { before: Record<string, number>; after: Record<string, number> } | null = null;
    if (evalOn) metrics = await evalBeforeAfter(engine, evalOn, input, target, args, out);
    out.info(`${chalk.bold('wrote')}      ${target}`);
    out.result({
      ok: true, out: target, scheme, bytes_before: r.bytesBefore, bytes_after: r.bytesAfter, ratio,
      compressed: r.compressed, plain: r.plain, kept: r.kept ?? null, metrics,
    });
    return 0;
  },
};

/** What --eval evaluates with: a recipe file, or the run the adapter came from. */
function evalTarget(value: string, input: string): { target: string; recipe: boolean } {
  if (value !== '') return { target: value, recipe: true };
  if (existsSync(join(input, 'recipe.resolved.yaml'))) return { target: input, recipe: false };
  throw new PeftError('USAGE', '--eval needs a recipe for an adapter directory: --eval RECIPE', { hint: 'or compress a run directory, whose recipe evaluates it' });
}

async function evalBeforeAfter(engine: typeof import('../../engine/index.js'), on: { target: string }, input: string, output: string, args: CompressArgs, out: Output) {
  const sets = asList(args.set);
  const run = async (adapter: string) => {
    const target = engine.resolveRunTarget(on.target, { adapter: [adapter], planFile: (f) => planFromFile(f, sets), warn: (m) => out.warn(m) });
    return (await engine.evaluateRun(target, { split: args.split ?? 'validation', backend: args.backend })).metrics;
  };
  const before = await run(engine.adapterDirOfInput(input));
  const after = await run(output);
  const keys = Object.keys(before);
  out.info(`${chalk.bold(args.split ?? 'validation')}  ${keys.map((k) => `${k} ${before[k].toFixed(4)} → ${after[k].toFixed(4)}`).join('  ')}`);
  return { before, after };
}
