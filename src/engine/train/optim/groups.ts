// Parameter groups: each parameter takes the settings of the first group whose `match` fits its
// name (a substring, or `/regex/flags`), else the optimizer's defaults.
import { PeftError } from '../../../errors.js';
import type { ParamGroupSpec } from './optimizer.js';

/** The settings one parameter ends up with. */
export interface ResolvedGroup {
  /** Index into the recipe's `groups`, or null for the defaults. */
  group: number | null;
  lr: number;
  weightDecay: number;
}

const REGEX_FORM = /^\/(.*)\/([dgimsuvy]*)$/s;

/** A predicate on parameter names for one group's `match`. */
export function nameMatcher(match: string, where = 'optimizer.groups'): (name: string) => boolean {
  const m = REGEX_FORM.exec(match);
  if (m === null) return (name) => name.includes(match);
  let re: RegExp;
  try {
    // 'g' and 'y' make RegExp.test stateful; a name test must not depend on the previous one.
    re = new RegExp(m[1]!, m[2]!.replace(/[gy]/g, ''));
  } catch (e) {
    throw new PeftError('RECIPE', `${match} is not a valid regular expression: ${(e as Error).message}`, {
      where,
      hint: 'write a plain substring of the parameter name, or a JavaScript regular expression between slashes',
    });
  }
  return (name) => re.test(name);
}

/** Settings for every name: first matching group wins; a group's missing fields fall back to the defaults. */
export function resolveGroups(
  names: Iterable<string>,
  defaults: { lr: number; weightDecay: number },
  groups: readonly ParamGroupSpec[] = [],
): Map<string, ResolvedGroup> {
  const matchers = groups.map((g, i) => nameMatcher(g.match, `optimizer.groups[${i}].match`));
  const out = new Map<string, ResolvedGroup>();
  for (const name of names) {
    const i = matchers.findIndex((fits) => fits(name));
    const g = i < 0 ? undefined : groups[i];
    out.set(name, {
      group: i < 0 ? null : i,
      lr: g?.lr ?? defaults.lr,
      weightDecay: g?.weightDecay ?? defaults.weightDecay,
    });
  }
  return out;
}

/** Indices of groups that no parameter fell into (worth a warning: a typo in `match`, or shadowed by an earlier group). */
export function unusedGroups(resolved: Map<string, ResolvedGroup>, groupCount: number): number[] {
  const used = new Set<number>();
  for (const r of resolved.values()) if (r.group !== null) used.add(r.group);
  return Array.from({ length: groupCount }, (_, i) => i).filter((i) => !used.has(i));
}
