import type { Command } from '../command.js';
import { PeftError } from '../../errors.js';

export const mergeCommand: Command = {
  command: 'merge',
  describe: '(not implemented yet)',
  builder: (y) => y,
  async run() {
    throw new PeftError('USAGE', 'peft merge is not implemented yet');
  },
};
