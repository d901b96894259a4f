import type { Command } from '../command.js';
import { PeftError } from '../../errors.js';

export const predictCommand: Command = {
  command: 'predict',
  describe: '(not implemented yet)',
  builder: (y) => y,
  async run() {
    throw new PeftError('USAGE', 'peft predict is not implemented yet');
  },
};
