import type { Command } from '../command.js';
import { PeftError } from '../../errors.js';

export const schemaCommand: Command = {
  command: 'schema',
  describe: '(not implemented yet)',
  builder: (y) => y,
  async run() {
    throw new PeftError('USAGE', 'peft schema is not implemented yet');
  },
};
