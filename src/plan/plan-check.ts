// Is a document read back from disk (a run's recipe.resolved.yaml) a Plan? The engine trusts a
// Plan's shape, so a damaged or hand-edited record is refused here with the key at fault, not
// deep inside the engine as "cannot read properties of undefined".
import { TASK_TYPES } from './types.js';

type Check = (v: unknown) => boolean;

const str: Check = (v) => typeof v === 'string';
const num: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const posInt: Check = (v) => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const bool: Check = (v) => typeof v === 'boolean';
const obj: Check = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const list: Check = (v) => Array.isArray(v);
const orNull = (c: Check): Check => (v) => v === null || c(v);
const oneOf = (...values: string[]): Check => (v) => typeof v === 'string' && values.includes(v);

/** Keys every Plan has, with what each must be (dotted paths into the document). */
const SHAPE: [string, Check, string][] = [
  ['name', str, 'a string'],
  ['seed', num, 'a number'],
  ['backbone', obj, 'a mapping'],
  ['backbone.path', str, 'a path'],
  ['task', obj, 'a mapping'],
  ['task.type', oneOf(...TASK_TYPES), 'a task type'],
  ['task.numLabels', orNull(posInt), 'a positive integer or null'],
  ['data', obj, 'a mapping'],
  ['data.train', orNull(obj), 'a split or null'],
  ['data.validation', orNull(obj), 'a split or null'],
  ['data.test', orNull(obj), 'a split or null'],
  ['data.maxLength', posInt, 'a positive integer'],
  ['data.packing', bool, 'true or false'],
  ['data.onError', oneOf('fail', 'skip'), 'fail or skip'],
  ['method', obj, 'a mapping'],
  ['method.modules', list, 'a list'],
  ['method.unfreeze', list, 'a list'],
  ['method.trainHead', bool, 'true or false'],
  ['training', obj, 'a mapping'],
  ['training.maxSteps', orNull(posInt), 'a positive integer or null'],
  ['training.epochs', orNull(num), 'a number or null'],
  ['training.batchSize', posInt, 'a positive integer'],
  ['training.gradAccum', posInt, 'a positive integer'],
  ['training.logEvery', posInt, 'a positive integer'],
  ['training.keepCheckpoints', num, 'a number'],
  ['training.lossSpike', obj, 'a mapping'],
  ['optimizer', obj, 'a mapping'],
  ['optimizer.name', oneOf('adamw', 'adam', 'sgd', 'lion'), 'an optimizer name'],
  ['optimizer.lr', num, 'a number'],
  ['optimizer.groups', list, 'a list'],
  ['schedule', obj, 'a mapping'],
  ['schedule.name', oneOf('constant', 'linear', 'cosine', 'polynomial'), 'a schedule name'],
  ['eval', obj, 'a mapping'],
  ['eval.metrics', list, 'a list'],
  ['eval.batchSize', posInt, 'a positive integer'],
  ['generate', orNull(obj), 'a mapping or null'],
  ['output', obj, 'a mapping'],
  ['output.dir', str, 'a path'],
];

function at(doc: unknown, dotted: string): unknown {
  let v = doc;
  for (const k of dotted.split('.')) v = obj(v) ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** The first way `doc` is not a Plan (`training.batchSize is missing`), or null when it has a Plan's shape. */
export function planShapeProblem(doc: unknown): string | null {
  if (!obj(doc)) return `holds ${doc === null || doc === undefined ? 'nothing' : Array.isArray(doc) ? 'a list' : `a ${typeof doc}`}, not a plan`;
  for (const [key, check, what] of SHAPE) {
    const v = at(doc, key);
    if (v === undefined) return `${key} is missing`;
    if (!check(v)) return `${key} must be ${what} (got ${JSON.stringify(v)?.slice(0, 40)})`;
  }
  const modules = at(doc, 'method.modules') as unknown[];
  for (const [i, m] of modules.entries()) {
    if (!obj(m) || !str((m as Record<string, unknown>).function) || !list((m as Record<string, unknown>).positions) || !obj((m as Record<string, unknown>).options)) {
      return `method.modules[${i}] is not a module plan (function, positions, options)`;
    }
  }
  for (const split of ['train', 'validation', 'test']) {
    const sp = at(doc, `data.${split}`);
    if (obj(sp) && !str((sp as Record<string, unknown>).path)) return `data.${split}.path must be a path`;
  }
  return null;
}
