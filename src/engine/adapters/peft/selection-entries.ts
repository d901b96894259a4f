// A selection in our UNIFIED_VIEW adapter file: a sparse update, not dense matrices. Each trained
// tensor is `base_model.model.<site>.select.<weight|bias>_indices` (I32, flat positions in the
// tensor as the checkpoint stores it, ascending) with `…_values` (F32: the trained values at those
// positions — a patch W[indices] = values, exact, where a stored difference would come back one
// rounding off); SPT's low-rank updates are `…select.lora_A` [r, in] and `lora_B` [out, r]; a
// learned mask is stored as the entries it zeroed (values 0). Whole tensors (HFT) are saved in
// full as modules_to_save. adapter_config.json's `selection` lists the slots as stored, the
// criterion and the seed the masks were drawn from.
import * as tf from '@tensorflow/tfjs-core';
import type { PeftModel } from '../../methods/inject.js';
import type { Selection, SelectionLayout, SlotLayout } from '../../selection/index.js';
import type { AdapterEntry } from './types.js';
import { paramEntry } from './entries.js';
import { PEFT_PREFIX, unifiedName } from './names.js';
import { PeftError } from '../../../errors.js';

/** adapter_config.json's `selection`. */
export interface StoredSelection extends SelectionLayout {
  seed: number;
}

/** Each stored slot, with the indices it stores (a learned mask: the entries it zeroed). */
function storedSlots(sel: Selection): { slot: SlotLayout; indices: Int32Array | null }[] {
  const out: { slot: SlotLayout; indices: Int32Array | null }[] = [];
  for (const s of sel.slotLayouts) {
    const m = sel.attachment(s.site)!;
    if (s.form === 'lowrank') out.push({ slot: { ...s }, indices: null });
    else {
      const indices = m.changedIndices(s.tensor)!;
      if (indices.length > 0 || s.form === 'sparse') out.push({ slot: { site: s.site, tensor: s.tensor, form: 'sparse', count: indices.length }, indices });
    }
  }
  return out;
}

export function storedSelection(peft: PeftModel): StoredSelection | null {
  const sel = peft.selection;
  if (!sel) return null;
  return { criterion: sel.plan.criterion, seed: sel.seed, slots: storedSlots(sel).map((x) => x.slot), whole: [...sel.whole], rounds: sel.rounds.map((r) => [...r]) };
}

/** The layout to install when loading (every slot sparse or low-rank, values from the file). */
export function selectionFromConfig(cfg: Record<string, unknown>): SelectionLayout | undefined {
  const s = cfg.selection as StoredSelection | undefined;
  if (!s) return undefined;
  if (!Array.isArray(s.slots)) throw new PeftError('FORMAT', 'adapter_config.json: selection.slots must be a list', { where: 'adapter_config.json: selection' });
  return { criterion: s.criterion, slots: s.slots, whole: s.whole ?? [], rounds: s.rounds ?? [] };
}

const name = (site: string, local: string) => `${PEFT_PREFIX}${site}.select.${local}`;

export function selectionEntries(peft: PeftModel): AdapterEntry[] {
  const sel = peft.selection;
  if (!sel) return [];
  const out: AdapterEntry[] = [];
  for (const { slot, indices } of storedSlots(sel)) {
    const m = sel.attachment(slot.site)!;
    if (slot.form === 'lowrank') {
      out.push(paramEntry(unifiedName(m.A!.fullName), m.A!), paramEntry(unifiedName(m.B!.fullName), m.B!));
      continue;
    }
    const trained = sel.slotLayouts.find((x) => x.site === slot.site && x.tensor === slot.tensor)!;
    const zeroed = trained.form === 'mask';
    const tensor = slot.tensor;
    out.push({
      name: name(slot.site, `${tensor}_indices`), shape: [slot.count], dtype: 'I32',
      get: () => tf.tensor1d(indices!, 'int32'),
      set: (t) => {
        m.setIndices(tensor, t.dataSync());
        t.dispose();
      },
    }, {
      name: name(slot.site, `${tensor}_values`), shape: [slot.count],
      get: () => (zeroed ? tf.zeros([slot.count]) : tf.clone(m.sparseValues(tensor)!.value)),
      set: (t) => {
        m.setValues(tensor, t.dataSync());
        t.dispose();
      },
    });
  }
  return out;
}
