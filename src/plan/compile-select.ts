// The selection compiler: a recipe's `method.select` (a preset's, with the recipe's keys over it)
// → SelectPlan. The criterion's table entry decides its options; the budget, scope, positions and
// layers are checked at their place, as the module compiler checks a module.
import type { DocPath, LayerSelector, SelectPlan } from './types.js';
import type { MethodContext } from './compile-method.js';
import { CRITERIA, CRITERION_NAMES, PROJECTIONS, SELECT_OPTIONS, criterionSpec, type SelectBudget, type SelectOptionUse, type SelectScope } from './selection/index.js';
import { USER_POSITIONS, parsePosition, positionKind } from './positions.js';
import { positionAbsence } from './families.js';
import { parseLayers, checkLayersInRange, type Report } from './layers.js';
import { suggest } from './suggest.js';

/** The keys a `select` mapping takes: its dimensions, then every criterion's options. */
export const SELECT_DIMENSIONS = ['criterion', 'position', 'layers', 'budget', 'scope'] as const;
export const SELECT_KEYS: string[] = [...SELECT_DIMENSIONS, ...Object.keys(SELECT_OPTIONS)];

/** Option key → the criteria that take it. */
const OWNERS: Map<string, string[]> = (() => {
  const m = new Map<string, string[]>();
  for (const c of CRITERION_NAMES) for (const key of Object.keys(CRITERIA[c].options)) m.set(key, [...(m.get(key) ?? []), c]);
  return m;
})();

/** A budget as a recipe writes it: 0.1 (a fraction), 5000 (a count), {fraction: 0.1} or {count: 5000}. */
export function parseBudget(v: unknown, path: DocPath, report: Report): SelectBudget | null {
  const o = v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  const fraction = typeof v === 'number' && v <= 1 ? v : typeof o?.fraction === 'number' ? o.fraction : null;
  const count = typeof v === 'number' && v > 1 ? v : typeof o?.count === 'number' ? o.count : null;
  if (fraction !== null) {
    if (!(fraction > 0 && fraction <= 1)) report(path, `a fraction must be in (0, 1] (got ${fraction})`, 'e.g. budget: 0.1 (a tenth of the candidate entries)');
    return { fraction };
  }
  if (count !== null) {
    if (!Number.isInteger(count) || count < 1) report(path, `a count must be a whole number ≥ 1 (got ${count})`, 'a number ≤ 1 is a fraction of the candidates, above 1 a count of entries');
    return { count };
  }
  report(path, `must be a fraction in (0, 1], a count of entries, {fraction: x} or {count: n} (got ${JSON.stringify(v)})`, 'e.g. budget: 0.1 or budget: {count: 5000}');
  return null;
}

function checkPositions(positions: string[], given: boolean, base: DocPath, ctx: MethodContext, report: Report): void {
  if (!given) return;
  positions.forEach((p, i) => {
    const where: DocPath = [...base, 'position', i];
    const parsed = parsePosition(p);
    if (!parsed) {
      const near = suggest(p, USER_POSITIONS);
      report(where, `unknown position "${p}"${near ? ` (did you mean "${near}"?)` : ''}`, 'positions are listed in docs/recipes.md');
      return;
    }
    if (positionKind(parsed.role) !== 'linear') {
      report(where, `select chooses entries of weights, and ${p} is not a projection`, `projections: ${PROJECTIONS.join(', ')}`);
      return;
    }
    const sliced = ctx.family?.fusedQkv && /(^|_)attn\.(query|key|value)$/.test(parsed.role);
    if (sliced) report(where, `${p} is a slice of ${ctx.family!.name}'s fused q/k/v projection, with no weight of its own`, 'select attn.qkv');
    if (ctx.family) {
      const absent = positionAbsence(ctx.family, parsed.stack, parsed.role);
      if (absent) report(where, `position ${p} does not exist here: ${absent}`, 'peft inspect BACKBONE_DIR lists its positions');
    }
  });
}

/**
 * A `select` mapping → SelectPlan, or null when it names no usable criterion. Problems are
 * reported at `base` + the key; the plan is still returned when they are recoverable.
 */
export function compileSelect(
  raw: Record<string, unknown>, base: DocPath, ctx: MethodContext, report: Report, presetName?: string,
  /** The keys the recipe itself wrote (a preset's positions are skipped where a backbone lacks them, as the defaults are). */
  written: ReadonlySet<string> = new Set(Object.keys(raw)),
): SelectPlan | null {
  const name = raw.criterion;
  if (name === undefined) {
    report(base, 'select has no criterion', `criteria: ${CRITERION_NAMES.join(', ')}`);
    return null;
  }
  const spec = criterionSpec(String(name));
  if (!spec) {
    const near = suggest(String(name), CRITERION_NAMES);
    report([...base, 'criterion'], `unknown criterion "${name}"${near ? ` (did you mean "${near}"?)` : ''}`, `criteria: ${CRITERION_NAMES.join(', ')}`);
    return null;
  }
  for (const key of Object.keys(raw)) {
    const owners = OWNERS.get(key);
    if (owners && !owners.includes(spec.criterion)) report([...base, key], `does not apply to criterion ${spec.criterion}`, `${key} belongs to ${owners.join(', ')}`);
  }
  const options: Record<string, unknown> = {};
  for (const [key, use] of Object.entries(spec.options) as [string, SelectOptionUse<unknown>][]) {
    const given = raw[key];
    options[key] = given !== undefined ? given : use.fallback;
  }
  // an option object given in part keeps the defaults of its other fields
  if (spec.criterion === 'magnitude' && raw.reselect) options.reselect = { times: 1, ...(raw.reselect as object) };
  if (spec.criterion === 'learned' && raw.gdr) options.gdr = { ...(CRITERIA.learned.options.gdr.fallback ?? {}), ...(raw.gdr as object) };

  let budget: SelectBudget | null = null;
  if (spec.budget === null) {
    if (raw.budget !== undefined) report([...base, 'budget'], `criterion ${spec.criterion} takes no budget: ${spec.granularity === 'tensor' ? 'its rule trains half of every block' : 'the mask it learns decides what changes'}`, 'remove budget');
    if (raw.scope !== undefined) report([...base, 'scope'], `criterion ${spec.criterion} takes no budget, so no scope`, 'remove scope');
  } else if (raw.budget !== undefined) {
    budget = parseBudget(raw.budget, [...base, 'budget'], report);
  } else if (!(spec.criterion === 'magnitude' && options.threshold !== null)) {
    budget = spec.budget.fallback;
  }
  const scope = (raw.scope as SelectScope | undefined) ?? spec.scope;
  for (const p of spec.check?.(options as never, budget, raw) ?? []) report([...base, p.key], p.message, p.hint ?? `peft methods shows what select ${spec.criterion} takes`);

  const givenPositions = written.has('position');
  const positions = raw.position === undefined ? [...PROJECTIONS] : Array.isArray(raw.position) ? raw.position.map(String) : [String(raw.position)];
  checkPositions(positions, givenPositions, base, ctx, report);
  const layersPath: DocPath = [...base, 'layers'];
  const layers: LayerSelector = parseLayers(raw.layers, layersPath, report);
  checkLayersInRange(layers, ctx.depth, layersPath, report);
  return {
    preset: presetName, criterion: spec.criterion, positions, defaultPositions: !givenPositions, layers, budget, scope, options,
  } as SelectPlan;
}

/** `magnitude 10% per matrix`: the criterion with its budget, for descriptions. */
export function budgetText(s: Pick<SelectPlan, 'budget' | 'scope'>): string {
  if (!s.budget) return '';
  const amount = 'fraction' in s.budget ? `${+(s.budget.fraction * 100).toPrecision(4)}%` : `${s.budget.count.toLocaleString('en-US')} entries`;
  return `${amount} ${s.scope === 'matrix' ? 'per matrix' : 'over all chosen weights'}`;
}
