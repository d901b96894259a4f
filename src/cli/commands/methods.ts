// peft methods [NAME]: the presets, one line each with their source; with NAME, its expansion
// into the unified view's design dimensions.
import chalk from 'chalk';
import type { Command } from '../command.js';
import { PeftError } from '../../errors.js';
import { PRESETS, findPreset, PRESET_NAMES, compileMethod, suggest, moduleText, layersText, selectText } from '../../recipes/index.js';

interface MethodsArgs {
  name?: string;
}

export const methodsCommand: Command<MethodsArgs> = {
  command: 'methods [name]',
  describe: 'list the method presets, or show one expanded into design dimensions',
  builder: (y) => y.positional('name', { type: 'string', describe: 'a preset name' }),
  async run(args, out) {
    if (!args.name) {
      const width = Math.max(...PRESETS.map((p) => p.name.length));
      for (const p of PRESETS) out.info(`${chalk.bold(p.name.padEnd(width))}  ${p.summary}  ${chalk.dim(`(${p.source})`)}`);
      out.result({ ok: true, methods: PRESETS.map((p) => ({ name: p.name, summary: p.summary, source: p.source })) });
      return 0;
    }
    const preset = findPreset(args.name);
    if (!preset) {
      const near = suggest(args.name, PRESET_NAMES);
      throw new PeftError('USAGE', `unknown method "${args.name}"${near ? ` (did you mean "${near}"?)` : ''}`, { hint: 'peft methods lists them' });
    }
    const problems: string[] = [];
    const method = compileMethod({ preset: preset.name }, { family: null, depth: null, task: 'seq-cls' }, (_p, m) => problems.push(m));
    out.info(`${chalk.bold(preset.name)}: ${preset.summary}`);
    out.info(chalk.dim(preset.source));
    for (const m of method.modules) {
      out.info(`  module ${moduleText(m)}`);
      out.info(chalk.dim(`    position: ${JSON.stringify(m.positions)}  function: ${m.function}  insertion: ${m.insertion}  composition: ${m.composition}`
        + `  scale: ${m.scale}  heads: ${m.heads}  layers: ${layersText(m.layers)}  options: ${JSON.stringify(m.options)}`));
    }
    for (const u of method.unfreeze) out.info(`  unfreeze ${u.target} (${layersText(u.layers)})`);
    if (method.select) {
      out.info(`  ${selectText(method.select)}`);
      out.info(chalk.dim(`    criterion: ${method.select.criterion}  budget: ${JSON.stringify(method.select.budget)}  scope: ${method.select.scope}`
        + `  position: ${JSON.stringify(method.select.positions)}  layers: ${layersText(method.select.layers)}  options: ${JSON.stringify(method.select.options)}`));
    }
    out.result({
      ok: true, name: preset.name, summary: preset.summary, source: preset.source, modules: method.modules, unfreeze: method.unfreeze,
      ...(method.select ? { select: method.select } : {}),
    });
    return 0;
  },
};
