// peft inspect RECIPE|DIR: what a recipe compiles to, from config.json alone (no weights):
// modules per position and layer, trainable and stored parameters, their share of the backbone.
import { existsSync, statSync } from 'node:fs';
import chalk from 'chalk';
import { asList, type Command } from '../command.js';
import { planFromFile } from '../plan-file.js';

interface InspectArgs {
  target: string;
  set?: string | string[];
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** 0,1,2,3,7 → 0–3,7. */
function layerRanges(layers: number[]): string {
  const sorted = [...layers].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j - i >= 2 ? `${sorted[i]}–${sorted[j]}` : sorted.slice(i, j + 1).join(','));
    i = j + 1;
  }
  return parts.join(',');
}

export const inspectCommand: Command<InspectArgs> = {
  command: 'inspect <target>',
  describe: 'show the compiled plan of a recipe, or a backbone directory\'s size, without reading weights',
  builder: (y) =>
    y
      .positional('target', { type: 'string', demandOption: true, describe: 'a recipe YAML file or a backbone directory' })
      .option('set', { type: 'string', array: true, describe: 'override a recipe key: --set method.rank=16' }),
  async run(args, out) {
    if (existsSync(args.target) && statSync(args.target).isDirectory()) {
      const { inspectBackbone } = await import('../../engine/index.js');
      const r = inspectBackbone(args.target);
      out.info(`${chalk.bold(r.family)} ${r.architecture} (${r.dir})`);
      out.info(`  parameters: ${fmt(r.total_params)} (base model), ${fmt(r.task_params)} with the ${r.task} head`);
      out.info(`  hidden ${r.dims.hidden}, ${r.dims.layers} layers${r.dims.decoderLayers ? ` + ${r.dims.decoderLayers} decoder layers` : ''}, ${r.dims.heads} heads, vocabulary ${r.dims.vocab}`);
      out.result({ ok: true, ...r });
      return 0;
    }
    const sets = asList(args.set);
    const plan = planFromFile(args.target, sets);
    const { inspectPlan, paperPercentText } = await import('../../engine/index.js');
    const r = inspectPlan(plan);
    out.info(`${chalk.bold(plan.name)}: ${plan.method.preset} on ${r.family} (${r.architecture}), ${fmt(r.total_params)} backbone parameters`);
    for (const m of r.modules) {
      out.info(`  ${chalk.bold(m.name)} (${m.function}): ${fmt(m.trainable_params)} trainable${m.shared_params ? ` (${fmt(m.shared_params)} shared by all its sites)` : ''}, ${fmt(m.stored_params)} stored`);
      for (const p of m.positions) {
        const layers = p.layers.length ? `layers ${layerRanges(p.layers)}` : 'embeddings';
        out.info(`    ${p.stack === 'model' ? '' : p.stack + '.'}${p.position.padEnd(18)} ${layers.padEnd(24)} ${String(p.sites).padStart(3)} sites  ${fmt(p.params)} params`);
      }
    }
    if (r.unfrozen_params) out.info(`  unfrozen backbone parameters: ${fmt(r.unfrozen_params)}`);
    if (r.head_params) out.info(`  task head: ${fmt(r.head_params)}`);
    out.info(`  trainable: ${fmt(r.trainable_params)} (${r.trainable_percent.toFixed(4)}% of the backbone)`);
    out.info(`  stored:    ${fmt(r.stored_params)} (${r.stored_percent.toFixed(4)}% of the backbone)`);
    out.info(`  adapter:   ${fmt(r.adapter_bytes)} bytes of tensors + ${fmt(r.adapter_config_bytes)} bytes of config (${r.adapter_type})`);
    out.info(`  paper:     ${fmt(r.paper_params)} (${paperPercentText((100 * r.paper_params) / r.total_params)}% as He et al. count it: weight matrices only, truncated)`);
    out.info(chalk.dim(`  ${r.peft_line}`));
    out.result({ ok: true, ...r });
    return 0;
  },
};
