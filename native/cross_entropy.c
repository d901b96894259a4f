/* Cross-entropy of rows of logits against integer labels (the loss of classification and of causal
 * language modelling): nll_n = logsumexp(x_n) − x_n[y_n], and its gradient g_n·(softmax(x_n) −
 * onehot(y_n)) — one pass forward and one backward, where the composite of tfjs ops is ~10 kernels
 * over [N, C] each way (for a 512-token vocabulary and 4096 positions, 2M elements each). A label
 * below 0 counts as class 0 (the composite's clamp of the ignore index −100; the caller masks those
 * rows); one at or above C has an all-zero one-hot: nll 0 and gradient 0, as in the composite.
 *
 * crossEntropy(x, labels, nll, rows, cols)
 * crossEntropyGrad(x, labels, g, dx, rows, cols)   g [rows]: the upstream gradient of each nll */
#include "common.h"

#include <math.h>

static long label_of(const int32_t *labels, long n) { return labels[n] < 0 ? 0 : labels[n]; }

/* e[c] = exp(x[c] − max) (e may be NULL: only the sum); returns the max and the sum in *sum. */
static float exp_row(const float *x, long C, float *e, double *sum) {
  float m = -INFINITY;
  for (long c = 0; c < C; c++) m = x[c] > m ? x[c] : m;
  double s = 0;
  if (e) {
    for (long c = 0; c < C; c++) e[c] = x[c] - m;
    vexpf(e, e, C);
    for (long c = 0; c < C; c++) s += e[c];
  } else {
    float buf[256];
    for (long o = 0; o < C; o += 256) {
      const long k = C - o < 256 ? C - o : 256;
      for (long c = 0; c < k; c++) buf[c] = x[o + c] - m;
      vexpf(buf, buf, k);
      for (long c = 0; c < k; c++) s += buf[c];
    }
  }
  *sum = s;
  return m;
}

static int read_dims(args_t *a, size_t i, long *N, long *C) {
  *N = (long)arg_int(a, i);
  *C = (long)arg_int(a, i + 1);
  return *N >= 0 && *C > 0;
}

napi_value fn_cross_entropy(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 5)) return NULL;
  size_t lx, ll, lo;
  const float *x = arg_f32(&a, 0, &lx);
  const int32_t *labels = x ? arg_i32(&a, 1, &ll) : NULL;
  float *nll = labels ? arg_f32(&a, 2, &lo) : NULL;
  if (!nll) return NULL;
  long N, C;
  if (!read_dims(&a, 3, &N, &C) || lx < (size_t)(N * C) || ll < (size_t)N || lo < (size_t)N) return throw_error(env, "crossEntropy: bad sizes");
  const int nt = N * C >= PAR_MIN ? peft_threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (long n = 0; n < N; n++) {
    const float *xr = x + n * C;
    const long y = label_of(labels, n);
    double s;
    const float m = exp_row(xr, C, NULL, &s);
    nll[n] = y < C ? (float)((double)m + log(s) - (double)xr[y]) : 0.0f;
  }
  return make_undefined(env);
}

napi_value fn_cross_entropy_grad(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 6)) return NULL;
  size_t lx, ll, lg, ld;
  const float *x = arg_f32(&a, 0, &lx);
  const int32_t *labels = x ? arg_i32(&a, 1, &ll) : NULL;
  const float *g = labels ? arg_f32(&a, 2, &lg) : NULL;
  float *dx = g ? arg_f32(&a, 3, &ld) : NULL;
  if (!dx) return NULL;
  long N, C;
  if (!read_dims(&a, 4, &N, &C) || lx < (size_t)(N * C) || ll < (size_t)N || lg < (size_t)N || ld < (size_t)(N * C))
    return throw_error(env, "crossEntropyGrad: bad sizes");
  const int nt = N * C >= PAR_MIN ? peft_threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (long n = 0; n < N; n++) {
    const float *xr = x + n * C;
    float *dr = dx + n * C;
    const long y = label_of(labels, n);
    if (y >= C) {
      for (long c = 0; c < C; c++) dr[c] = 0;
      continue;
    }
    double s;
    exp_row(xr, C, dr, &s);
    const float k = (float)(g[n] / s);
    for (long c = 0; c < C; c++) dr[c] *= k;
    dr[y] -= g[n];
  }
  return make_undefined(env);
}
