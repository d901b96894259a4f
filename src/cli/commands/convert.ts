// peft convert llama2c <model> --tokenizer <tok> --out <dir> [--force]
import { join } from 'node:path';
import type { Command } from '../command.js';
import { PeftError } from '../../errors.js';

interface ConvertArgs {
  format: 'llama2c';
  model: string;
  tokenizer: string;
  out: string;
  force?: boolean;
}

export const convertCommand: Command<ConvertArgs> = {
  command: 'convert <format> <model>',
  describe: 'convert a checkpoint into a Hugging Face model directory (llama2c: llama2.c legacy .bin + tokenizer .bin)',
  builder: (y) =>
    y
      .positional('format', { choices: ['llama2c'] as const, describe: 'the source format' })
      .positional('model', { type: 'string', describe: 'the model file (llama2c: e.g. stories260K.bin)' })
      .option('tokenizer', { type: 'string', demandOption: true, describe: 'the tokenizer file (llama2c: e.g. tok512.bin)' })
      .option('out', { type: 'string', demandOption: true, describe: 'the output directory' })
      .option('force', { type: 'boolean', default: false, describe: 'write into a non-empty output directory' })
      .example('$0 convert llama2c stories260K.bin --tokenizer tok512.bin --out models/stories260K', ''),
  async run(args, out) {
    // yargs validates these, but keep the handler safe if it is reached anyway.
    if (args.format !== 'llama2c') {
      throw new PeftError('USAGE', `unknown source format "${String(args.format)}"`, { hint: 'supported: llama2c' });
    }
    for (const key of ['tokenizer', 'out'] as const) {
      if (typeof args[key] !== 'string' || args[key] === '') {
        throw new PeftError('USAGE', `--${key} is required`, { hint: 'peft convert llama2c MODEL.bin --tokenizer TOK.bin --out DIR' });
      }
    }
    const { convertLlama2c } = await import('../../engine/index.js');
    const r = convertLlama2c({ model: args.model, tokenizer: args.tokenizer, out: args.out, force: args.force });
    const h = r.header;
    for (const f of r.files) out.info(`wrote ${join(r.out, f)}`);
    out.info(
      `converted ${args.model}: ${r.params.toLocaleString('en-US')} parameters, ${h.nLayers} layers, hidden ${h.dim}, `
      + `${h.nHeads} heads (${h.nKvHeads} kv), vocab ${h.vocabSize}${h.shared ? ' (tied)' : ''}, context ${h.seqLen}`,
    );
    out.result({ ok: true, out: r.out, files: r.files, params: r.params });
    return 0;
  },
};
