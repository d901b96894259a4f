import type { Command } from '../command.js';
import { PeftError } from '../../errors.js';

export const methodsCommand: Command = {
  command: 'methods',
  describe: '(not implemented yet)',
  builder: (y) => y,
  async run() {
    throw new PeftError('USAGE', 'peft methods is not implemented yet');
  },
};
