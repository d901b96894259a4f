import type { Command } from '../command.js';
import { recipeSchemaPath, recipeSchemaText } from '../../recipes/index.js';

interface SchemaArgs {
  path?: boolean;
}

export const schemaCommand: Command<SchemaArgs> = {
  command: 'schema',
  describe: 'print the recipe JSON Schema (for editors and CI)',
  builder: (y) =>
    y
      .option('path', { type: 'boolean', describe: 'print where the schema file is instead of its text' })
      .example('$0 schema > recipe.schema.json', 'save it for an editor'),
  async run(args) {
    // The schema is itself one JSON document, so --json changes nothing.
    process.stdout.write(args.path ? recipeSchemaPath() + '\n' : recipeSchemaText());
    return 0;
  },
};
