/* SwiGLU's product (LLaMA's MLP): y = silu(g)·u = g·σ(g)·u, forward and each input's gradient in
 * one pass (the composite is 3 tfjs kernels forward and ~8 backward). σ is recomputed in the
 * backward (one vector exp per element) rather than carried as a second output.
 *
 * swiglu(g, u, y, n)
 * swigluGrad(which, g, u, dy, out, n)   which 0: out = dg = dy·u·σ(g)·(1 + g·(1 − σ(g)));
 *                                       which 1: out = du = dy·g·σ(g) */
#include "common.h"

#include <math.h>

#define BLOCK 256

/* s[i] = σ(x[i]) as the native Sigmoid kernel computes it: 1 / (1 + exp(−x)). */
static void sigmoid_span(const float *x, float *s, long m) {
  for (long i = 0; i < m; i++) s[i] = -x[i];
  vexpf(s, s, m);
  for (long i = 0; i < m; i++) s[i] = 1.0f / (1.0f + s[i]);
}

static int sizes_ok(size_t lg, size_t lu, size_t lo, long n) {
  return n >= 0 && lg >= (size_t)n && lu >= (size_t)n && lo >= (size_t)n;
}

napi_value fn_swiglu(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 4)) return NULL;
  size_t lg, lu, ly;
  const float *g = arg_f32(&a, 0, &lg);
  const float *u = g ? arg_f32(&a, 1, &lu) : NULL;
  float *y = u ? arg_f32(&a, 2, &ly) : NULL;
  if (!y) return NULL;
  const long n = (long)arg_int(&a, 3);
  if (!sizes_ok(lg, lu, ly, n)) return throw_error(env, "swiglu: bad sizes");
  const long blocks = (n + BLOCK - 1) / BLOCK;
  const int nt = n >= PAR_MIN ? peft_threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (long b = 0; b < blocks; b++) {
    float s[BLOCK];
    const long o = b * BLOCK, m = n - o < BLOCK ? n - o : BLOCK;
    sigmoid_span(g + o, s, m);
    /* (g·σ(g))·u, rounded as the composite's two products */
    for (long i = 0; i < m; i++) y[o + i] = (g[o + i] * s[i]) * u[o + i];
  }
  return make_undefined(env);
}

napi_value fn_swiglu_grad(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 6)) return NULL;
  size_t lg, lu, ldy, lo;
  const int which = (int)arg_int(&a, 0);
  const float *g = arg_f32(&a, 1, &lg);
  const float *u = g ? arg_f32(&a, 2, &lu) : NULL;
  const float *dy = u ? arg_f32(&a, 3, &ldy) : NULL;
  float *out = dy ? arg_f32(&a, 4, &lo) : NULL;
  if (!out) return NULL;
  const long n = (long)arg_int(&a, 5);
  if (!sizes_ok(lg, lu, lo, n) || ldy < (size_t)n) return throw_error(env, "swigluGrad: bad sizes");
  const long blocks = (n + BLOCK - 1) / BLOCK;
  const int nt = n >= PAR_MIN ? peft_threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (long b = 0; b < blocks; b++) {
    float s[BLOCK];
    const long o = b * BLOCK, m = n - o < BLOCK ? n - o : BLOCK;
    sigmoid_span(g + o, s, m);
    if (which == 0) {
      for (long i = 0; i < m; i++) {
        const float gi = g[o + i], si = s[i];
        out[o + i] = dy[o + i] * u[o + i] * si * (1.0f + gi * (1.0f - si));
      }
    } else {
      for (long i = 0; i < m; i++) out[o + i] = dy[o + i] * (g[o + i] * s[i]);
    }
  }
  return make_undefined(env);
}
