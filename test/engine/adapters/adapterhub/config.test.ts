// AdapterHub configurations beyond the fixtures' defaults: what is translated (leave_out per
// stack, the version's LoRA scaling), what is refused by name (options we do not compute), and the
// planner's checks of `ln_input: original`, the option seq_bn needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, useBackend, SKIP_NO_SHARED } from '../../../helpers/fixtures.js';
import { buildBackbone, loadBackbone } from '../../../../src/engine/backbones/index.js';
import { hubMethod, loadAdapterHub, readHubWrapper } from '../../../../src/engine/adapters/adapterhub/index.js';
import { compileMethod } from '../../../../src/plan/index.js';
import { catalogEntry } from '../../../../src/plan/index.js';
import { PeftError } from '../../../../src/errors.js';

/** A copy of an adapter fixture with its configuration (and wrapper) edited. */
function edited(name: string, edit: (cfg: Record<string, any>, wrapper: Record<string, any>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'peft-hub-'));
  cpSync(fixture('adapters', name), dir, { recursive: true });
  const file = join(dir, 'adapter_config.json');
  const wrapper = JSON.parse(readFileSync(file, 'utf8'));
  edit(wrapper.config, wrapper);
  writeFileSync(file, JSON.stringify(wrapper));
  return dir;
}

const bart = () => loadBackbone(fixture('models', 'bart'), { task: 'seq2seq' }).model;
const bert = () => loadBackbone(fixture('models', 'bert'), { task: 'seq-cls' }).model;

test('seq_bn becomes a sequential bottleneck at ffn.output reading the sublayer\'s own LayerNorm', { skip: SKIP_NO_SHARED }, () => {
  const w = readHubWrapper(fixture('adapters', 'bart-seq_bn'));
  const { method } = hubMethod(w, buildBackbone(fixture('models', 'bart'), { task: 'seq2seq' }).model, []);
  assert.equal(method.modules.length, 1);
  const m = method.modules[0];
  assert.deepEqual([m.function, m.positions, m.insertion, m.composition, m.options.bottleneck, m.options.ln_input, m.options.nonlinearity],
    ['bottleneck', ['ffn.output'], 'sequential', 'add', 2, 'original', 'relu']);
  const par = hubMethod(readHubWrapper(fixture('adapters', 'bart-par_bn')), buildBackbone(fixture('models', 'bart'), { task: 'seq2seq' }).model, []).method.modules[0];
  assert.deepEqual([par.insertion, par.composition, par.scale, par.options.init], ['parallel', 'scaled', 4, 'lora']);
});

test('leave_out numbers decoder layers after the encoder\'s: one module per stack when they differ', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const dir = edited('bart-lora', (c) => { c.leave_out = [1, 2]; });
  const { peft, warnings } = loadAdapterHub(dir, bart());
  const sites = peft.modules.flatMap((m) => m.sites.map((s) => `${s.stack}.${s.layer}.${s.position}`)).sort();
  assert.deepEqual(sites, [
    'decoder.1.cross_attn.query', 'decoder.1.cross_attn.value', 'decoder.1.self_attn.query', 'decoder.1.self_attn.value',
    'encoder.0.self_attn.query', 'encoder.0.self_attn.value',
  ]);
  // the left-out layers' tensors are still in the file: reported, not used
  assert.equal(warnings.filter((w) => /was not used/.test(w)).length, 24 - 12);
});

test('LoRA scaling follows the version that wrote the file: s = 1 before adapters 1.1.0, alpha / r after', { skip: SKIP_NO_SHARED }, () => {
  const model = buildBackbone(fixture('models', 'bert'), { task: 'seq-cls' }).model;
  const old = edited('bert-lora', (c) => { c.alpha = 16; });
  const warnings: string[] = [];
  assert.equal(hubMethod(readHubWrapper(old), model, warnings).method.modules[0].scale, 1);
  assert.match(warnings.join('\n'), /s = 1, not alpha \/ r = 2/);
  const modern = edited('bert-lora', (c, w) => { c.alpha = 16; w.version = '1.1.0'; });
  assert.equal(hubMethod(readHubWrapper(modern), model, []).method.modules[0].scale, 2);
});

test('options we do not compute are errors naming the key; unknown keys are warnings', { skip: SKIP_NO_SHARED }, () => {
  const model = buildBackbone(fixture('models', 'bert'), { task: 'seq-cls' }).model;
  const refuse = (name: string, edit: (c: Record<string, any>) => void, key: RegExp) => {
    assert.throws(() => hubMethod(readHubWrapper(edited(name, edit)), model, []),
      (e: unknown) => e instanceof PeftError && e.code === 'FORMAT' && key.test(e.where ?? ''), name);
  };
  refuse('bert-seq_bn', (c) => { c.use_gating = true; }, /config\.use_gating$/);
  refuse('bert-seq_bn', (c) => { c.phm_layer = true; }, /config\.phm_layer$/);
  refuse('bert-par_bn', (c) => { c.scaling = 'channel'; }, /config\.scaling$/);
  refuse('bert-seq_bn', (c) => { c.residual_before_ln = 'post_add'; }, /config\.residual_before_ln$/);
  refuse('bert-prefix_tuning', (c) => { c.leave_out = [0]; }, /config\.leave_out$/);
  refuse('bert-mam', (c) => { c.configs[1].use_gating = true; }, /config\.configs\[1\]\.use_gating$/);
  refuse('bert-lora', (c) => { c.architecture = 'loreft'; }, /config\.architecture$/);
  const warnings: string[] = [];
  hubMethod(readHubWrapper(edited('bert-seq_bn', (c) => { c.some_new_option = 3; })), model, warnings);
  assert.match(warnings.join('\n'), /config\.some_new_option: unknown AdapterHub option/);
});

test('the hidden size is checked; a pickle-only directory says what to do', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = bert();
  assert.throws(() => loadAdapterHub(edited('bert-lora', (_c, w) => { w.hidden_size = 64; }), model), (e: unknown) => e instanceof PeftError && e.code === 'SHAPE');
  const dir = edited('bert-lora', () => {});
  cpSync(join(dir, 'adapter.safetensors'), join(dir, 'pytorch_adapter.bin'));
  rmSync(join(dir, 'adapter.safetensors'));
  assert.throws(() => loadAdapterHub(dir, model), (e: unknown) => e instanceof PeftError && e.code === 'FILE' && /pickle/.test(e.hint ?? ''));
});

test('ln_input: original is planned only where it means something: sequential, sublayer output, post-LN', () => {
  const issues = (family: string, spec: Record<string, unknown>) => {
    const out: string[] = [];
    compileMethod({ modules: { a: { function: 'bottleneck', ...spec } } }, { family: catalogEntry(family), depth: 2, task: 'seq2seq' }, (_p, m) => out.push(m));
    return out;
  };
  assert.deepEqual(issues('bart', { position: 'ffn.output', ln_input: 'original' }), []);
  assert.deepEqual(issues('bert', { position: 'attn.output', ln_input: 'original' }), []);
  assert.match(issues('mbart', { position: 'ffn.output', ln_input: 'original' }).join(), /pre-LN/);
  assert.match(issues('bart', { position: 'ffn.output', ln_input: 'original', insertion: 'parallel' }).join(), /sequential/);
  assert.match(issues('bart', { position: 'block.output', ln_input: 'original' }).join(), /sublayer's output/);
  assert.match(issues('bart', { function: 'lowrank', position: 'attn.query', ln_input: 'original' }).join(), /does not apply to function lowrank/);
});
