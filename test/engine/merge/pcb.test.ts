// PCB-merging against the authors' code (test/fixtures/reference/pcb_merging: pcb-merging.py and
// the two vision variants) on the merge-utils task vectors: every intermediate and the merge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO, assertClose } from '../../helpers/fixtures.js';
import { openSafetensors } from '../../../src/engine/io/safetensors.js';
import { pcbMerge } from '../../../src/engine/merge/pcb.js';

const DIR = join(REPO, 'test', 'fixtures', 'reference', 'pcb_merging');
const file = openSafetensors(join(DIR, 'tensors.safetensors'));
const rows = (name: string) => {
  const all = file.read(name);
  const d = all.length / 3;
  return [0, 1, 2].map((i) => all.slice(i * d, (i + 1) * d));
};
const tasks = rows('tasks');
const weights = Array.from(file.read('weights'));

test('variant A (pcb-merging.py): clamp, intra, inter, drop+rescale scale and merged vectors', () => {
  for (const r of [30, 60]) {
    const ratio = r / 100;
    const res = pcbMerge(tasks, weights, ratio, 'A');
    const plain = pcbMerge(tasks, [1, 1, 1], ratio, 'A');
    rows('A_clamped_checks').forEach((want, i) => assertClose(res.clamped[i], Array.from(want), `clamped ${i}`));
    rows('A_intra').forEach((want, i) => assertClose(res.intra[i], Array.from(want), `intra ${i}`));
    rows('A_inter').forEach((want, i) => assertClose(res.inter[i], Array.from(want), `inter ${i}`));
    rows(`A_r${r}_scale`).forEach((want, i) => assertClose(res.scale[i], Array.from(want), `scale r=${ratio} task ${i}`));
    assertClose(res.merged, Array.from(file.read(`A_r${r}_merged_weighted`)), `merged (λ = weights) r=${ratio}`);
    assertClose(plain.merged, Array.from(file.read(`A_r${r}_merged`)), `merged (no λ) r=${ratio}`);
    // the drop keeps d − ⌊d(1 − r)⌋ − 1 entries per task (the code's off-by-one)
    const kept = res.scale.map((s) => s.filter((v) => v > 0).length);
    assert.deepEqual(kept, r === 30 ? [8, 8, 8] : [17, 17, 17]);
  }
});

test('variants ES (pcb_ES.py) and V (pcb.py): their inter-balancing and merges', () => {
  for (const r of [30, 60]) {
    const ratio = r / 100;
    const es = pcbMerge(tasks, weights, ratio, 'ES');
    rows('ES_clamped_checks').forEach((want, i) => assertClose(es.clamped[i], Array.from(want), `ES clamped ${i}`));
    rows('ES_intra').forEach((want, i) => assertClose(es.intra[i], Array.from(want), `ES intra ${i}`));
    rows('ES_inter').forEach((want, i) => assertClose(es.inter[i], Array.from(want), `ES inter ${i}`));
    rows(`ES_r${r}_scale`).forEach((want, i) => assertClose(es.scale[i], Array.from(want), `ES scale ${i}`));
    assertClose(es.merged, Array.from(file.read(`ES_r${r}_merged_weighted`)), `ES merged r=${ratio}`);
    assertClose(pcbMerge(tasks, [1, 1, 1], ratio, 'ES').merged, Array.from(file.read(`ES_r${r}_merged`)), `ES merged no λ r=${ratio}`);
    const v = pcbMerge(tasks, weights, ratio, 'V');
    rows('V_intra').forEach((want, i) => assertClose(v.intra[i], Array.from(want), `V intra ${i}`));
    rows('V_inter').forEach((want, i) => assertClose(v.inter[i], Array.from(want), `V inter ${i}`));
    rows(`V_r${r}_scale`).forEach((want, i) => assertClose(v.scale[i], Array.from(want), `V scale ${i}`));
    assertClose(v.merged, Array.from(file.read(`V_r${r}_merged_weighted`)), `V merged r=${ratio}`);
  }
});
