import type { Command } from '../command.js';
import { PeftError } from '../../errors.js';

export const validateCommand: Command = {
  command: 'validate',
  describe: '(not implemented yet)',
  builder: (y) => y,
  async run() {
    throw new PeftError('USAGE', 'peft validate is not implemented yet');
  },
};
