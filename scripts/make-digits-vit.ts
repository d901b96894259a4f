// Makes assets/models/vit-digits-tiny: a ViT small enough for two cores (8×8 grey images, 2×2
// patches, hidden 48, 3 layers), initialised as transformers initialises ViT (normal 0.02 for
// weights and embeddings, LayerNorm 1 and 0, biases 0; seeded), then pretrained on MNIST by
// scripts/make-digits-vit.yaml (`peft train`, every parameter), and exported as a
// Hugging Face model directory (config.json, model.safetensors, PROVENANCE.md) — the backbone of
// the class-incremental optdigits stream. Run: npx tsx scripts/make-digits-vit.ts
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBackbone } from '../src/engine/backbones/index.js';
import { openSafetensors, writeSafetensors } from '../src/engine/io/safetensors.js';
import { normalArray, seedFor } from '../src/engine/random.js';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
const OUT = join(REPO, 'assets', 'models', 'vit-digits-tiny');
const CONFIG = {
  architectures: ['ViTForImageClassification'], model_type: 'vit',
  image_size: 8, patch_size: 2, num_channels: 1, hidden_size: 48, num_hidden_layers: 3, num_attention_heads: 4,
  intermediate_size: 96, hidden_act: 'gelu', hidden_dropout_prob: 0, attention_probs_dropout_prob: 0,
  layer_norm_eps: 1e-12, qkv_bias: true, initializer_range: 0.02,
  id2label: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [String(i), String(i)])),
  label2id: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [String(i), i])),
};

/** Writes the random initialisation, pretrains it, and returns the run's summary. */
function pretrain(): { adapter_dir: string; after?: { accuracy?: number } } {
  const init = mkdtempSync(join(tmpdir(), 'vit-digits-init-'));
  writeFileSync(join(init, 'config.json'), JSON.stringify(CONFIG, null, 2) + '\n');
  const { model } = buildBackbone(init, { task: 'image-cls', numLabels: 10 });
  const tensors = model.root.namedParams().map(([name, p]) => {
    const isNorm = /layernorm|LayerNorm/.test(name);
    const data = name.endsWith('.bias') ? new Float32Array(p.size)
      : isNorm ? new Float32Array(p.size).fill(1)
        : normalArray(p.size, CONFIG.initializer_range, seedFor(0, name));
    return { name, shape: [...p.shape], data };
  });
  writeSafetensors(join(init, 'model.safetensors'), tensors);
  const runs = mkdtempSync(join(tmpdir(), 'vit-digits-runs-'));
  const r = spawnSync(process.execPath, [join(REPO, 'bin', 'peft.js'), 'train', join(REPO, 'scripts', 'make-digits-vit.yaml'),
    '--set', `backbone.path=${init}`, '--output', runs, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`pretraining failed (exit ${r.status})`);
  return JSON.parse(r.stdout);
}

// `--export RUN_DIR`: export a pretraining run already made (its summary.json and adapter)
const from = process.argv.indexOf('--export');
const summary = from > 0 ? JSON.parse(readFileSync(join(process.argv[from + 1]!, 'summary.json'), 'utf8')) : pretrain();
// the run's adapter holds every backbone parameter in full (modules_to_save): take them back out,
// without the MNIST classifier (a stream starts its own head)
const adapter = openSafetensors(join(summary.adapter_dir, 'adapter_model.safetensors'));
const prefix = 'base_model.model.';
const trained = adapter.names().filter((n) => n.startsWith(prefix) && !n.startsWith(`${prefix}classifier.`))
  .map((n) => ({ name: n.slice(prefix.length), shape: adapter.info(n).shape, data: adapter.read(n) }));
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'config.json'), JSON.stringify(CONFIG, null, 2) + '\n');
writeSafetensors(join(OUT, 'model.safetensors'), trained);
const acc = (summary.after?.accuracy ?? NaN).toFixed(4);
const params = trained.reduce((n, t) => n + t.data.length, 0);
writeFileSync(join(OUT, 'PROVENANCE.md'), `# vit-digits-tiny

A ${params.toLocaleString('en-US')}-parameter ViT (ViTForImageClassification layout: 8×8 grey images, 2×2 patches, hidden 48,
3 layers, 4 heads, FFN 96) made by \`scripts/make-digits-vit.ts\` with this repository's own code: a
seeded random initialisation (transformers' ViT rule: normal(0, 0.02) weights and embeddings,
LayerNorm 1/0, biases 0), then every parameter trained by \`scripts/make-digits-vit.yaml\`
(AdamW 2e-3, cosine, 4 epochs, batch 64) on 90% of the MNIST images of \`../shared/data/mnist_t10k\`
(the official test set's 8,000 images kept there; CC BY-SA 3.0), resized 28×28 → 8×8 (bilinear).
Dev accuracy on the other 10% of those images: ${acc}. Its classifier (10 MNIST digits) is left
out: a model built from this directory gets a new head, initialised from its recipe's seed.

It stands in for a pretrained backbone in the class-incremental optdigits stream
(\`configs/continual/optdigits-*.yaml\`). Note that its pretraining saw all ten digit classes (other
images, another source, another resolution): the downstream stream's classes are not new concepts
to it, as ImageNet-21k's classes are not entirely new to the ViTs of the papers.
`);
console.log(`wrote ${OUT} (${params} parameters; MNIST dev accuracy ${acc})`);
