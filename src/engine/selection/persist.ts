// A selection's layout in a checkpoint: selection.safetensors holds the indices of its sparse
// slots (I32, named `<site>.<tensor>`), trainer_state.json the rest (criterion, slots, whole
// tensors, rounds). A resumed run installs this layout instead of choosing again, so a
// data-dependent choice (sensitivity) and a seeded one resume alike.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { Selection, SelectionLayout } from './selection.js';
import { slotKey } from './selection.js';
import { PeftError } from '../../errors.js';

export const SELECTION_FILE = 'selection.safetensors';

/** Writes the indices into `dir`; returns the JSON half (for trainer_state.json). */
export function writeSelectionLayout(dir: string, sel: Selection): SelectionLayout {
  const { layout, indices } = sel.layout();
  writeSafetensors(join(dir, SELECTION_FILE), [...indices].map(([name, data]) => ({ name, shape: [data.length], data })));
  return layout;
}

/** The layout a checkpoint recorded (null when it has none: a run without a selection). */
export function readSelectionLayout(dir: string, layout: SelectionLayout | undefined): { layout: SelectionLayout; indices: Map<string, Int32Array> } | null {
  if (!layout) return null;
  const file = join(dir, SELECTION_FILE);
  const indices = new Map<string, Int32Array>();
  const needs = layout.slots.filter((s) => s.form === 'sparse');
  if (needs.length > 0) {
    if (!existsSync(file)) throw new PeftError('FORMAT', `the checkpoint has no ${SELECTION_FILE}`, { where: dir, hint: 'resume from an earlier checkpoint' });
    const f = openSafetensors(file);
    for (const s of needs) {
      const key = slotKey(s.site, s.tensor);
      if (!f.has(key)) throw new PeftError('FORMAT', 'the checkpoint lacks the indices of a selected weight', { where: `${file}: ${key}` });
      indices.set(key, f.readInt32(key));
    }
  }
  return { layout, indices };
}
