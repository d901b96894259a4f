import type { Command } from '../command.js';
import { PeftError } from '../../errors.js';

export const trainCommand: Command = {
  command: 'train',
  describe: '(not implemented yet)',
  builder: (y) => y,
  async run() {
    throw new PeftError('USAGE', 'peft train is not implemented yet');
  },
};
