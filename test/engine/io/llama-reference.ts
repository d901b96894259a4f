// Plain-JS reference LLaMA forward passes for the importer's tests (float64 arithmetic):
// one with llama2.c's RoPE (consecutive pairs, as run.c), one with Hugging Face's
// (rotate_half, as modeling_llama.py). Not a model implementation: slow and test-only.

export interface RefConfig {
  dim: number;
  hidden: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocab: number;
  eps: number;
  theta: number;
}

export interface RefLayer {
  attnNorm: Float32Array; wq: Float32Array; wk: Float32Array; wv: Float32Array; wo: Float32Array;
  ffnNorm: Float32Array; w1: Float32Array; w2: Float32Array; w3: Float32Array;
}
export interface RefWeights {
  emb: Float32Array;
  layers: RefLayer[];
  norm: Float32Array;
  cls: Float32Array;
}

export type Rope = 'llama2c' | 'hf';

/** Reads a llama2.c legacy .bin into [out, in] matrices (independent of the code under test). */
export function parseLlama2cBin(buf: Buffer): { cfg: RefConfig; w: RefWeights } {
  const h = Array.from({ length: 7 }, (_, i) => buf.readInt32LE(4 * i));
  const [dim, hidden, nLayers, nHeads, nKvHeads, v, seqLen] = h;
  const vocab = Math.abs(v);
  const hs = dim / nHeads;
  const kv = hs * nKvHeads;
  let off = 28;
  const take = (n: number) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = buf.readFloatLE(off + 4 * i);
    off += 4 * n;
    return out;
  };
  const emb = take(vocab * dim);
  const stacked = (rows: number, cols: number) => Array.from({ length: nLayers }, () => take(rows * cols));
  const attnNorm = stacked(1, dim);
  const wq = stacked(dim, dim);
  const wk = stacked(kv, dim);
  const wv = stacked(kv, dim);
  const wo = stacked(dim, dim);
  const ffnNorm = stacked(1, dim);
  const w1 = stacked(hidden, dim);
  const w2 = stacked(dim, hidden);
  const w3 = stacked(hidden, dim);
  const norm = take(dim);
  take(seqLen * hs); // freq_cis_real + freq_cis_imag
  const cls = v > 0 ? emb : take(vocab * dim);
  const layers = attnNorm.map((_, l) => ({
    attnNorm: attnNorm[l], wq: wq[l], wk: wk[l], wv: wv[l], wo: wo[l], ffnNorm: ffnNorm[l], w1: w1[l], w2: w2[l], w3: w3[l],
  }));
  return { cfg: { dim, hidden, nLayers, nHeads, nKvHeads, vocab, eps: 1e-5, theta: 10000 }, w: { emb, layers, norm, cls } };
}

function matvec(w: Float32Array, x: Float64Array, rows: number, cols: number): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += w[r * cols + c] * x[c];
    y[r] = s;
  }
  return y;
}

function rmsnorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const k = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * k * w[i]);
}

/** Rotates each head of `v` in place for position `pos`. */
export function applyRope(v: Float64Array, nHeads: number, hs: number, pos: number, theta: number, kind: Rope): void {
  const half = hs / 2;
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < half; i++) {
      const a = pos * theta ** (-(2 * i) / hs);
      const [c, s] = [Math.cos(a), Math.sin(a)];
      const i0 = h * hs + (kind === 'llama2c' ? 2 * i : i);
      const i1 = h * hs + (kind === 'llama2c' ? 2 * i + 1 : i + half);
      const [x0, x1] = [v[i0], v[i1]];
      v[i0] = x0 * c - x1 * s;
      v[i1] = x0 * s + x1 * c;
    }
  }
}

/** Logits at every position of `tokens` (causal attention, GQA, SwiGLU, RMSNorm). */
export function forward(cfg: RefConfig, w: RefWeights, tokens: number[], rope: Rope): Float64Array[] {
  const { dim, hidden, nHeads, nKvHeads, eps, theta } = cfg;
  const hs = dim / nHeads;
  const kvDim = hs * nKvHeads;
  const group = nHeads / nKvHeads;
  let xs = tokens.map((t) => Float64Array.from(w.emb.subarray(t * dim, (t + 1) * dim)));
  for (const L of w.layers) {
    const hsIn = xs.map((x) => rmsnorm(x, L.attnNorm, eps));
    const qs = hsIn.map((h, p) => { const q = matvec(L.wq, h, dim, dim); applyRope(q, nHeads, hs, p, theta, rope); return q; });
    const ks = hsIn.map((h, p) => { const k = matvec(L.wk, h, kvDim, dim); applyRope(k, nKvHeads, hs, p, theta, rope); return k; });
    const vs = hsIn.map((h) => matvec(L.wv, h, kvDim, dim));
    xs = xs.map((x, p) => {
      const att = new Float64Array(dim);
      for (let h = 0; h < nHeads; h++) {
        const kvh = Math.floor(h / group);
        const scores = Array.from({ length: p + 1 }, (_, t) => {
          let s = 0;
          for (let i = 0; i < hs; i++) s += qs[p][h * hs + i] * ks[t][kvh * hs + i];
          return s / Math.sqrt(hs);
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let t = 0; t <= p; t++) for (let i = 0; i < hs; i++) att[h * hs + i] += (e[t] / z) * vs[t][kvh * hs + i];
      }
      const o = matvec(L.wo, att, dim, dim);
      return x.map((v, i) => v + o[i]);
    });
    xs = xs.map((x) => {
      const h = rmsnorm(x, L.ffnNorm, eps);
      const g = matvec(L.w1, h, hidden, dim);
      const u = matvec(L.w3, h, hidden, dim);
      const act = g.map((v, i) => (v / (1 + Math.exp(-v))) * u[i]);
      const d = matvec(L.w2, act, dim, hidden);
      return x.map((v, i) => v + d[i]);
    });
  }
  return xs.map((x) => matvec(w.cls, rmsnorm(x, w.norm, eps), cfg.vocab, dim));
}

/** Greedy continuation from `prompt`, `steps` new tokens. */
export function greedy(cfg: RefConfig, w: RefWeights, prompt: number[], steps: number, rope: Rope): number[] {
  const toks = [...prompt];
  for (let s = 0; s < steps; s++) {
    const logits = forward(cfg, w, toks, rope).at(-1)!;
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    toks.push(best);
  }
  return toks;
}
