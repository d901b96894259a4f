import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  SafetensorsFile, openSafetensors, writeSafetensors, f16ToF32, bf16ToF32, f32ToF16, f32ToBf16,
  type NamedTensor,
} from '../../../src/engine/io/safetensors.js';
import { PeftError } from '../../../src/errors.js';
import { SKIP_NO_SHARED } from '../../helpers/fixtures.js';

/** The project's shared data, beside the repository. */
const SHARED = resolve(import.meta.dirname, '../../../../shared');

const TMP = mkdtempSync(join(tmpdir(), 'peft-st-'));
after(() => rmSync(TMP, { recursive: true, force: true }));
const tmp = () => mkdtempSync(join(TMP, 'd-'));
const FIXTURES = join(SHARED, 'fixtures');

/** A file with the given header object (or raw header text) and data bytes. */
function craft(header: unknown, data: Uint8Array | number = 0, opts: { rawLength?: bigint } = {}): string {
  const json = Buffer.isBuffer(header) ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(opts.rawLength ?? BigInt(json.length));
  const body = typeof data === 'number' ? Buffer.alloc(data) : Buffer.from(data);
  const p = join(tmp(), 'x.safetensors');
  writeFileSync(p, Buffer.concat([len, json, body]));
  return p;
}

function formatError(path: string, match: RegExp, where?: string) {
  return (e: unknown) => {
    assert.ok(e instanceof PeftError, `expected PeftError, got ${e}`);
    assert.equal(e.code, 'FORMAT');
    assert.equal(e.exitCode, 2);
    assert.match(e.message, match);
    assert.equal(e.where, where === undefined ? path : `${path}: tensor ${where}`);
    assert.ok(e.hint);
    assert.ok(!e.toLine().includes('\n'));
    return true;
  };
}

describe('safetensors round trip', () => {
  test('writes and reads F32, F16, BF16, F64, I64, I32, U8, BOOL, I8 with shapes and metadata', () => {
    const dir = tmp();
    const p = join(dir, 'a.safetensors');
    const f = Float32Array.from([0, 1, -2.5, 3.25, 65504, 1e-3]);
    const tensors: NamedTensor[] = [
      { name: 'w.f32', shape: [2, 3], data: f },
      { name: 'w.f16', dtype: 'F16', shape: [6], data: f },
      { name: 'w.bf16', dtype: 'BF16', shape: [3, 2], data: f },
      { name: 'w.f64', shape: [2], data: Float64Array.from([1.5, -2]) },
      { name: 'ids.i64', dtype: 'I64', shape: [3], data: Int32Array.from([1, -2, 2147483647]) },
      { name: 'ids.i32', shape: [2], data: Int32Array.from([7, -8]) },
      { name: 'mask.u8', shape: [3], data: Uint8Array.from([0, 1, 255]) },
      { name: 'mask.bool', dtype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) },
      { name: 'q.i8', shape: [2], data: Int8Array.from([-128, 127]) },
      { name: 'scalar', shape: [], data: Float32Array.from([42]) },
      { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
    ];
    writeSafetensors(p, tensors, { format: 'pt', note: 'hi' });
    const st = openSafetensors(p);
    assert.deepEqual(st.metadata(), { format: 'pt', note: 'hi' });
    assert.deepEqual(new Set(st.names()), new Set(tensors.map((t) => t.name)));
    assert.deepEqual([...st.read('w.f32')], [...f]);
    assert.deepEqual(st.info('w.f32'), { dtype: 'F32', shape: [2, 3], byteLength: 24 });
    assert.deepEqual([...st.read('w.f16')], [0, 1, -2.5, 3.25, 65504, 0.0010004043579101562]);
    assert.equal(st.info('w.bf16').dtype, 'BF16');
    assert.deepEqual([...st.read('w.bf16')].slice(0, 4), [0, 1, -2.5, 3.25]);
    assert.deepEqual([...st.read('w.f64')], [1.5, -2]);
    assert.deepEqual([...st.readInt32('ids.i64')], [1, -2, 2147483647]);
    assert.deepEqual([...(st.readRaw('ids.i64') as BigInt64Array)], [1n, -2n, 2147483647n]);
    assert.deepEqual([...st.readInt32('ids.i32')], [7, -8]);
    assert.deepEqual([...st.readInt32('mask.u8')], [0, 1, 255]);
    assert.deepEqual([...st.readInt32('mask.bool')], [1, 0]);
    assert.deepEqual([...st.readInt32('q.i8')], [-128, 127]);
    assert.deepEqual(st.info('scalar').shape, []);
    assert.deepEqual([...st.read('scalar')], [42]);
    assert.equal(st.read('empty').length, 0);
    assert.throws(() => st.read('ids.i32'), /not a floating-point tensor/);
    assert.throws(() => st.read('nope'), (e: unknown) => e instanceof PeftError && e.where === `${p}: tensor nope`);
  });

  test('layout: 8-byte aligned header padded with spaces, larger dtypes first then by name, metadata last', () => {
    const p = join(tmp(), 'b.safetensors');
    writeSafetensors(p, new Map([
      ['b', { shape: [1], data: Float32Array.from([1]) }],
      ['a', { shape: [1], data: Float32Array.from([2]) }],
      ['c', { shape: [1], data: Uint8Array.from([3]) }],
      ['d', { dtype: 'I64' as const, shape: [1], data: Int32Array.from([4]) }],
    ]));
    const buf = readFileSync(p);
    const n = Number(buf.readBigUInt64LE(0));
    assert.equal(n % 8, 0);
    const text = buf.subarray(8, 8 + n).toString();
    assert.match(text, /^\{"d":\{"dtype":"I64","shape":\[1\],"data_offsets":\[0,8\]\},"a":.*"b":.*"c":.*"__metadata__":\{"format":"pt"\}\} *$/);
    assert.equal(buf.length, 8 + n + 8 + 4 + 4 + 1);
  });

  test('rewriting every fixture gives the same bytes as the Python implementation wrote', { skip: SKIP_NO_SHARED }, () => {
    let count = 0;
    for (const file of fixtureFiles()) {
      const st = openSafetensors(file);
      const out = join(tmp(), 'copy.safetensors');
      writeSafetensors(out, st.names().map((name) => ({ name, ...st.info(name), data: st.readRaw(name) })), st.metadata());
      if (!libraryOrdered(file)) {
        // written name-ordered by another writer (the ResNet fixture's I64 counters sit between
        // F32 tensors): the round trip keeps every tensor, in the library's own order
        const back = openSafetensors(out);
        assert.deepEqual(back.names().sort(), st.names().sort());
        for (const n of st.names()) assert.ok(Buffer.from(back.readRaw(n).buffer).equals(Buffer.from(st.readRaw(n).buffer)), `${file}: ${n}`);
        continue;
      }
      assert.ok(readFileSync(out).equals(readFileSync(file)), `${file} differs after a round trip`);
      count++;
    }
    assert.ok(count >= 40, `only ${count} fixture files`);
  });

  test('atomic: no temporary files are left beside the output', () => {
    const dir = tmp();
    writeSafetensors(join(dir, 'm.safetensors'), [{ name: 'x', shape: [1], data: Float32Array.from([1]) }]);
    writeSafetensors(join(dir, 'm.safetensors'), [{ name: 'y', shape: [1], data: Float32Array.from([2]) }]);
    assert.deepEqual(readdirSync(dir), ['m.safetensors']);
    assert.deepEqual(openSafetensors(join(dir, 'm.safetensors')).names(), ['y']);
  });

  test('writer rejects mismatched shapes, duplicate names and impossible conversions', () => {
    const p = join(tmp(), 'bad.safetensors');
    assert.throws(() => writeSafetensors(p, [{ name: 'x', shape: [2, 2], data: new Float32Array(3) }]), (e: unknown) => e instanceof PeftError && e.code === 'SHAPE' && e.where === 'x');
    assert.throws(() => writeSafetensors(p, [{ name: 'x', shape: [1], data: new Float32Array(1) }, { name: 'x', shape: [1], data: new Float32Array(1) }]), /same name/);
    assert.throws(() => writeSafetensors(p, [{ name: 'x', dtype: 'I32', shape: [1], data: new Float32Array(1) }]), /cannot write a Float32Array as I32/);
  });
});

describe('float16 and bfloat16', () => {
  test('f16 bits decode exactly, including subnormals, infinities and NaN', () => {
    const bits = Uint16Array.from([0x0000, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x7e00, 0x3555]);
    const v = f16ToF32(bits);
    assert.deepEqual([...v.slice(0, 10)], [0, -0, 1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, Infinity, -Infinity]);
    assert.ok(Number.isNaN(v[10]));
    assert.equal(v[11], Math.fround(0.333251953125));
  });

  test('f32 → f16 rounds to nearest even and round-trips every finite half', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = f32ToF16(f16ToF32(all));
    for (let i = 0; i < 65536; i++) {
      const exp = (i >> 10) & 0x1f;
      if (exp === 31 && (i & 0x3ff)) assert.equal(back[i] & 0x7c00, 0x7c00); // NaN stays NaN
      else assert.equal(back[i], i, `half 0x${i.toString(16)}`);
    }
    assert.deepEqual([...f32ToF16(Float32Array.from([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, 1e-8, 2 ** -25, 2 ** -25 * 1.5]))],
      [0x3c00, 0x3c02, 0x7c00, 0x0000, 0x0000, 0x0001]);
  });

  test('bf16 keeps the top half of a float32 and rounds to nearest even', () => {
    assert.deepEqual([...bf16ToF32(Uint16Array.from([0x3f80, 0xc000, 0x7f80]))], [1, -2, Infinity]);
    const x = new Float32Array(new Uint32Array([0x3f808000, 0x3f818000, 0x3f808001]).buffer);
    assert.deepEqual([...f32ToBf16(x)], [0x3f80, 0x3f82, 0x3f81]);
    assert.ok(Number.isNaN(bf16ToF32(f32ToBf16(Float32Array.from([NaN])))[0]));
  });
});

describe('hostile files are FORMAT errors, not allocations', () => {
  const t = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });

  test('shorter than the length prefix', () => {
    const p = join(tmp(), 'short.safetensors');
    writeFileSync(p, Buffer.from([1, 2, 3]));
    assert.throws(() => openSafetensors(p), formatError(p, /shorter than the 8-byte/));
  });
  test('header length larger than the file', () => {
    const p = craft({}, 0, { rawLength: 1000n });
    assert.throws(() => openSafetensors(p), formatError(p, /header length 1000 is larger than the file/));
  });
  test('a 2^60-byte header fails fast', () => {
    const p = craft({}, 0, { rawLength: 2n ** 60n });
    const t0 = performance.now();
    assert.throws(() => openSafetensors(p), formatError(p, /exceeds the 100000000-byte limit/));
    assert.ok(performance.now() - t0 < 1000);
  });
  test('a header over 100 MB is refused even if the file were that large', () => {
    const p = craft({}, 0, { rawLength: 150_000_000n });
    assert.throws(() => openSafetensors(p), formatError(p, /limit/));
  });
  test('header not UTF-8, not JSON, not an object', () => {
    const p1 = craft(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])); // {"\xff":1}
    assert.throws(() => openSafetensors(p1), formatError(p1, /not valid UTF-8/));
    const p2 = craft('{"a": ');
    assert.throws(() => openSafetensors(p2), formatError(p2, /not valid JSON/));
    const p3 = craft('[1, 2]');
    assert.throws(() => openSafetensors(p3), formatError(p3, /not a JSON object/));
    const p4 = craft('{"x": 1}');
    assert.throws(() => openSafetensors(p4), formatError(p4, /entry is not an object/, 'x'));
  });
  test('unknown dtype', () => {
    const p = craft({ x: t('F128', [1], [0, 16]) }, 16);
    assert.throws(() => openSafetensors(p), formatError(p, /unknown dtype "F128"/, 'x'));
  });
  test('negative and non-integer shapes', () => {
    const p1 = craft({ x: t('F32', [-1], [0, 4]) }, 4);
    assert.throws(() => openSafetensors(p1), formatError(p1, /not a list of non-negative integers/, 'x'));
    const p2 = craft({ x: t('F32', [1.5], [0, 4]) }, 4);
    assert.throws(() => openSafetensors(p2), formatError(p2, /not a list of non-negative integers/, 'x'));
    const p3 = craft({ x: t('F32', '4', [0, 4]) }, 4);
    assert.throws(() => openSafetensors(p3), formatError(p3, /not a list/, 'x'));
  });
  test('malformed, reversed and out-of-bounds offsets', () => {
    const p1 = craft({ x: t('F32', [1], [0]) }, 4);
    assert.throws(() => openSafetensors(p1), formatError(p1, /not a pair/, 'x'));
    const p2 = craft({ x: t('F32', [1], [8, 4]) }, 8);
    assert.throws(() => openSafetensors(p2), formatError(p2, /begin after they end/, 'x'));
    const p3 = craft({ x: t('F32', [4], [0, 16]) }, 8);
    assert.throws(() => openSafetensors(p3), formatError(p3, /run past the end of the data \(8 bytes\)/, 'x'));
  });
  test('a tensor claiming 2^60 bytes fails fast', () => {
    const p1 = craft({ x: t('F32', [2 ** 28, 2 ** 30], [0, 2 ** 50]) }, 16);
    assert.throws(() => openSafetensors(p1), formatError(p1, /run past the end/, 'x'));
    const p2 = craft({ x: t('F32', [2 ** 28, 2 ** 30], [0, 16]) }, 16);
    assert.throws(() => openSafetensors(p2), formatError(p2, /needs more than the 16 data bytes/, 'x'));
    const p3 = craft({ x: t('F32', [2 ** 62], [0, 16]) }, 16);
    assert.throws(() => openSafetensors(p3), formatError(p3, /not a list of non-negative integers/, 'x'));
  });
  test('byte length different from shape × dtype size', () => {
    const p = craft({ x: t('F32', [3], [0, 16]) }, 16);
    assert.throws(() => openSafetensors(p), formatError(p, /holds 16 bytes but shape \[3\] of F32 needs 12/, 'x'));
  });
  test('overlapping, non-contiguous and incompletely covering regions', () => {
    const p1 = craft({ a: t('F32', [2], [0, 8]), b: t('F32', [2], [4, 12]) }, 12);
    assert.throws(() => openSafetensors(p1), formatError(p1, /overlaps/, 'b'));
    const p2 = craft({ a: t('F32', [1], [0, 4]), b: t('F32', [1], [8, 12]) }, 12);
    assert.throws(() => openSafetensors(p2), formatError(p2, /gap/, 'b'));
    const p3 = craft({ a: t('F32', [1], [0, 4]) }, 12);
    assert.throws(() => openSafetensors(p3), formatError(p3, /cover 4 of the 12 data bytes/));
    const p4 = craft({ a: t('F32', [1], [4, 8]) }, 8);
    assert.throws(() => openSafetensors(p4), formatError(p4, /gap/, 'a'));
  });
  test('metadata values must be strings', () => {
    const p = craft({ __metadata__: { format: 1 } });
    assert.throws(() => openSafetensors(p), formatError(p, /__metadata__.format is not a string/));
  });
  test('a missing file is a FILE error', () => {
    assert.throws(() => openSafetensors('/nonexistent/model.safetensors'), (e: unknown) => e instanceof PeftError && e.code === 'FILE' && e.where === '/nonexistent/model.safetensors');
  });
});

test('reads lazily: a small tensor out of a 3 GiB (sparse) file', () => {
  const big = 3 * 2 ** 30;
  const header = JSON.stringify({ small: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, big: { dtype: 'U8', shape: [big], data_offsets: [8, 8 + big] } });
  const pad = ' '.repeat((8 - (header.length % 8)) % 8);
  const json = Buffer.from(header + pad);
  const p = join(tmp(), 'huge.safetensors');
  const fd = openSync(p, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeSync(fd, len);
  writeSync(fd, json);
  writeSync(fd, Buffer.from(Float32Array.from([1.5, -3]).buffer));
  ftruncateSync(fd, 8 + json.length + 8 + big);
  closeSync(fd);
  try {
    const st = SafetensorsFile.open(p);
    assert.deepEqual(st.info('big'), { dtype: 'U8', shape: [big], byteLength: big });
    assert.deepEqual([...st.read('small')], [1.5, -3]);
  } finally {
    rmSync(p);
  }
});

const DTYPE_RANK = ['BOOL', 'U8', 'I8', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'];

/** Whether a file's data is in the safetensors library's order: larger dtypes first, then by name. */
function libraryOrdered(file: string): boolean {
  const buf = readFileSync(file);
  const header = JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString()) as Record<string, { dtype: string; data_offsets: number[] }>;
  const byOffset = Object.entries(header).filter(([n]) => n !== '__metadata__').sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  const want = [...byOffset].sort((a, b) => DTYPE_RANK.indexOf(b[1].dtype) - DTYPE_RANK.indexOf(a[1].dtype) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return byOffset.every((x, i) => x[0] === want[i][0]);
}

function fixtureFiles(): string[] {
  const out: string[] = [];
  for (const group of ['models', 'peft', 'adapters']) {
    for (const d of readdirSync(join(FIXTURES, group))) {
      for (const f of readdirSync(join(FIXTURES, group, d))) if (f.endsWith('.safetensors')) out.push(join(FIXTURES, group, d, f));
    }
  }
  return out;
}

test('every fixture reads as finite F32 tensors of its declared shapes (batch norms\' I64 step counters aside)', { skip: SKIP_NO_SHARED }, () => {
  for (const file of fixtureFiles()) {
    const st = openSafetensors(file);
    assert.equal(st.metadata().format, 'pt', file);
    for (const name of st.names()) {
      const info = st.info(name);
      assert.equal(info.dtype, name.endsWith('.num_batches_tracked') ? 'I64' : 'F32', `${file}: ${name}`);
      const data = info.dtype === 'I64' ? st.readInt32(name) : st.read(name);
      assert.equal(data.length, info.shape.reduce((a, b) => a * b, 1));
      assert.ok(data.every(Number.isFinite), `${file}: ${name} has non-finite values`);
    }
  }
});

test('fixture backbones have the shapes their config.json implies', { skip: SKIP_NO_SHARED }, () => {
  const cfg = (m: string) => JSON.parse(readFileSync(join(FIXTURES, 'models', m, 'config.json'), 'utf8'));
  const shapes = (m: string) => {
    const st = openSafetensors(join(FIXTURES, 'models', m, 'model.safetensors'));
    return (name: string) => st.info(name).shape;
  };
  const layersIn = (m: string, re: RegExp) => {
    const st = openSafetensors(join(FIXTURES, 'models', m, 'model.safetensors'));
    return new Set(st.names().map((n) => n.match(re)?.[1]).filter((x) => x !== undefined)).size;
  };
  const labels = (c: any) => Object.keys(c.id2label ?? { 0: 0, 1: 1 }).length;

  let c = cfg('bert'); let s = shapes('bert');
  assert.deepEqual(s('bert.embeddings.word_embeddings.weight'), [c.vocab_size, c.hidden_size]);
  assert.deepEqual(s('bert.embeddings.position_embeddings.weight'), [c.max_position_embeddings, c.hidden_size]);
  assert.deepEqual(s('bert.embeddings.token_type_embeddings.weight'), [c.type_vocab_size, c.hidden_size]);
  assert.deepEqual(s(`bert.encoder.layer.${c.num_hidden_layers - 1}.intermediate.dense.weight`), [c.intermediate_size, c.hidden_size]);
  assert.deepEqual(s('classifier.weight'), [labels(c), c.hidden_size]);
  assert.equal(layersIn('bert', /encoder\.layer\.(\d+)\./), c.num_hidden_layers);

  c = cfg('roberta'); s = shapes('roberta');
  assert.deepEqual(s('roberta.embeddings.word_embeddings.weight'), [c.vocab_size, c.hidden_size]);
  assert.deepEqual(s('roberta.embeddings.position_embeddings.weight'), [c.max_position_embeddings, c.hidden_size]);
  assert.deepEqual(s(`roberta.encoder.layer.${c.num_hidden_layers - 1}.output.dense.weight`), [c.hidden_size, c.intermediate_size]);
  assert.equal(layersIn('roberta', /encoder\.layer\.(\d+)\./), c.num_hidden_layers);

  c = cfg('distilbert'); s = shapes('distilbert');
  assert.deepEqual(s('distilbert.embeddings.word_embeddings.weight'), [c.vocab_size, c.dim]);
  assert.deepEqual(s(`distilbert.transformer.layer.${c.n_layers - 1}.ffn.lin1.weight`), [c.hidden_dim, c.dim]);
  assert.equal(layersIn('distilbert', /transformer\.layer\.(\d+)\./), c.n_layers);

  c = cfg('gpt2'); s = shapes('gpt2');
  assert.deepEqual(s('transformer.wte.weight'), [c.vocab_size, c.n_embd]);
  assert.deepEqual(s('transformer.wpe.weight'), [c.n_positions, c.n_embd]);
  assert.deepEqual(s(`transformer.h.${c.n_layer - 1}.attn.c_attn.weight`), [c.n_embd, 3 * c.n_embd]);
  assert.deepEqual(s(`transformer.h.${c.n_layer - 1}.mlp.c_fc.weight`), [c.n_embd, c.n_inner]);
  assert.equal(layersIn('gpt2', /\.h\.(\d+)\./), c.n_layer);

  c = cfg('llama'); s = shapes('llama');
  const hd = c.hidden_size / c.num_attention_heads;
  assert.deepEqual(s('model.embed_tokens.weight'), [c.vocab_size, c.hidden_size]);
  assert.deepEqual(s('lm_head.weight'), [c.vocab_size, c.hidden_size]);
  assert.deepEqual(s(`model.layers.${c.num_hidden_layers - 1}.self_attn.k_proj.weight`), [c.num_key_value_heads * hd, c.hidden_size]);
  assert.deepEqual(s('model.layers.0.mlp.gate_proj.weight'), [c.intermediate_size, c.hidden_size]);
  assert.equal(layersIn('llama', /layers\.(\d+)\./), c.num_hidden_layers);

  for (const m of ['bart', 'mbart']) {
    c = cfg(m); s = shapes(m);
    assert.deepEqual(s('model.shared.weight'), [c.vocab_size, c.d_model]);
    assert.deepEqual(s('model.encoder.embed_positions.weight'), [c.max_position_embeddings + 2, c.d_model]);
    assert.deepEqual(s(`model.decoder.layers.${c.decoder_layers - 1}.fc1.weight`), [c.decoder_ffn_dim, c.d_model]);
    assert.equal(layersIn(m, /encoder\.layers\.(\d+)\./), c.encoder_layers);
  }

  c = cfg('t5'); s = shapes('t5');
  assert.deepEqual(s('shared.weight'), [c.vocab_size, c.d_model]);
  assert.deepEqual(s(`encoder.block.${c.num_layers - 1}.layer.1.DenseReluDense.wi.weight`), [c.d_ff, c.d_model]);
  assert.deepEqual(s('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight'), [c.relative_attention_num_buckets, c.num_heads]);
  assert.equal(layersIn('t5', /decoder\.block\.(\d+)\./), c.num_decoder_layers);

  c = cfg('vit'); s = shapes('vit');
  assert.deepEqual(s('vit.embeddings.position_embeddings'), [1, (c.image_size / c.patch_size) ** 2 + 1, c.hidden_size]);
  assert.deepEqual(s('vit.embeddings.patch_embeddings.projection.weight'), [c.hidden_size, c.num_channels, c.patch_size, c.patch_size]);
  assert.equal(layersIn('vit', /encoder\.layer\.(\d+)\./), c.num_hidden_layers);
});
