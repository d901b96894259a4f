/* RMSNorm over the last axis (LLaMA, T5): y = x / sqrt(mean(x²) + eps) · w, forward and the two
 * gradients, one pass per row each (the composite is ~6 tfjs kernels forward and ~12 backward).
 * The backward recomputes the row's 1/rms from x (no second output to carry).
 *
 * rmsNorm(x, w, y, rows, cols, eps)
 * rmsNormGrad(which, x, w, dy, out, rows, cols, eps)   which 0: out = dx [rows, cols];
 *                                                       which 1: out = dw [cols] */
#include "common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* 1/sqrt(mean(x²) + eps) as the composite rounds it: squares and the mean in float32 steps. */
static float row_rstd(const float *x, long cols, float eps) {
  double s = 0;
  for (long j = 0; j < cols; j++) s += (double)(x[j] * x[j]);
  const float ms = (float)(s / (double)cols);
  return 1.0f / sqrtf(ms + eps);
}

napi_value fn_rms_norm(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 6)) return NULL;
  size_t lx, lw, ly;
  const float *x = arg_f32(&a, 0, &lx);
  const float *w = x ? arg_f32(&a, 1, &lw) : NULL;
  float *y = w ? arg_f32(&a, 2, &ly) : NULL;
  if (!y) return NULL;
  const long rows = (long)arg_int(&a, 3), cols = (long)arg_int(&a, 4);
  const float eps = (float)arg_num(&a, 5);
  if (rows < 0 || cols <= 0 || (size_t)(rows * cols) > lx || (size_t)(rows * cols) > ly || lw < (size_t)cols)
    return throw_error(env, "rmsNorm: bad sizes");
  const int nt = rows * cols >= PAR_MIN ? peft_threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (long r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols;
    const float rs = row_rstd(xr, cols, eps);
    for (long j = 0; j < cols; j++) yr[j] = (xr[j] * rs) * w[j];
  }
  return make_undefined(env);
}

napi_value fn_rms_norm_grad(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 8)) return NULL;
  size_t lx, lw, ldy, lo;
  const int which = (int)arg_int(&a, 0);
  const float *x = arg_f32(&a, 1, &lx);
  const float *w = x ? arg_f32(&a, 2, &lw) : NULL;
  const float *dy = w ? arg_f32(&a, 3, &ldy) : NULL;
  float *out = dy ? arg_f32(&a, 4, &lo) : NULL;
  if (!out) return NULL;
  const long rows = (long)arg_int(&a, 5), cols = (long)arg_int(&a, 6);
  const float eps = (float)arg_num(&a, 7);
  const size_t n = (size_t)(rows * cols);
  if (rows < 0 || cols <= 0 || n > lx || n > ldy || lw < (size_t)cols || lo < (which == 0 ? n : (size_t)cols))
    return throw_error(env, "rmsNormGrad: bad sizes");
  const int nt = (long)n >= PAR_MIN ? peft_threads() : 1;
  if (which == 0) {
    /* dx_i = r·w_i·g_i − x_i·r³·(Σ_j g_j·w_j·x_j)/D */
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (long r = 0; r < rows; r++) {
      const float *xr = x + r * cols, *gr = dy + r * cols;
      float *dxr = out + r * cols;
      const float rs = row_rstd(xr, cols, eps);
      double dot = 0;
      for (long j = 0; j < cols; j++) dot += (double)gr[j] * w[j] * xr[j];
      const float c = (float)(dot * (double)rs * rs * rs / (double)cols);
      for (long j = 0; j < cols; j++) dxr[j] = rs * w[j] * gr[j] - xr[j] * c;
    }
    return make_undefined(env);
  }
  /* dw_j = Σ_rows g_j·(x_j·r): per-thread partial sums in double, then added up */
  double *part = (double *)calloc((size_t)nt * (size_t)cols, sizeof(double));
  if (!part) return throw_error(env, "rmsNormGrad: out of memory");
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int t = 0;
#ifdef _OPENMP
    t = omp_get_thread_num();
#endif
    double *pw = part + (size_t)t * (size_t)cols;
#pragma omp for schedule(static)
    for (long r = 0; r < rows; r++) {
      const float *xr = x + r * cols, *gr = dy + r * cols;
      const float rs = row_rstd(xr, cols, eps);
      for (long j = 0; j < cols; j++) pw[j] += (double)gr[j] * (xr[j] * rs);
    }
  }
  for (long j = 0; j < cols; j++) {
    double s = 0;
    for (int t = 0; t < nt; t++) s += part[(size_t)t * (size_t)cols + (size_t)j];
    out[j] = (float)s;
  }
  free(part);
  return make_undefined(env);
}
