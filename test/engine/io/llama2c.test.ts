import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  convertLlama2c, readLlama2cHeader, readLlama2cModel, ropePermuteRows,
} from '../../../src/engine/io/llama2c.js';
import { openSafetensors } from '../../../src/engine/io/safetensors.js';
import { PeftError } from '../../../src/errors.js';
import { applyRope, forward, greedy, parseLlama2cBin, type RefConfig, type RefWeights } from './llama-reference.js';
import { SKIP_NO_SHARED } from '../../helpers/fixtures.js';

/** The project's shared data, beside the repository. */
const SHARED = resolve(import.meta.dirname, '../../../../shared');

const SRC = join(SHARED, 'models/stories260K');
const BIN = join(SRC, 'stories260K.bin');
const TOK = join(SRC, 'tok512.bin');
const TMP = mkdtempSync(join(tmpdir(), 'peft-l2c-'));
after(() => rmSync(TMP, { recursive: true, force: true }));
const tmp = () => mkdtempSync(join(TMP, 'd-'));

/** Deterministic pseudo-random numbers in [-1, 1). */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** HF weights (read back from the converted directory) in the reference's layout. */
function hfWeights(dir: string, cfg: RefConfig): RefWeights {
  const st = openSafetensors(join(dir, 'model.safetensors'));
  const r = (n: string) => st.read(n);
  const emb = r('model.embed_tokens.weight');
  return {
    emb,
    norm: r('model.norm.weight'),
    cls: st.has('lm_head.weight') ? r('lm_head.weight') : emb,
    layers: Array.from({ length: cfg.nLayers }, (_, l) => {
      const p = `model.layers.${l}.`;
      return {
        attnNorm: r(p + 'input_layernorm.weight'), ffnNorm: r(p + 'post_attention_layernorm.weight'),
        wq: r(p + 'self_attn.q_proj.weight'), wk: r(p + 'self_attn.k_proj.weight'), wv: r(p + 'self_attn.v_proj.weight'),
        wo: r(p + 'self_attn.o_proj.weight'), w1: r(p + 'mlp.gate_proj.weight'), w2: r(p + 'mlp.down_proj.weight'), w3: r(p + 'mlp.up_proj.weight'),
      };
    }),
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('RoPE: interleaved pairs vs rotate_half', () => {
  test('permuting rows (evens, then odds, per head) makes rotate_half equal pair rotation', () => {
    const rand = rng(7);
    for (const hs of [2, 4, 8, 16]) {
      const nHeads = 3;
      const cols = 5;
      const w = Float32Array.from({ length: nHeads * hs * cols }, rand);
      const x = Float64Array.from({ length: cols }, rand);
      const wp = ropePermuteRows(w, nHeads, hs, cols);
      const mv = (m: Float32Array) => Float64Array.from({ length: nHeads * hs }, (_, r) => {
        let s = 0;
        for (let c = 0; c < cols; c++) s += m[r * cols + c] * x[c];
        return s;
      });
      for (const pos of [0, 1, 5, 37, 511]) {
        const a = mv(w);
        applyRope(a, nHeads, hs, pos, 10000, 'llama2c');
        const b = mv(wp);
        applyRope(b, nHeads, hs, pos, 10000, 'hf');
        // b is a with each head's components reordered: b[h, j] = a[h, 2j], b[h, hs/2 + j] = a[h, 2j + 1]
        for (let h = 0; h < nHeads; h++) {
          for (let j = 0; j < hs / 2; j++) {
            assert.ok(Math.abs(b[h * hs + j] - a[h * hs + 2 * j]) < 1e-12);
            assert.ok(Math.abs(b[h * hs + hs / 2 + j] - a[h * hs + 2 * j + 1]) < 1e-12);
          }
        }
      }
    }
  });

  test('q·k scores are the same under both conventions, and differ without the permutation', () => {
    const rand = rng(11);
    const hs = 8;
    const q = Float64Array.from({ length: hs }, rand);
    const k = Float64Array.from({ length: hs }, rand);
    const perm = (v: Float64Array) => Float64Array.from({ length: hs }, (_, i) => (i < hs / 2 ? v[2 * i] : v[2 * (i - hs / 2) + 1]));
    const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
    for (const [pq, pk] of [[3, 1], [10, 4], [100, 99]]) {
      const [q1, k1] = [q.slice(), k.slice()];
      applyRope(q1, 1, hs, pq, 10000, 'llama2c');
      applyRope(k1, 1, hs, pk, 10000, 'llama2c');
      const [q2, k2] = [perm(q), perm(k)];
      applyRope(q2, 1, hs, pq, 10000, 'hf');
      applyRope(k2, 1, hs, pk, 10000, 'hf');
      assert.ok(Math.abs(dot(q1, k1) - dot(q2, k2)) < 1e-12);
      const [q3, k3] = [q.slice(), k.slice()];
      applyRope(q3, 1, hs, pq, 10000, 'hf');
      applyRope(k3, 1, hs, pk, 10000, 'hf');
      assert.ok(Math.abs(dot(q1, k1) - dot(q3, k3)) > 1e-6, 'without the permutation the scores must differ');
    }
  });

  test('equals transformers\' permute: view(heads, d/2, 2, in).transpose(1, 2)', () => {
    const [heads, hs, cols] = [2, 6, 3];
    const w = Float32Array.from({ length: heads * hs * cols }, (_, i) => i);
    const out = ropePermuteRows(w, heads, hs, cols);
    for (let h = 0; h < heads; h++) {
      for (let p = 0; p < 2; p++) {
        for (let i = 0; i < hs / 2; i++) {
          const newRow = h * hs + p * (hs / 2) + i;
          const oldRow = h * hs + i * 2 + p;
          for (let c = 0; c < cols; c++) assert.equal(out[newRow * cols + c], w[oldRow * cols + c]);
        }
      }
    }
  });
});

describe('stories260K', { skip: SKIP_NO_SHARED }, () => {
  const dir = tmp();
  const result = convertLlama2c({ model: BIN, tokenizer: TOK, out: join(dir, 'model') });
  const out = join(dir, 'model');

  test('writes the Hugging Face LLaMA layout with exactly 260,032 parameters', () => {
    assert.deepEqual(readdirSync(out).sort(), [
      'config.json', 'generation_config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json',
    ]);
    assert.equal(result.params, 260032);
    const st = openSafetensors(join(out, 'model.safetensors'));
    let total = 0;
    for (const n of st.names()) total += st.info(n).shape.reduce((a, b) => a * b, 1);
    assert.equal(total, 260032);
    assert.equal(st.names().length, 1 + 5 * 9 + 1);
    assert.ok(!st.has('lm_head.weight'));
    assert.deepEqual(st.info('model.embed_tokens.weight').shape, [512, 64]);
    assert.deepEqual(st.info('model.layers.4.self_attn.q_proj.weight').shape, [64, 64]);
    assert.deepEqual(st.info('model.layers.4.self_attn.k_proj.weight').shape, [32, 64]);
    assert.deepEqual(st.info('model.layers.0.mlp.gate_proj.weight').shape, [172, 64]);
    assert.deepEqual(st.info('model.layers.0.mlp.down_proj.weight').shape, [64, 172]);
    assert.deepEqual(st.metadata(), { format: 'pt' });
  });

  test('config.json and generation_config.json', () => {
    const c = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    assert.deepEqual(
      { ...c },
      {
        ...c,
        model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 172, num_hidden_layers: 5,
        num_attention_heads: 8, num_key_value_heads: 4, vocab_size: 512, max_position_embeddings: 512, rms_norm_eps: 1e-5,
        rope_theta: 10000, tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu', torch_dtype: 'float32',
      },
    );
    assert.deepEqual(Object.keys(c), [...Object.keys(c)].sort());
    const g = JSON.parse(readFileSync(join(out, 'generation_config.json'), 'utf8'));
    assert.equal(g.bos_token_id, 1);
    assert.equal(g.eos_token_id, 2);
  });

  test('an HF-convention forward on the converted weights reproduces llama2.c\'s forward and its greedy sample', () => {
    const { cfg, w } = parseLlama2cBin(readFileSync(BIN));
    const hf = hfWeights(out, cfg);
    // The numbers PROVENANCE.md gives for logits after [BOS] and the greedy continuation.
    const ref = forward(cfg, w, [1], 'llama2c')[0];
    const got = forward(cfg, hf, [1], 'hf')[0];
    assert.ok(maxAbsDiff(ref, got) < 1e-4);
    let arg = 0;
    for (let i = 1; i < got.length; i++) if (got[i] > got[arg]) arg = i;
    assert.equal(arg, 403);
    assert.ok(Math.abs(got[403] - 17.0235) < 1e-3);
    assert.ok(Math.abs(Math.min(...got) - -8.0274) < 1e-3);
    assert.ok(Math.abs(got.reduce((a, b) => a + b, 0) / got.length - -2.0902) < 1e-3);
    const tokens = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
      410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385];
    const a = forward(cfg, w, tokens, 'llama2c');
    const b = forward(cfg, hf, tokens, 'hf');
    for (let p = 0; p < tokens.length; p++) assert.ok(maxAbsDiff(a[p], b[p]) < 1e-4, `position ${p}`);
    assert.deepEqual(greedy(cfg, hf, [1], 32, 'hf'), tokens);
    // Control: llama2.c's row order under rotate_half is a different function.
    const wrong = forward(cfg, w, tokens, 'hf');
    assert.ok(maxAbsDiff(a.at(-1)!, wrong.at(-1)!) > 0.1);
  });

  test('converting again gives byte-identical files', () => {
    const again = join(dir, 'again');
    convertLlama2c({ model: BIN, tokenizer: TOK, out: again });
    for (const f of readdirSync(out)) assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(again, f))), f);
  });

  test('refuses a non-empty output directory unless forced', () => {
    assert.throws(() => convertLlama2c({ model: BIN, tokenizer: TOK, out }), (e: unknown) =>
      e instanceof PeftError && e.code === 'FILE' && e.where === out && /not empty/.test(e.message) && /--force/.test(e.hint ?? ''));
    writeFileSync(join(out, 'keep.txt'), 'mine');
    convertLlama2c({ model: BIN, tokenizer: TOK, out, force: true });
    assert.equal(readFileSync(join(out, 'keep.txt'), 'utf8'), 'mine');
  });
});

describe('checks on the input', { skip: SKIP_NO_SHARED }, () => {
  test('a truncated file names the file, the expected and the found size', () => {
    const p = join(tmp(), 'cut.bin');
    writeFileSync(p, readFileSync(BIN).subarray(0, 1000000));
    assert.throws(() => readLlama2cHeader(p), (e: unknown) => {
      assert.ok(e instanceof PeftError);
      assert.equal(e.code, 'FORMAT');
      assert.equal(e.where, p);
      assert.match(e.message, /expected 1056540 bytes, found 1000000/);
      assert.ok(!e.toLine().includes('\n'));
      return true;
    });
    const q = join(tmp(), 'long.bin');
    writeFileSync(q, Buffer.concat([readFileSync(BIN), Buffer.alloc(4)]));
    assert.throws(() => readLlama2cHeader(q), /expected 1056540 bytes, found 1056544/);
  });

  test('bad headers, version-1 exports, short files and missing files', () => {
    const d = tmp();
    const header = (vals: number[]) => Buffer.from(Int32Array.from(vals).buffer);
    writeFileSync(join(d, 'tiny.bin'), Buffer.alloc(10));
    assert.throws(() => readLlama2cHeader(join(d, 'tiny.bin')), /shorter than the 28-byte/);
    writeFileSync(join(d, 'v1.bin'), Buffer.concat([header([0x616b3432, 1, 64, 172, 5, 8, 4]), Buffer.alloc(256)]));
    assert.throws(() => readLlama2cHeader(join(d, 'v1.bin')), (e: unknown) => e instanceof PeftError && /version-1\/2/.test(e.message) && /--version 0/.test(e.hint ?? ''));
    writeFileSync(join(d, 'zero.bin'), header([64, 172, 0, 8, 4, 512, 512]));
    assert.throws(() => readLlama2cHeader(join(d, 'zero.bin')), /non-positive/);
    writeFileSync(join(d, 'heads.bin'), header([64, 172, 5, 8, 3, 512, 512]));
    assert.throws(() => readLlama2cHeader(join(d, 'heads.bin')), /multiple of n_kv_heads/);
    assert.throws(() => readLlama2cHeader(join(d, 'absent.bin')), (e: unknown) => e instanceof PeftError && e.code === 'FILE');
  });

  test('a tokenizer whose size differs from the model vocabulary is refused', () => {
    const d = tmp();
    const tok = readFileSync(TOK);
    writeFileSync(join(d, 'tok.bin'), tok.subarray(0, tok.length - 3));
    assert.throws(() => convertLlama2c({ model: BIN, tokenizer: join(d, 'tok.bin'), out: join(d, 'o') }), /token 511 has length|cut off/);
    const extra = Buffer.alloc(9);
    extra.writeFloatLE(-300, 0);
    extra.writeInt32LE(1, 4);
    extra.write('Q', 8);
    writeFileSync(join(d, 'tok513.bin'), Buffer.concat([tok, extra]));
    assert.throws(() => convertLlama2c({ model: BIN, tokenizer: join(d, 'tok513.bin'), out: join(d, 'o') }), (e: unknown) =>
      e instanceof PeftError && e.code === 'FORMAT' && e.where === join(d, 'tok513.bin') && /holds 513 tokens but the model's vocab_size is 512/.test(e.message));
    const m = readLlama2cModel(BIN);
    assert.equal(m.header.vocabSize, 512);
  });
});

/** A random llama2.c file with correct RoPE tables (optionally an untied classifier). */
function syntheticBin(path: string, o: { dim: number; hidden: number; layers: number; heads: number; kv: number; vocab: number; seq: number; tied: boolean }) {
  const rand = rng(123);
  const hs = o.dim / o.heads;
  const kvDim = hs * o.kv;
  const L = o.layers;
  const counts = [o.vocab * o.dim, L * o.dim, L * o.dim * o.dim, L * kvDim * o.dim, L * kvDim * o.dim, L * o.dim * o.dim, L * o.dim,
    L * o.hidden * o.dim, L * o.dim * o.hidden, L * o.hidden * o.dim, o.dim];
  const parts: Float32Array[] = counts.map((n) => Float32Array.from({ length: n }, () => rand() * 0.5));
  parts[1] = parts[1].map((v) => 1 + v * 0.2);
  parts[6] = parts[6].map((v) => 1 + v * 0.2);
  const re = new Float32Array(o.seq * hs / 2);
  const im = new Float32Array(o.seq * hs / 2);
  for (let p = 0; p < o.seq; p++) {
    for (let i = 0; i < hs / 2; i++) {
      const a = p * 10000 ** (-(2 * i) / hs);
      re[p * hs / 2 + i] = Math.cos(a);
      im[p * hs / 2 + i] = Math.sin(a);
    }
  }
  parts.push(re, im);
  if (!o.tied) parts.push(Float32Array.from({ length: o.vocab * o.dim }, () => rand() * 0.5));
  const head = Int32Array.from([o.dim, o.hidden, L, o.heads, o.kv, o.tied ? o.vocab : -o.vocab, o.seq]);
  writeFileSync(path, Buffer.concat([Buffer.from(head.buffer), ...parts.map((p) => Buffer.from(p.buffer))]));
}

test('an untied classifier (negative vocab_size) becomes lm_head.weight, and the forward still matches', { skip: SKIP_NO_SHARED }, () => {
  const d = tmp();
  const bin = join(d, 'untied.bin');
  syntheticBin(bin, { dim: 24, hidden: 40, layers: 2, heads: 6, kv: 2, vocab: 512, seq: 16, tied: false });
  const r = convertLlama2c({ model: bin, tokenizer: TOK, out: join(d, 'o') });
  const st = openSafetensors(join(d, 'o', 'model.safetensors'));
  assert.deepEqual(st.info('lm_head.weight').shape, [512, 24]);
  assert.equal(r.params, 512 * 24 * 2 + 2 * (2 * 24 + 24 * 24 * 2 + 2 * 8 * 24 + 3 * 40 * 24) + 24);
  const c = JSON.parse(readFileSync(join(d, 'o', 'config.json'), 'utf8'));
  assert.equal(c.tie_word_embeddings, false);
  assert.equal(c.num_key_value_heads, 2);
  assert.equal(c.max_position_embeddings, 16);
  const { cfg, w } = parseLlama2cBin(readFileSync(bin));
  const tokens = [1, 300, 17, 99, 400, 5, 260];
  const a = forward(cfg, w, tokens, 'llama2c');
  const b = forward(cfg, hfWeights(join(d, 'o'), cfg), tokens, 'hf');
  for (let p = 0; p < tokens.length; p++) assert.ok(maxAbsDiff(a[p], b[p]) < 1e-6, `position ${p}`);
});

test('RoPE tables of another theta are refused', () => {
  const d = tmp();
  const bin = join(d, 'm.bin');
  syntheticBin(bin, { dim: 16, hidden: 8, layers: 1, heads: 2, kv: 2, vocab: 512, seq: 8, tied: true });
  const buf = readFileSync(bin);
  const re0 = 28 + 4 * (512 * 16 + 16 + 256 + 256 + 256 + 256 + 16 + 128 * 3 + 16);
  buf.writeFloatLE(0.5, re0 + 4 * 4 * 3); // cos at position 3, i = 0 should be cos(3)
  writeFileSync(bin, buf);
  assert.throws(() => readLlama2cModel(bin), /RoPE tables are not those of theta 10000/);
});
