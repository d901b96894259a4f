import type { Command } from '../command.js';
import { PeftError } from '../../errors.js';

export const evalCommand: Command = {
  command: 'eval',
  describe: '(not implemented yet)',
  builder: (y) => y,
  async run() {
    throw new PeftError('USAGE', 'peft eval is not implemented yet');
  },
};
