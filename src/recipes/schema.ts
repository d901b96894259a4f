// The recipe JSON Schema (schemas/recipe.schema.json at the package root), read once.
// The path is taken relative to this module, which sits two levels below the root both as
// src/recipes/schema.ts (tsx) and as dist/recipes/schema.js (compiled).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PeftError } from '../errors.js';

/** A JSON Schema node, as far as this code reads it. */
export interface SchemaNode {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  required?: string[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  $ref?: string;
  description?: string;
  definitions?: Record<string, SchemaNode>;
  /** Our annotation: how to say what a union-typed value must be, in messages. */
  'x-expected'?: string;
  [key: string]: unknown;
}

let cached: { text: string; schema: SchemaNode } | null = null;

/** Absolute path of schemas/recipe.schema.json. */
export function recipeSchemaPath(): string {
  return fileURLToPath(new URL('../../schemas/recipe.schema.json', import.meta.url));
}

function load(): { text: string; schema: SchemaNode } {
  if (cached) return cached;
  const file = recipeSchemaPath();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PeftError('FILE', `cannot read the recipe schema (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      where: file,
      hint: 'the package is incomplete: reinstall peft',
    });
  }
  cached = { text, schema: JSON.parse(text) as SchemaNode };
  return cached;
}

/** The schema file's text, exactly as shipped (what `peft schema` prints). */
export function recipeSchemaText(): string {
  return load().text;
}

/** The parsed schema. Do not modify it. */
export function recipeSchema(): SchemaNode {
  return load().schema;
}

/** Follows a local `#/definitions/x` reference. */
export function deref(root: SchemaNode, node: SchemaNode): SchemaNode {
  let n = node;
  for (let i = 0; n.$ref !== undefined && i < 16; i++) {
    const name = n.$ref.replace(/^#\/definitions\//, '');
    const target = root.definitions?.[name];
    if (!target) break;
    n = target;
  }
  return n;
}

/** The subschema that applies at `path` (map keys and list indices), or undefined. */
export function schemaAt(path: readonly (string | number)[], root: SchemaNode = recipeSchema()): SchemaNode | undefined {
  let node: SchemaNode | undefined = deref(root, root);
  for (const seg of path) {
    if (!node) return undefined;
    let next: SchemaNode | undefined;
    if (typeof seg === 'number' || /^\d+$/.test(seg)) next = node.items;
    if (next === undefined && typeof seg === 'string') {
      next = node.properties?.[seg] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
    }
    node = next && deref(root, next);
  }
  return node;
}
