// peft inspect RECIPE|DIR: what a recipe compiles to, from config.json alone (no weights):
// modules per position and layer, trainable and stored parameters, their share of the backbone;
// for a run or adapter directory, what its adapter file holds (bytes, a selection's entries per weight).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
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
      .positional('target', { type: 'string', demandOption: true, describe: 'a recipe YAML file, a backbone directory, or a run or adapter directory' })
      .option('set', { type: 'string', array: true, describe: 'override a recipe key: --set method.rank=16' }),
  async run(args, out) {
    const isDir = existsSync(args.target) && statSync(args.target).isDirectory();
    if (isDir && (existsSync(join(args.target, 'adapter_config.json')) || existsSync(join(args.target, 'recipe.resolved.yaml')))) {
      const { inspectAdapter } = await import('../../engine/index.js');
      const r = inspectAdapter(args.target);
      out.info(`${chalk.bold('adapter')} ${r.type} in ${r.dir}: ${fmt(r.bytes)} bytes (adapter_model.safetensors) + ${fmt(r.config_bytes)} (adapter_config.json), ${r.tensors} tensors, ${fmt(r.stored_values)} stored values`);
      if (r.selection) {
        const s = r.selection;
        const count = (form: string) => s.weights.filter((w) => w.form === form).length;
        const parts = [
          count('sparse') ? `${fmt(s.entries)} entries trained one by one in ${count('sparse')} weights` : '',
          count('lowrank') ? `low-rank updates on ${count('lowrank')} weights` : '',
          count('whole') ? `${count('whole')} tensors trained whole` : '',
        ].filter(Boolean);
        out.info(`  select ${s.criterion}${s.seed !== null ? ` (seed ${s.seed})` : ''}: ${parts.join(', ') || 'nothing trained'}`);
        const width = Math.max(...s.weights.map((w) => w.weight.length));
        for (const w of s.weights) {
          const share = w.total ? ` / ${fmt(w.total)} (${((100 * w.stored) / w.total).toFixed(1)}%)` : '';
          out.info(`    ${w.weight.padEnd(width)}  ${w.form.padEnd(7)} ${fmt(w.stored).padStart(9)}${share}`);
        }
      }
      out.result({ ok: true, ...r });
      return 0;
    }
    if (isDir) {
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
    if (r.selection) {
      const s = r.selection;
      out.info(`  ${chalk.bold(s.text)}: ${fmt(s.candidates)} candidate entries in ${s.weights.length} weights${s.entries !== null ? `, ${fmt(s.entries)} selected` : ', how many per weight is decided when training starts'}`);
      for (const w of s.weights) if (w.selected !== null) out.info(`    ${w.weight.padEnd(48)} ${fmt(w.selected).padStart(9)} / ${fmt(w.total)}`);
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
