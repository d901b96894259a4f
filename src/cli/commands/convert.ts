import type { Command } from '../command.js';
import { PeftError } from '../../errors.js';

export const convertCommand: Command = {
  command: 'convert',
  describe: '(not implemented yet)',
  builder: (y) => y,
  async run() {
    throw new PeftError('USAGE', 'peft convert is not implemented yet');
  },
};
