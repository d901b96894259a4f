// The parts of the recipe JSON Schema that the plan's tables decide: the preset and function
// enums, one definition per option key, and the keys a method and a module take. The shipped
// schemas/recipe.schema.json is these parts laid over its hand-written rest; `npm run schema`
// rewrites it and a test fails when the file and the tables disagree.
import { FUNCTIONS, FUNCTION_KINDS, COMMON_OPTION_SCHEMAS, type OptionUse } from './functions/index.js';
import { DIMENSION_KEYS } from './compile-method.js';
import { PRESET_NAMES } from './presets.js';
import { CRITERIA, CRITERION_NAMES, SELECT_OPTIONS } from './selection/index.js';

type Json = Record<string, unknown>;

/** Option key → its schema, from the table entries (a key shared by functions must agree). */
export function optionSchemas(): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const kind of FUNCTION_KINDS) {
    for (const [key, use] of Object.entries(FUNCTIONS[kind].options) as [string, OptionUse<unknown>][]) {
      const prev = out.get(key);
      if (prev && JSON.stringify(prev) !== JSON.stringify(use.schema)) throw new Error(`option ${key}: two functions give it different schemas`);
      out.set(key, { ...use.schema });
    }
  }
  return out;
}

/** The keys of a module, in the schema's order: dimensions, options, then init and dropout. */
export function moduleKeys(): string[] {
  const dims = DIMENSION_KEYS.filter((k) => k !== 'init' && k !== 'dropout');
  return ['preset', ...dims, ...optionSchemas().keys(), 'init', 'dropout'];
}

/** The recipe schema with the table-decided parts replaced (the input is not modified). */
export function withMethodParts(schema: Json): Json {
  const out = structuredClone(schema) as Json & { definitions: Record<string, Json>; properties: Record<string, Json> };
  const defs = out.definitions;
  defs.preset = { ...defs.preset, enum: [...PRESET_NAMES] };
  defs.function = {
    type: 'string',
    enum: [...FUNCTION_KINDS],
    description: `How Δh is computed: ${FUNCTION_KINDS.map((k) => FUNCTIONS[k].knownAs).join(', ')}.`,
  };
  for (const [key, s] of optionSchemas()) defs[key] = s;
  defs.init = { ...COMMON_OPTION_SCHEMAS.init };
  defs.dropout = { ...COMMON_OPTION_SCHEMAS.dropout };
  const refs = Object.fromEntries(moduleKeys().map((k) => [k, { $ref: `#/definitions/${k}` }]));
  defs.module = { ...defs.module, properties: refs };
  defs.select = selectSchema();
  const method = out.properties.method as Json & { properties: Record<string, Json> };
  const own = {
    preset: method.properties.preset, modules: method.properties.modules, unfreeze: method.properties.unfreeze, train_head: method.properties.train_head,
    select: { $ref: '#/definitions/select' },
  };
  out.properties.method = { ...method, properties: { ...own, ...refs } };
  // definitions that the tables no longer have (a removed option) go
  const wanted = new Set([...moduleKeys(), 'module', 'function', 'preset']);
  for (const key of Object.keys(defs)) {
    if (!wanted.has(key) && isOptionLike(key, schema)) delete defs[key];
  }
  return out;
}

/** A definition that was a module key in the input schema (so the tables own it). */
function isOptionLike(key: string, schema: Json): boolean {
  const module = (schema.definitions as Record<string, Json>).module as { properties?: Record<string, unknown> };
  return Boolean(module?.properties && key in module.properties);
}

/** `method.select`: the selection dimension, its criteria and options from the selection table. */
export function selectSchema(): Json {
  const options = Object.fromEntries(Object.entries(SELECT_OPTIONS).map(([k, d]) => [k, { ...d.schema }]));
  return {
    type: 'object',
    description: 'Which existing backbone weights (entries of them) train, by a criterion within a budget; position and layers choose the weights. A selective preset (sara, hft, mask-tuning, spt) sets the criterion; with modules, a selection combines with additive modules.',
    properties: {
      criterion: {
        type: 'string', enum: [...CRITERION_NAMES],
        description: `How entries are chosen: ${CRITERION_NAMES.map((c) => CRITERIA[c].knownAs).join(', ')}.`,
      },
      position: { $ref: '#/definitions/position' },
      layers: { $ref: '#/definitions/layers' },
      budget: {
        type: ['number', 'object'], 'x-expected': 'a fraction in (0, 1], a count of entries, {fraction: x} or {count: n}',
        description: 'How many entries may train: a number ≤ 1 is a fraction of the candidates, above 1 a count; or {fraction: x} / {count: n}.',
        exclusiveMinimum: 0,
        properties: {
          fraction: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'A share of the candidate entries.' },
          count: { type: 'integer', minimum: 1, description: 'A number of entries.' },
        },
        additionalProperties: false, minProperties: 1, maxProperties: 1,
      },
      scope: { type: 'string', enum: ['matrix', 'global'], description: 'Spend the budget in every weight matrix alike (matrix) or over all chosen weights together (global).' },
      ...options,
    },
    additionalProperties: false,
  };
}
