/* Fused kernels for the ops a transformer spends its elementwise time in: GELU (tanh and erf
 * forms) and LayerNorm over the last axis, forward and backward, each one pass over memory
 * instead of the 10-30 tfjs kernels their composite forms take (src/engine/backend/fused).
 *
 * gelu(mode, x, out)                 mode 0: tanh approximation, 1: exact (erf)
 * geluGrad(mode, x, dy, dx)
 * layerNorm(x, gamma, beta|null, y, mean, rstd, rows, cols, eps)
 * layerNormGrad(x, gamma, dy, mean, rstd, dx, dgamma, dbeta, rows, cols) */
#include "common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define BLOCK 256
static const float C_TANH = 0.7978845608028654f; /* sqrt(2/pi) */
static const float K_CUBE = 0.044715f;
static const float INV_SQRT2 = 0.7071067811865476f;
static const float INV_SQRT_2PI = 0.3989422804014327f;

/* y = 0.5·x·(1 + tanh(c·(x + k·x³)))  or  0.5·x·(1 + erf(x/√2)) */
static void gelu_span(int mode, const float *x, float *y, long n) {
  float t[BLOCK];
  for (long s = 0; s < n; s += BLOCK) {
    const long m = n - s < BLOCK ? n - s : BLOCK;
    const float *xs = x + s;
    if (mode == 0) {
      for (long i = 0; i < m; i++) t[i] = C_TANH * (xs[i] + K_CUBE * xs[i] * xs[i] * xs[i]);
      vtanhf(t, t, m);
    } else {
      for (long i = 0; i < m; i++) t[i] = xs[i] * INV_SQRT2;
      verff(t, t, m);
    }
    for (long i = 0; i < m; i++) y[s + i] = 0.5f * xs[i] * (1.0f + t[i]);
  }
}

/* dx = dy · d/dx gelu(x) */
static void gelu_grad_span(int mode, const float *x, const float *dy, float *dx, long n) {
  float t[BLOCK], e[BLOCK];
  for (long s = 0; s < n; s += BLOCK) {
    const long m = n - s < BLOCK ? n - s : BLOCK;
    const float *xs = x + s;
    if (mode == 0) {
      for (long i = 0; i < m; i++) t[i] = C_TANH * (xs[i] + K_CUBE * xs[i] * xs[i] * xs[i]);
      vtanhf(t, t, m);
      for (long i = 0; i < m; i++) {
        const float v = xs[i], th = t[i];
        const float du = C_TANH * (1.0f + 3.0f * K_CUBE * v * v);
        dx[s + i] = dy[s + i] * (0.5f * (1.0f + th) + 0.5f * v * (1.0f - th * th) * du);
      }
    } else {
      for (long i = 0; i < m; i++) {
        t[i] = xs[i] * INV_SQRT2;
        e[i] = -0.5f * xs[i] * xs[i];
      }
      verff(t, t, m);
      vexpf(e, e, m);
      for (long i = 0; i < m; i++) dx[s + i] = dy[s + i] * (0.5f * (1.0f + t[i]) + xs[i] * INV_SQRT_2PI * e[i]);
    }
  }
}

/* Splits [0, n) over the threads in 64-element aligned chunks and runs BODY(s, e). */
#define PARALLEL_SPANS(n, BODY)                                                       \
  do {                                                                                \
    const int nt_ = (n) >= PAR_MIN ? peft_threads() : 1;                              \
    _Pragma("omp parallel for num_threads(nt_) schedule(static) if (nt_ > 1)")        \
    for (int t_ = 0; t_ < nt_; t_++) {                                                \
      const long s = ((n) * t_ / nt_) & ~63L, e = t_ == nt_ - 1 ? (n) : ((n) * (t_ + 1) / nt_) & ~63L; \
      BODY;                                                                           \
    }                                                                                 \
  } while (0)

napi_value fn_gelu(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 3)) return NULL;
  const int mode = (int)arg_int(&a, 0);
  size_t lx, ly;
  const float *x = arg_f32(&a, 1, &lx);
  if (!x) return NULL;
  float *y = arg_f32(&a, 2, &ly);
  if (!y) return NULL;
  if (ly < lx) return throw_error(env, "gelu: output too small");
  const long n = (long)lx;
  PARALLEL_SPANS(n, gelu_span(mode, x + s, y + s, e - s));
  return make_undefined(env);
}

napi_value fn_gelu_grad(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 4)) return NULL;
  const int mode = (int)arg_int(&a, 0);
  size_t lx, ld, lo;
  const float *x = arg_f32(&a, 1, &lx);
  if (!x) return NULL;
  const float *dy = arg_f32(&a, 2, &ld);
  if (!dy) return NULL;
  float *dx = arg_f32(&a, 3, &lo);
  if (!dx) return NULL;
  if (ld < lx || lo < lx) return throw_error(env, "geluGrad: sizes differ");
  const long n = (long)lx;
  PARALLEL_SPANS(n, gelu_grad_span(mode, x + s, dy + s, dx + s, e - s));
  return make_undefined(env);
}

napi_value fn_layer_norm(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 9)) return NULL;
  size_t lx, lg, lb = 0, ly, lm, lr;
  int ok;
  const float *x = arg_f32(&a, 0, &lx);
  if (!x) return NULL;
  const float *g = arg_f32(&a, 1, &lg);
  if (!g) return NULL;
  const float *b = arg_f32_or_null(&a, 2, &lb, &ok);
  if (!ok) return NULL;
  float *y = arg_f32(&a, 3, &ly);
  if (!y) return NULL;
  float *mean = arg_f32(&a, 4, &lm);
  if (!mean) return NULL;
  float *rstd = arg_f32(&a, 5, &lr);
  if (!rstd) return NULL;
  const long rows = (long)arg_int(&a, 6), cols = (long)arg_int(&a, 7);
  const double eps = arg_num(&a, 8);
  if (rows < 0 || cols <= 0 || (size_t)(rows * cols) > lx || (size_t)(rows * cols) > ly || lg < (size_t)cols ||
      (b && lb < (size_t)cols) || lm < (size_t)rows || lr < (size_t)rows)
    return throw_error(env, "layerNorm: bad sizes");
  const int nt = rows * cols >= PAR_MIN ? peft_threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (long r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols;
    double s = 0;
    for (long j = 0; j < cols; j++) s += xr[j];
    const double mu = s / (double)cols;
    double v = 0;
    for (long j = 0; j < cols; j++) {
      const double d = xr[j] - mu;
      v += d * d;
    }
    const float rs = (float)(1.0 / sqrt(v / (double)cols + eps));
    const float m = (float)mu;
    mean[r] = m;
    rstd[r] = rs;
    if (b)
      for (long j = 0; j < cols; j++) yr[j] = (xr[j] - m) * rs * g[j] + b[j];
    else
      for (long j = 0; j < cols; j++) yr[j] = (xr[j] - m) * rs * g[j];
  }
  return make_undefined(env);
}

napi_value fn_layer_norm_grad(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 10)) return NULL;
  size_t lx, lg, ldy, lm, lr, ldx, ldg, ldb;
  const float *x = arg_f32(&a, 0, &lx);
  const float *g = x ? arg_f32(&a, 1, &lg) : NULL;
  const float *dy = g ? arg_f32(&a, 2, &ldy) : NULL;
  const float *mean = dy ? arg_f32(&a, 3, &lm) : NULL;
  const float *rstd = mean ? arg_f32(&a, 4, &lr) : NULL;
  float *dx = rstd ? arg_f32(&a, 5, &ldx) : NULL;
  float *dg = dx ? arg_f32(&a, 6, &ldg) : NULL;
  float *db = dg ? arg_f32(&a, 7, &ldb) : NULL;
  if (!db) return NULL;
  const long rows = (long)arg_int(&a, 8), cols = (long)arg_int(&a, 9);
  const size_t n = (size_t)(rows * cols);
  if (rows < 0 || cols <= 0 || n > lx || n > ldy || n > ldx || lg < (size_t)cols || ldg < (size_t)cols ||
      ldb < (size_t)cols || lm < (size_t)rows || lr < (size_t)rows)
    return throw_error(env, "layerNormGrad: bad sizes");
  const int nt = (long)n >= PAR_MIN ? peft_threads() : 1;
  /* per-thread partial sums of dgamma, dbeta (double), then added up */
  double *part = (double *)calloc((size_t)nt * 2 * (size_t)cols, sizeof(double));
  if (!part) return throw_error(env, "layerNormGrad: out of memory");
  int fail = 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int t = 0;
#ifdef _OPENMP
    t = omp_get_thread_num();
#endif
    double *pg = part + (size_t)t * 2 * (size_t)cols, *pb = pg + cols;
    float *xhat = (float *)malloc(sizeof(float) * (size_t)cols * 2);
    float *gh = xhat ? xhat + cols : NULL;
    if (!xhat) {
#pragma omp atomic write
      fail = 1;
    }
#pragma omp for schedule(static)
    for (long r = 0; r < rows; r++) {
      if (!xhat) continue;
      const float *xr = x + r * cols, *dyr = dy + r * cols;
      float *dxr = dx + r * cols;
      const float m = mean[r], rs = rstd[r];
      double s1 = 0, s2 = 0;
      for (long j = 0; j < cols; j++) {
        xhat[j] = (xr[j] - m) * rs;
        gh[j] = dyr[j] * g[j];
        s1 += gh[j];
        s2 += (double)gh[j] * xhat[j];
        pg[j] += (double)dyr[j] * xhat[j];
        pb[j] += dyr[j];
      }
      const float m1 = (float)(s1 / (double)cols), m2 = (float)(s2 / (double)cols);
      for (long j = 0; j < cols; j++) dxr[j] = rs * (gh[j] - m1 - xhat[j] * m2);
    }
    free(xhat);
  }
  if (fail) {
    free(part);
    return throw_error(env, "layerNormGrad: out of memory");
  }
  for (long j = 0; j < cols; j++) {
    double sg = 0, sb = 0;
    for (int t = 0; t < nt; t++) {
      sg += part[(size_t)t * 2 * (size_t)cols + (size_t)j];
      sb += part[(size_t)t * 2 * (size_t)cols + (size_t)cols + (size_t)j];
    }
    dg[j] = (float)sg;
    db[j] = (float)sb;
  }
  free(part);
  return make_undefined(env);
}
