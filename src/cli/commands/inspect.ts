import type { Command } from '../command.js';
import { PeftError } from '../../errors.js';

export const inspectCommand: Command = {
  command: 'inspect',
  describe: '(not implemented yet)',
  builder: (y) => y,
  async run() {
    throw new PeftError('USAGE', 'peft inspect is not implemented yet');
  },
};
