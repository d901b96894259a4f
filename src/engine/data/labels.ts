// Label names ↔ ids for classification tasks. A row's label may be given as a name or as an id
// (a number, or a string of digits as CSV gives it); a name is tried first, so numeric-looking
// label names (star ratings "1".."5") keep meaning the name.

import type { TaskPlan } from '../../plan/index.js';

export class LabelSet {
  private readonly ids: Map<string, number>;

  constructor(
    /** Declared names, index = id; null when the task only gives a count. */
    readonly names: readonly string[] | null,
    /** Number of classes; null when undeclared (then any non-negative integer is accepted). */
    readonly count: number | null,
  ) {
    this.ids = new Map((names ?? []).map((n, i) => [n, i]));
  }

  static fromTask(task: Pick<TaskPlan, 'labels' | 'numLabels'>): LabelSet {
    return new LabelSet(task.labels, task.labels?.length ?? task.numLabels);
  }

  /** The id of a label value, or null when it is not in the set. */
  toId(value: unknown): number | null {
    if (typeof value === 'string') {
      const byName = this.ids.get(value);
      if (byName !== undefined) return byName;
      const t = value.trim();
      if (!/^[+-]?\d+(\.0*)?$/.test(t)) return null;
      return this.checkId(Number(t));
    }
    if (typeof value === 'number') return Number.isInteger(value) ? this.checkId(value) : null;
    if (typeof value === 'bigint') return this.checkId(Number(value));
    if (typeof value === 'boolean') return this.checkId(value ? 1 : 0);
    return null;
  }

  private checkId(id: number): number | null {
    if (!Number.isSafeInteger(id) || id < 0) return null;
    if (this.count !== null && id >= this.count) return null;
    return id;
  }

  /** The name of an id (its number as a string when the task names no labels). */
  name(id: number): string {
    return this.names?.[id] ?? String(id);
  }

  /** The allowed set for messages: `0, 1` or `negative, positive (or ids 0, 1)`. */
  describe(): string {
    if (this.count === null) return 'a non-negative integer';
    const ids = this.count <= 12 ? Array.from({ length: this.count }, (_, i) => i).join(', ') : `0 … ${this.count - 1}`;
    if (this.names === null) return ids;
    const names = this.names.length <= 12 ? this.names.join(', ') : `${this.names.slice(0, 10).join(', ')}, … (${this.names.length} names)`;
    return `${names} (or ids ${ids})`;
  }
}
