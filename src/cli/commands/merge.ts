// peft merge RUN_DIR [--out DIR]: fold the run's adapter into the backbone and write a Hugging
// Face model directory; a method that cannot be merged is refused with its reason.
// peft merge A B [C…] --method M [--weights w,…] [--density d] [--out DIR]: merge several adapters
// (directories or run directories, plain or compressed) into one adapter directory, or with
// --into-base into a model directory.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import chalk from 'chalk';
import type { Command } from '../command.js';
import { asList } from '../command.js';
import type { Output } from '../output.js';
import { planFromFile } from '../plan-file.js';
import { parseWeights } from '../weights.js';
import { PeftError } from '../../errors.js';

interface MergeArgs {
  adapters: string[];
  out?: string;
  method?: string;
  weights?: string;
  density?: number;
  rank?: string;
  'majority-sign'?: string;
  seed?: number;
  exact?: boolean;
  head?: number;
  'into-base'?: boolean;
  base?: string;
  'allow-different-base'?: boolean;
  set?: string | string[];
  backend?: string;
}

const METHODS = ['linear', 'cat', 'svd', 'ties', 'ties_svd', 'magnitude_prune', 'magnitude_prune_svd', 'dare_linear', 'dare_linear_svd', 'dare_ties', 'dare_ties_svd', 'task_arithmetic', 'pcb'];

function isRunDir(p: string): boolean {
  return existsSync(join(resolve(p), 'recipe.resolved.yaml'));
}

export const mergeCommand: Command<MergeArgs> = {
  command: 'merge <adapters..>',
  describe: 'fold a run\'s adapter (LoRA, DoRA, LoHa, AdaLoRA, IA³, bias, a selection\'s sparse deltas) into its backbone; or merge several adapters (linear, cat, svd, TIES, DARE, task arithmetic, PCB) into one',
  builder: (y) =>
    y
      .positional('adapters', { type: 'string', array: true, demandOption: true, describe: 'a run directory (fold it), or the adapters to merge (adapter or run directories)' })
      .option('method', { type: 'string', choices: METHODS, describe: 'how several adapters merge (see docs/merging.md)' })
      .option('weights', { type: 'string', describe: 'one weight per adapter, comma-separated (default: 1 each)' })
      .option('density', { type: 'number', describe: 'fraction of entries kept, in (0, 1]: ties, magnitude_prune, dare_*, pcb' })
      .option('rank', { type: 'string', describe: 'rank of a weight-space merge (svd, ties_svd, …, task_arithmetic, pcb): a number or "full"' })
      .option('majority-sign', { type: 'string', choices: ['total', 'frequency'], describe: 'TIES sign election (default total)' })
      .option('seed', { type: 'number', describe: 'seed of DARE\'s random drop (default 0)' })
      .option('exact', { type: 'boolean', describe: 'svd-family merges weight each ΔW by w, not Python peft 0.13.2\'s w·(α/r)' })
      .option('head', { type: 'number', describe: 'keep the task head of adapter N (1-based; 0: none) when several carry one' })
      .option('into-base', { type: 'boolean', describe: 'fold the merged update into the backbone and write a model directory' })
      .option('base', { type: 'string', describe: 'the backbone for --into-base: a model directory, a recipe or a run directory (default: the first run directory merged)' })
      .option('allow-different-base', { type: 'boolean', describe: 'merge although the adapters name different base models' })
      .option('set', { type: 'string', array: true, describe: 'override a key of a --base recipe' })
      .option('out', { type: 'string', describe: 'output directory (default: <run>/merged when folding a run; ./merged-<method> otherwise)' })
      .option('backend', { type: 'string', describe: 'force a backend' })
      .example('$0 merge runs/sst2/… runs/mrpc/… --method ties --density 0.5 --weights 1,1 --head 1 --out merged', 'TIES of two task adapters, keeping the first one\'s classification head'),
  async run(args, out) {
    const adapters = asList(args.adapters);
    const several = adapters.length > 1 || args.method !== undefined;
    if (!several) return foldRun(adapters[0], args, out);
    if (!args.method) throw new PeftError('USAGE', `name how ${adapters.length} adapters merge: --method ${METHODS.join('|')}`, { hint: 'docs/merging.md says what each does' });
    const engine = await import('../../engine/index.js');
    const weights = args.weights === undefined ? adapters.map(() => 1) : parseWeights(args.weights, adapters.length);
    const rank = args.rank === undefined ? undefined : args.rank === 'full' ? 'full' as const : Number(args.rank);
    let intoBase = null;
    if (args['into-base']) {
      intoBase = args.base ? baseOf(args.base, asList(args.set), engine.baseOfRun) : engine.baseFromInputs(adapters);
      if (!intoBase) throw new PeftError('USAGE', '--into-base needs the backbone: --base MODEL_DIR|RECIPE|RUN_DIR', { hint: 'or merge run directories, whose recipe names it' });
    } else if (args.base) {
      throw new PeftError('USAGE', '--base names the backbone of --into-base', { hint: 'add --into-base to write a model directory' });
    }
    const target = resolve(args.out ?? `merged-${args.method}${intoBase ? '-model' : ''}`);
    const r = await engine.combineRun(adapters, {
      method: args.method as never, weights, density: args.density, rank, majoritySign: args['majority-sign'] as never,
      seed: args.seed, exactScale: args.exact, head: args.head, allowDifferentBase: args['allow-different-base'],
      out: target, intoBase, backend: args.backend,
    });
    r.adapters.forEach((a, i) => out.info(chalk.dim(`  ${i + 1}. ${a.path} (${a.type}${a.storage === 'plain' ? '' : `, ${a.storage}-compressed`}, ${a.modules} modules) × ${weights[i]}`)));
    for (const n of r.notes) out.warn(n);
    const rank2 = r.rank ? (r.rank.min === r.rank.max ? `rank ${r.rank.min}` : `ranks ${r.rank.min}–${r.rank.max}`) : '';
    out.info(`${chalk.bold('merged')} ${adapters.length} adapters by ${r.method}${args.density !== undefined ? ` (density ${args.density})` : ''}: ${r.modules} modules${rank2 ? `, ${rank2}` : ''}; task head ${r.head ? `from ${r.head}` : 'none'}`);
    if (r.maxLogitDiff !== undefined) out.info(`${chalk.bold('folded')} into ${intoBase!.path}: max |logit difference| vs the unfolded adapter ${r.maxLogitDiff.toExponential(2)}`);
    out.info(`${chalk.bold('wrote')}  ${target} (${r.type === 'model' ? 'model directory' : `${r.type} adapter`})`);
    out.result({ ok: true, out: target, type: r.type, method: r.method, weights, density: args.density ?? null, adapters: r.adapters, modules: r.modules, rank: r.rank, head: r.head, notes: r.notes, files: r.files, max_logit_diff: r.maxLogitDiff ?? null });
    return 0;
  },
};

/** --base as a recipe (its backbone and task), a run directory, or a model directory. */
function baseOf(base: string, sets: string[], ofRun: (dir: string) => { path: string }) {
  if (/\.ya?ml$/i.test(base)) {
    const plan = planFromFile(base, sets);
    return { path: plan.backbone.path, task: plan.task.type, numLabels: plan.task.numLabels ?? undefined, pooling: plan.task.pooling ?? undefined, labels: plan.task.labels ?? null };
  }
  if (isRunDir(base)) return ofRun(resolve(base));
  return { path: resolve(base) };
}

/** The original form: one run directory folded into its backbone. */
async function foldRun(run: string, args: MergeArgs, out: Output): Promise<number> {
  if (!isRunDir(run)) {
    throw new PeftError('USAGE', `${run} is not a run directory: one adapter alone folds from its run`, {
      hint: 'merge adapters: peft merge A B --method linear …; fold one adapter directory: peft merge A --method linear --into-base --base MODEL_DIR',
    });
  }
  const { mergeRun } = await import('../../engine/index.js');
  const dir = resolve(run);
  const target = resolve(args.out ?? join(dir, 'merged'));
  const r = await mergeRun(dir, target, { backend: args.backend });
  for (const m of r.merged) out.info(chalk.dim(`  merged ${m}`));
  out.info(`${chalk.bold('merged')} ${r.merged.length} site${r.merged.length === 1 ? '' : 's'} into ${r.family}; max |logit difference| vs the unmerged model ${r.maxLogitDiff.toExponential(2)}`);
  out.info(`${chalk.bold('wrote')}  ${target}`);
  out.result({ ok: true, out: target, merged: r.merged, files: r.files, max_logit_diff: r.maxLogitDiff });
  return 0;
}
