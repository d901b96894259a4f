// ComPEFT (Yadav et al. 2023), as the authors' code computes it (src/qlora/ties_utils.py
// get_compressed_lora_weights; test/fixtures/reference/compeft/README.md): over the task vector
// τ = θ − θ_init of the WHOLE adapter flattened (θ_init = 0 for LoRA-style tensors, 1 for IA³'s
// scaling vectors), keep the entries with |τ| ≥ the (d − m)-th smallest |τ|, m = ⌊density·d⌋ (so
// m + 1 entries, plus ties), and replace each by α·sign(τ) with ONE α = factor·std(τ) (unbiased
// std of the dense τ). Scope `tensor` applies the same rule to each tensor alone (their function on
// a one-tensor state dict: one α per tensor, as the paper's text reads) — an option, not their runs.

export interface CompeftResult {
  /** 1 where an entry is kept (and non-zero). */
  mask: Uint8Array;
  /** 1 where a kept entry is negative. */
  negative: Uint8Array;
  alpha: number;
  kept: number;
}

/** Unbiased standard deviation (torch.std). */
export function unbiasedStd(v: ArrayLike<number>): number {
  const n = v.length;
  if (n < 2) return 0;
  let mu = 0;
  for (let i = 0; i < n; i++) mu += v[i];
  mu /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (v[i] - mu) ** 2;
  return Math.sqrt(ss / (n - 1));
}

export function compeft(tau: Float32Array, density: number, factor: number): CompeftResult {
  const d = tau.length;
  const m = Math.trunc(d * density);
  const abs = Float32Array.from(tau, Math.abs);
  // topk_values_mask: the kth smallest with k = d − m (1-based); density 1 keeps everything
  const kth = m >= d ? -Infinity : Float32Array.from(abs).sort()[d - m - 1];
  const mask = new Uint8Array(d);
  const negative = new Uint8Array(d);
  let kept = 0;
  for (let i = 0; i < d; i++) {
    // sign(0)·α = 0: a kept zero stays zero, so it is not stored as kept
    if (abs[i] >= kth && tau[i] !== 0) {
      mask[i] = 1;
      negative[i] = tau[i] < 0 ? 1 : 0;
      kept++;
    }
  }
  return { mask, negative, alpha: Math.fround(factor * unbiasedStd(tau)), kept };
}

/** α·sign(τ)·mask (+ θ_init added by the caller). */
export function compeftValues(r: Pick<CompeftResult, 'mask' | 'negative' | 'alpha'>): Float32Array {
  return Float32Array.from(r.mask, (m, i) => (m ? (r.negative[i] ? -r.alpha : r.alpha) : 0));
}
