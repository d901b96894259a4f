// ajv's errors → RecipeIssues a person can act on: one issue per problem (ajv reports a failed
// union type once per branch, and a bad key once per keyword), each with the place, the
// dotted path, what was expected, what was found, and a did-you-mean where one is close.
import type { ErrorObject } from 'ajv';
import { describe, orList, patternWords, show } from './describe.js';
import { deref, schemaAt } from './schema.js';
import type { SchemaNode } from './schema.js';
import { dottedPath } from './source.js';
import { suggest } from '../plan/index.js';
import type { DocPath, RecipeDoc, RecipeIssue, ResolvedRecipe } from './types.js';

/** Keywords about a map's keys (one issue per key); the rest judge the value at the path. */
const KEY_KEYWORDS = new Set(['required', 'additionalProperties', 'propertyNames', 'dependencies']);
/** Allowed keys are listed in a hint when there are at most this many. */
const MAX_LISTED_KEYS = 12;

function valueAt(doc: unknown, path: DocPath): unknown {
  let v = doc;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg as string];
  }
  return v;
}

/** A JSON pointer (`/method/layers/0`) as a DocPath, numbers where the document has a list. */
function pointerPath(pointer: string, doc: RecipeDoc): DocPath {
  if (pointer === '') return [];
  const out: DocPath = [];
  let v: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const isIndex = Array.isArray(v);
    out.push(isIndex ? Number(seg) : seg);
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined;
  }
  return out;
}

const homesCache = new WeakMap<SchemaNode, Map<string, string[]>>();

/** Where each key of the schema is allowed, by paths a person can name: `lr` → ['optimizer']. */
function keyHomes(root: SchemaNode): Map<string, string[]> {
  const cached = homesCache.get(root);
  if (cached) return cached;
  const homes = new Map<string, string[]>();
  const walk = (s: SchemaNode, at: string, depth: number): void => {
    if (depth > 4) return;
    const node = deref(root, s);
    for (const [k, sub] of Object.entries(node.properties ?? {})) {
      // Only homes a person can name: no list items or free-named entries on the way.
      if (!/[[<]/.test(at)) homes.set(k, [...(homes.get(k) ?? []), at || 'the top level']);
      walk(sub, at ? `${at}.${k}` : k, depth + 1);
    }
    if (node.items) walk(node.items, `${at}[]`, depth + 1);
    if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${at}.<name>`, depth + 1);
  };
  walk(root, '', 0);
  homesCache.set(root, homes);
  return homes;
}

export interface IssueContext {
  recipe: ResolvedRecipe;
  schema: SchemaNode;
  /** Position of the key at the end of a path (falls back to recipe.locate). */
  locateKey: (path: DocPath) => string;
}

function unknownKey(ctx: IssueContext, parent: DocPath, key: string): RecipeIssue {
  const path = [...parent, key];
  const allowed = Object.keys(schemaAt(parent, ctx.schema)?.properties ?? {});
  const guess = suggest(key, allowed);
  let hint: string;
  if (guess) hint = `rename it to "${guess}"`;
  else {
    const homes = keyHomes(ctx.schema).get(key);
    if (homes) hint = `"${key}" is a key of ${orList(homes)}`;
    else if (allowed.length <= MAX_LISTED_KEYS) hint = `allowed here: ${allowed.join(', ')}`;
    else hint = 'docs/recipes.md (or peft schema) lists the allowed keys';
  }
  return {
    where: ctx.locateKey(path),
    path: dottedPath(path),
    message: `unknown key "${key}"${guess ? ` (did you mean "${guess}"?)` : ''}`,
    hint,
  };
}

function keyIssue(ctx: IssueContext, e: ErrorObject, parent: DocPath): RecipeIssue | null {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const missing = String(p.missingProperty);
      const node = schemaAt([...parent, missing], ctx.schema);
      const what = node?.description ? ` (${node.description.replace(/\.$/, '')})` : '';
      return {
        where: ctx.locateKey(parent),
        path: dottedPath(parent),
        message: `missing required key "${missing}"`,
        hint: `add ${missing}:${parent.length ? ` under ${dottedPath(parent)}` : ''}${what}; docs/recipes.md shows an example`,
      };
    }
    case 'additionalProperties':
      return unknownKey(ctx, parent, String(p.additionalProperty));
    case 'propertyNames': {
      const key = String(p.propertyName);
      const names = schemaAt(parent, ctx.schema)?.propertyNames as SchemaNode | undefined;
      return {
        where: ctx.locateKey([...parent, key]),
        path: dottedPath([...parent, key]),
        message: `invalid key "${key}" (must be ${names ? describe(names) : 'a valid name'})`,
        hint: 'rename the key',
      };
    }
    case 'dependencies':
      return {
        where: ctx.locateKey(parent),
        path: dottedPath(parent),
        message: `missing key "${String(p.missingProperty)}" (needed with "${String(p.property)}")`,
        hint: `add ${String(p.missingProperty)} next to ${String(p.property)}, or remove ${String(p.property)}`,
      };
  }
  return null;
}

/** A hint for a scalar written where a mapping belongs: `backbone: ./x` → `{path: ./x}`. */
function mappingHint(s: SchemaNode, path: DocPath, data: unknown): string | undefined {
  if (typeof data !== 'string' || s.type !== 'object' || path.length === 0) return undefined;
  const key = s.required?.length === 1 ? s.required[0] : s.properties?.preset ? 'preset' : undefined;
  return key ? `write ${String(path[path.length - 1])}: {${key}: ${data}}` : undefined;
}

function valueIssue(ctx: IssueContext, group: ErrorObject[], path: DocPath): RecipeIssue {
  const doc = ctx.recipe.doc;
  const data = valueAt(doc, path);
  const s = schemaAt(path, ctx.schema) ?? {};
  const base = { where: ctx.recipe.locate(path), path: dottedPath(path) };
  const keywords = new Set(group.map((e) => e.keyword));
  if (keywords.size === 1 && keywords.has('uniqueItems') && Array.isArray(data)) {
    const i = Number((group[0]!.params as { i: number }).i);
    return { ...base, message: `lists ${show(data[i])} more than once`, hint: 'remove the repeated item' };
  }
  const words = keywords.has('enum')
    ? (s.enum ?? []).map(String)
    : keywords.has('pattern')
      ? [...patternWords(s.pattern), ...(Array.isArray(s.examples) ? s.examples.map(String) : [])]
      : [];
  const guess = typeof data === 'string' && !keywords.has('type') ? suggest(data, words) : undefined;
  const expected = describe(s, (n) => deref(ctx.schema, n));
  const described = typeof s.description === 'string' ? `${base.path || 'this key'}: ${s.description}` : 'peft schema shows what each key takes';
  const hint = mappingHint(s, path, data) ?? (guess ? `write ${guess}` : described);
  return {
    ...base,
    message: `must be ${expected} (got ${show(data)}${guess ? `; did you mean "${guess}"?` : ''})`,
    hint,
  };
}

/** One issue per problem, in the order ajv found them. */
export function issuesFromAjv(errors: readonly ErrorObject[], ctx: IssueContext): RecipeIssue[] {
  // In ajv's order: finished issues, and value groups (by instance path) finished at the end.
  const order: (RecipeIssue | string)[] = [];
  const valueGroups = new Map<string, ErrorObject[]>();
  const deps: { e: ErrorObject; parent: DocPath }[] = [];
  for (const e of errors) {
    if (e.schemaPath.includes('/propertyNames/')) continue; // reported by its propertyNames error
    const path = pointerPath(e.instancePath, ctx.recipe.doc);
    if (e.keyword === 'dependencies') {
      deps.push({ e, parent: path });
    } else if (KEY_KEYWORDS.has(e.keyword)) {
      const issue = keyIssue(ctx, e, path);
      if (issue) order.push(issue);
    } else if (valueGroups.has(e.instancePath)) {
      valueGroups.get(e.instancePath)!.push(e);
    } else {
      valueGroups.set(e.instancePath, [e]);
      order.push(e.instancePath);
    }
  }
  // A value that is wrong as a whole needs no word about its keys' dependencies.
  for (const { e, parent } of deps) {
    if (!valueGroups.has(e.instancePath)) order.push(keyIssue(ctx, e, parent)!);
  }
  return order.map((item) =>
    typeof item === 'string' ? valueIssue(ctx, valueGroups.get(item)!, pointerPath(item, ctx.recipe.doc)) : item,
  );
}
