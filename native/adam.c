/* The Adam/AdamW update of one parameter in one pass (the composite is ~12 tfjs kernels per
 * parameter per step), in exactly the composite's float32 operations and order (no contraction
 * into fused multiply-adds), so that every backend computes the same bits:
 *   g ← g + p·l2 (Adam's L2 when l2 ≠ 0);  p ← p·decay (AdamW's decoupled decay when decay ≠ 1)
 *   m ← m·β1 + g·(1−β1);  v ← v·β2 + (g·g)·(1−β2)
 *   p ← p − (m / (sqrt(v) / c2 + eps))·stepSize,   c2 = sqrt(1 − β2^t), stepSize = lr / (1 − β1^t)
 * Also the sums of squares of a list of tensors (global gradient norm for clipping).
 *
 * adam(p, g, m|null, v|null, pOut, mOut, vOut, n, consts)   consts [l2, decay, β1, 1−β1, β2, 1−β2, c2, eps, stepSize]
 *   (each rounded to float32, as tfjs rounds the scalars of its ops); m, v null: zeros (first step)
 * sumSquares(arrays, out)   out[i] = Σ arrays[i]², added in double */
#include "common.h"

#include <math.h>

__attribute__((optimize("fp-contract=off")))
static void adam_span(const float *p, const float *g, const float *m0, const float *v0, float *po, float *mo, float *vo, long lo, long hi,
                      const float *c, int has_l2, int has_decay) {
  const float l2 = c[0], decay = c[1], b1 = c[2], ob1 = c[3], b2 = c[4], ob2 = c[5], c2 = c[6], eps = c[7], ss = c[8];
  for (long i = lo; i < hi; i++) {
    float gi = g[i];
    if (has_l2) {
      const float pl = p[i] * l2;
      gi = gi + pl;
    }
    float pi = p[i];
    if (has_decay) pi = pi * decay;
    const float ma = m0 ? m0[i] * b1 : 0.0f, mb = gi * ob1;
    const float m = m0 ? ma + mb : mb;
    const float g2 = gi * gi;
    const float va = v0 ? v0[i] * b2 : 0.0f, vb = g2 * ob2;
    const float v = v0 ? va + vb : vb;
    const float sq = sqrtf(v);
    const float den = sq / c2;
    const float denom = den + eps;
    const float q = m / denom;
    const float step = q * ss;
    po[i] = pi - step;
    mo[i] = m;
    vo[i] = v;
  }
}

napi_value fn_adam(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 9)) return NULL;
  size_t lp, lg, lm = 0, lv = 0, lpo, lmo, lvo;
  int ok;
  const float *p = arg_f32(&a, 0, &lp);
  const float *g = p ? arg_f32(&a, 1, &lg) : NULL;
  if (!g) return NULL;
  const float *m0 = arg_f32_or_null(&a, 2, &lm, &ok);
  if (!ok) return NULL;
  const float *v0 = arg_f32_or_null(&a, 3, &lv, &ok);
  if (!ok) return NULL;
  float *po = arg_f32(&a, 4, &lpo);
  float *mo = po ? arg_f32(&a, 5, &lmo) : NULL;
  float *vo = mo ? arg_f32(&a, 6, &lvo) : NULL;
  if (!vo) return NULL;
  const long n = (long)arg_int(&a, 7);
  size_t lc;
  const float *c = arg_f32(&a, 8, &lc);
  if (!c) return NULL;
  if (n < 0 || lc < 9 || lp < (size_t)n || lg < (size_t)n || lpo < (size_t)n || lmo < (size_t)n || lvo < (size_t)n ||
      (m0 && lm < (size_t)n) || (v0 && lv < (size_t)n) || (m0 == NULL) != (v0 == NULL))
    return throw_error(env, "adam: bad sizes");
  const int has_l2 = c[0] != 0.0f, has_decay = c[1] != 1.0f;
  const int nt = n >= PAR_MIN ? peft_threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int t = 0; t < nt; t++) {
    const long lo = (n * t / nt) & ~15L, hi = t == nt - 1 ? n : (n * (t + 1) / nt) & ~15L;
    adam_span(p, g, m0, v0, po, mo, vo, lo, hi, c, has_l2, has_decay);
  }
  return make_undefined(env);
}

napi_value fn_sum_squares(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 2)) return NULL;
  bool is_arr = false;
  if (napi_is_array(env, a.argv[0], &is_arr) != napi_ok || !is_arr) return throw_error(env, "sumSquares: expected an array");
  uint32_t count = 0;
  napi_get_array_length(env, a.argv[0], &count);
  size_t lo;
  float *out = arg_f32(&a, 1, &lo);
  if (!out) return NULL;
  if (lo < count) return throw_error(env, "sumSquares: output too small");
  for (uint32_t i = 0; i < count; i++) {
    napi_value e;
    napi_get_element(env, a.argv[0], i, &e);
    args_t one = {env, 1, {e}};
    size_t n;
    const float *x = arg_f32(&one, 0, &n);
    if (!x) return NULL;
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
      for (int l = 0; l < 8; l++) acc[l] += (double)x[j + l] * x[j + l];
    double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; j < n; j++) s += (double)x[j] * x[j];
    out[i] = (float)s;
  }
  return make_undefined(env);
}
