// The low-rank family's paper recipes (configs/papers/<paper>/): each validates, names its paper,
// table and row, and `peft inspect` gives the trainable count its README states — the paper's
// figure where the paper prints one we could check (VeRA 0.043M, VB-LoRA's bank 0.023M, CorDA
// 320M, NOLA's 0.57M ≈ "0.6M", intrinsic dimension 750).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/fixtures.js';
import { planRecipe, validateRecipeFile, type Plan } from '../../src/recipes/index.js';
import { inspectPlan } from '../../src/engine/inspect.js';

const PAPERS: Record<string, { trainable: number; shared?: boolean; printed?: string }> = {
  'kopiczko2024-vera': { trainable: 43_008, printed: '0.043M' },
  'koohpayegani2024-nola': { trainable: 573_440, printed: '0.6M' },
  'li2024-vblora': { trainable: 23_040, shared: true, printed: '0.023M' },
  'wang2025-mos': { trainable: 2_498_560 },
  'shi2024-loldu': { trainable: 18_456 },
  'si2024-flora': { trainable: 20_002_816 },
  'kim2023-hydra': { trainable: 239_712 },
  'gao2024-mola': { trainable: 105_635_840 },
  'zhang2023-increlora': { trainable: 497_808 },
  'liang2025-triadaptlora': { trainable: 665_280 },
  'yang2024-corda': { trainable: 319_815_680, printed: '320M' },
  'li2018-intrinsic-dimension': { trainable: 750, printed: '750' },
};

function plan(file: string): Plan {
  const v = validateRecipeFile(file);
  assert.deepEqual(v.issues, [], file);
  const { plan: p, issues } = planRecipe(v.resolved!);
  assert.deepEqual(issues, [], file);
  return p!;
}

for (const [paper, want] of Object.entries(PAPERS)) {
  test(`${paper}: the recipe validates, names its row, and inspect prints ${want.trainable.toLocaleString('en-US')}${want.printed ? ` (the paper's ${want.printed})` : ''}`, () => {
    const dir = join(REPO, 'configs', 'papers', paper);
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 1);
    const p = plan(join(dir, files[0]));
    assert.match(p.description ?? '', /^[A-Z][a-z]+ et al\. \d{4}, /, 'names the paper');
    const r = inspectPlan(p);
    assert.equal(r.modules.length, 1);
    const m = r.modules[0];
    assert.equal(want.shared ? m.shared_params : m.trainable_params, want.trainable);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    assert.ok(readme.includes(want.trainable.toLocaleString('en-US')), 'the README states the count');
    if (want.printed) assert.ok(readme.includes(want.printed), 'the README states the paper\'s figure');
  });
}
