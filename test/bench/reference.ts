// The bench workload written out by hand in float64 loops, from the description in
// ../shared/bench/README.md (not from the tfjs code): embeddings + LayerNorm, post-LN layers
// with LoRA on q and v, GELU (tanh), a head on position 0, mean cross-entropy. Gradients by
// central differences; AdamW as torch.optim.AdamW. Small configurations only.
import type { BenchConfig } from '../../bench/harness/workload.js';

export type Params = Map<string, Float64Array>;

type Mat = Float64Array[]; // rows

function linear(x: Mat, p: Params, name: string, outDim: number): Mat {
  const w = p.get(`${name}.weight`)!;
  const b = p.get(`${name}.bias`)!;
  const inDim = x[0].length;
  return x.map((row) => {
    const y = new Float64Array(outDim);
    for (let o = 0; o < outDim; o++) {
      let s = b[o];
      for (let i = 0; i < inDim; i++) s += row[i] * w[o * inDim + i];
      y[o] = s;
    }
    return y;
  });
}

/** x·Aᵀ·Bᵀ·(α/r) added to h, when the LoRA parameters exist. */
function lora(h: Mat, x: Mat, p: Params, name: string, cfg: BenchConfig): Mat {
  const A = p.get(`${name}.lora_A`);
  const B = p.get(`${name}.lora_B`);
  if (!A || !B) return h;
  const r = cfg.rank;
  const inDim = x[0].length;
  const outDim = h[0].length;
  const s = cfg.alpha / r;
  return h.map((row, n) => {
    const low = new Float64Array(r);
    for (let j = 0; j < r; j++) for (let i = 0; i < inDim; i++) low[j] += x[n][i] * A[j * inDim + i];
    const y = Float64Array.from(row);
    for (let o = 0; o < outDim; o++) for (let j = 0; j < r; j++) y[o] += s * low[j] * B[o * r + j];
    return y;
  });
}

function layerNorm(x: Mat, p: Params, name: string, eps: number): Mat {
  const g = p.get(`${name}.weight`)!;
  const b = p.get(`${name}.bias`)!;
  return x.map((row) => {
    const n = row.length;
    const mean = row.reduce((a, v) => a + v, 0) / n;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
    const inv = 1 / Math.sqrt(variance + eps);
    return row.map((v, i) => (v - mean) * inv * g[i] + b[i]);
  });
}

const geluTanh = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

const add = (a: Mat, b: Mat): Mat => a.map((row, n) => row.map((v, i) => v + b[n][i]));

/** Logits [batch][labels] and the mean cross-entropy. */
export function referenceForward(cfg: BenchConfig, p: Params, ids: Int32Array, labels: Int32Array): { logits: number[][]; loss: number } {
  const { batch: B, seq: T, hidden: D, heads: H } = cfg;
  const dh = D / H;
  const word = p.get('word.weight')!;
  const pos = p.get('pos.weight')!;
  let x: Mat = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const id = ids[b * T + t];
      x.push(Float64Array.from({ length: D }, (_, i) => word[id * D + i] + pos[t * D + i]));
    }
  }
  x = layerNorm(x, p, 'ln', cfg.eps);
  for (let l = 0; l < cfg.layers; l++) {
    const L = `layers.${l}`;
    const q = lora(linear(x, p, `${L}.q`, D), x, p, `${L}.q`, cfg);
    const k = linear(x, p, `${L}.k`, D);
    const v = lora(linear(x, p, `${L}.v`, D), x, p, `${L}.v`, cfg);
    const ctx: Mat = x.map(() => new Float64Array(D));
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let t = 0; t < T; t++) {
          const scores = Array.from({ length: T }, (_, s) => {
            let dot = 0;
            for (let i = 0; i < dh; i++) dot += q[b * T + t][h * dh + i] * k[b * T + s][h * dh + i];
            return dot / Math.sqrt(dh);
          });
          const m = Math.max(...scores);
          const e = scores.map((z) => Math.exp(z - m));
          const z = e.reduce((a, c) => a + c, 0);
          for (let s = 0; s < T; s++) for (let i = 0; i < dh; i++) ctx[b * T + t][h * dh + i] += (e[s] / z) * v[b * T + s][h * dh + i];
        }
      }
    }
    const x1 = layerNorm(add(x, linear(ctx, p, `${L}.o`, D)), p, `${L}.ln1`, cfg.eps);
    const hmid = linear(x1, p, `${L}.fc1`, cfg.intermediate).map((row) => row.map(geluTanh));
    x = layerNorm(add(x1, linear(hmid, p, `${L}.fc2`, D)), p, `${L}.ln2`, cfg.eps);
  }
  const first = Array.from({ length: B }, (_, b) => x[b * T]);
  const logits = linear(first, p, 'head', cfg.labels).map((row) => [...row]);
  let loss = 0;
  logits.forEach((row, b) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    loss += lse - row[labels[b]];
  });
  return { logits, loss: loss / B };
}

/** d loss / d p for the named parameters, by central differences (float64). */
export function referenceGradients(cfg: BenchConfig, p: Params, names: string[], ids: Int32Array, labels: Int32Array, h = 1e-6): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const name of names) {
    const v = p.get(name)!;
    const g = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const keep = v[i];
      v[i] = keep + h;
      const up = referenceForward(cfg, p, ids, labels).loss;
      v[i] = keep - h;
      const down = referenceForward(cfg, p, ids, labels).loss;
      v[i] = keep;
      g[i] = (up - down) / (2 * h);
    }
    out.set(name, g);
  }
  return out;
}

/** torch.optim.AdamW (betas 0.9, 0.999): `steps` steps on the named parameters; the loss before each, then after. */
export function referenceAdamW(cfg: BenchConfig, p: Params, names: string[], ids: Int32Array, labels: Int32Array, steps: number): number[] {
  const [b1, b2] = [0.9, 0.999];
  const m = new Map(names.map((n) => [n, new Float64Array(p.get(n)!.length)]));
  const v2 = new Map(names.map((n) => [n, new Float64Array(p.get(n)!.length)]));
  const losses: number[] = [];
  for (let t = 1; t <= steps; t++) {
    losses.push(referenceForward(cfg, p, ids, labels).loss);
    const grads = referenceGradients(cfg, p, names, ids, labels);
    for (const n of names) {
      const w = p.get(n)!;
      const g = grads.get(n)!;
      const mn = m.get(n)!;
      const vn = v2.get(n)!;
      for (let i = 0; i < w.length; i++) {
        w[i] *= 1 - cfg.lr * cfg.weightDecay;
        mn[i] = b1 * mn[i] + (1 - b1) * g[i];
        vn[i] = b2 * vn[i] + (1 - b2) * g[i] * g[i];
        const mHat = mn[i] / (1 - b1 ** t);
        const vHat = vn[i] / (1 - b2 ** t);
        w[i] -= (cfg.lr * mHat) / (Math.sqrt(vHat) + cfg.adamEps);
      }
    }
  }
  losses.push(referenceForward(cfg, p, ids, labels).loss);
  return losses;
}
