/* A linear layer with a LoRA term, y = x·W(ᵀ) + b + s·(x·Aᵀ)·Bᵀ, and its gradients, each one call
 * (the composite is ~9 tfjs kernels forward and ~10 backward per site). The low-rank product x·Aᵀ
 * is recomputed where a gradient needs it rather than kept.
 *
 * With many rows (training batches) the forward and the input gradient go through the merged
 * weight W' = W + s·B·A (out·in·r multiply-adds, built per call): one product with W' instead of
 * three, two of them skinny (k or n = r), which BLAS runs at a fraction of its speed. It rounds
 * like the base product alone; the factors' gradients are computed unmerged, their skinny
 * products (dy·B, x·Aᵀ) by skinny_product below when r is a multiple of 8.
 *
 * loraLinear(x, w, bias|null, a, b, y, dims, scale)
 * loraGrad(which, x, w, a, b, dy, out, dims, scale)   which 0: out = dx [N, in] = dy·W(ᵀ) + s·(dy·B)·A
 *                                                     which 1: out = dA [r, in] = s·(dy·B)ᵀ·x
 *                                                     which 2: out = dB [out, r] = s·dyᵀ·(x·Aᵀ)
 *   dims [N, in, out, r, transW]: x [N, in], A [r, in], B [out, r]; W [out, in] when transW
 *   (torch's Linear), else [in, out] (GPT-2's Conv1D). */
#include "common.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  long N, in, out, r;
  int transW;
} lora_t;

static int read_dims(args_t *a, size_t i, lora_t *d) {
  int64_t v[5];
  if (arg_ints(a, i, v, 5) != 5) return 0;
  d->N = (long)v[0], d->in = (long)v[1], d->out = (long)v[2], d->r = (long)v[3], d->transW = (int)v[4];
  if (d->N < 0 || d->in <= 0 || d->out <= 0 || d->r <= 0) {
    throw_error(a->env, "lora: bad dimensions");
    return 0;
  }
  return 1;
}

static void gemm(int ta, int tb, long m, long n, long k, float alpha, const float *A, long lda, const float *B, long ldb, float beta, float *C, long ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n,
              (blasint)k, alpha, A, (blasint)lda, B, (blasint)ldb, beta, C, (blasint)ldc);
}

/* out [N, r] = X [N, K] · M [K, r] with r a multiple of 8: four rows at a time, each 8-column
 * chunk of a row one register (four independent chains of multiply-adds). BLAS runs this shape —
 * thousands of rows, a handful of columns — at a fraction of its speed. */
typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));

static void skinny_product(long N, long K, long r, const float *X, const float *M, float *out) {
  const int nt = N * K * r >= 8 * PAR_MIN ? peft_threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (long n0 = 0; n0 < N; n0 += 4) {
    const float *x0 = X + n0 * K;
    for (long c = 0; c < r; c += 8) {
      if (N - n0 >= 4) {
        const float *x1 = x0 + K, *x2 = x1 + K, *x3 = x2 + K;
        v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        for (long k = 0; k < K; k++) {
          const v8 m = *(const v8u *)(M + k * r + c);
          a0 += x0[k] * m;
          a1 += x1[k] * m;
          a2 += x2[k] * m;
          a3 += x3[k] * m;
        }
        *(v8u *)(out + n0 * r + c) = a0;
        *(v8u *)(out + (n0 + 1) * r + c) = a1;
        *(v8u *)(out + (n0 + 2) * r + c) = a2;
        *(v8u *)(out + (n0 + 3) * r + c) = a3;
      } else {
        for (long n = n0; n < N; n++) {
          const float *xr = X + n * K;
          v8 a = {0};
          for (long k = 0; k < K; k++) a += xr[k] * *(const v8u *)(M + k * r + c);
          *(v8u *)(out + n * r + c) = a;
        }
      }
    }
  }
}

/* tmp [N, r] = dy·B (B [out, r]) */
static void dy_b(const lora_t *d, const float *dy, const float *B, float *tmp) {
  if (d->r % 8 == 0) skinny_product(d->N, d->out, d->r, dy, B, tmp);
  else gemm(0, 0, d->N, d->r, d->out, 1.0f, dy, d->out, B, d->r, 0.0f, tmp, d->r);
}

/* tmp [N, r] = x·Aᵀ (A [r, in]); at [in, r] is scratch for Aᵀ */
static void x_at(const lora_t *d, const float *x, const float *A, float *at, float *tmp) {
  if (d->r % 8 == 0) {
    for (long k = 0; k < d->r; k++)
      for (long i = 0; i < d->in; i++) at[i * d->r + k] = A[k * d->in + i];
    skinny_product(d->N, d->in, d->r, x, at, tmp);
  } else gemm(0, 1, d->N, d->r, d->in, 1.0f, x, d->in, A, d->in, 0.0f, tmp, d->r);
}

/* C [N, out] (beta) + x·W(ᵀ) */
static void base_product(const lora_t *d, const float *x, const float *w, float beta, float *y) {
  if (d->transW) gemm(0, 1, d->N, d->out, d->in, 1.0f, x, d->in, w, d->in, beta, y, d->out);
  else gemm(0, 0, d->N, d->out, d->in, 1.0f, x, d->in, w, d->out, beta, y, d->out);
}

/* dx [N, in] = dy·W (W [out, in]) or dy·Wᵀ (W [in, out]): the input gradient of base_product */
static void input_product(const lora_t *d, const float *dy, const float *w, float *dx) {
  if (d->transW) gemm(0, 0, d->N, d->in, d->out, 1.0f, dy, d->out, w, d->in, 0.0f, dx, d->in);
  else gemm(0, 1, d->N, d->in, d->out, 1.0f, dy, d->out, w, d->out, 0.0f, dx, d->in);
}

/* Whether merging pays: building W' costs out·in·r, the two low-rank products N·r·(in + out). */
static int merge_pays(const lora_t *d) { return d->N * (d->in + d->out) > 2 * d->in * d->out; }

/* W' = W + s·B·A in W's layout ([out, in] when transW, else [in, out]); NULL when out of memory. */
static float *merged_weight(const lora_t *d, const float *w, const float *A, const float *B, float s) {
  float *m = (float *)malloc(sizeof(float) * (size_t)(d->in * d->out));
  if (!m) return NULL;
  memcpy(m, w, sizeof(float) * (size_t)(d->in * d->out));
  if (d->transW) gemm(0, 0, d->out, d->in, d->r, s, B, d->r, A, d->in, 1.0f, m, d->in);
  else gemm(1, 1, d->in, d->out, d->r, s, A, d->in, B, d->r, 1.0f, m, d->out);
  return m;
}

napi_value fn_lora_linear(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 8)) return NULL;
  size_t lx, lw, lbias = 0, la, lb, ly;
  int ok;
  const float *x = arg_f32(&a, 0, &lx);
  const float *w = x ? arg_f32(&a, 1, &lw) : NULL;
  if (!w) return NULL;
  const float *bias = arg_f32_or_null(&a, 2, &lbias, &ok);
  if (!ok) return NULL;
  const float *A = arg_f32(&a, 3, &la);
  const float *B = A ? arg_f32(&a, 4, &lb) : NULL;
  float *y = B ? arg_f32(&a, 5, &ly) : NULL;
  if (!y) return NULL;
  lora_t d;
  if (!read_dims(&a, 6, &d)) return NULL;
  const float s = (float)arg_num(&a, 7);
  if (lx < (size_t)(d.N * d.in) || lw < (size_t)(d.in * d.out) || la < (size_t)(d.r * d.in) || lb < (size_t)(d.out * d.r) ||
      ly < (size_t)(d.N * d.out) || (bias && lbias < (size_t)d.out))
    return throw_error(env, "loraLinear: bad sizes");
  if (d.N == 0) return make_undefined(env);
  /* many rows: y = x·W'(ᵀ) + b; few: y = x·W(ᵀ) + b + s·(x·Aᵀ)·Bᵀ, with low [N, r] = x·Aᵀ */
  const int merge = merge_pays(&d);
  float *m = merge ? merged_weight(&d, w, A, B, s) : NULL;
  float *low = merge ? NULL : (float *)malloc(sizeof(float) * (size_t)(d.N * d.r));
  if (merge ? !m : !low) return throw_error(env, "loraLinear: out of memory");
  base_product(&d, x, merge ? m : w, 0.0f, y);
  if (bias)
    for (long i = 0; i < d.N; i++)
      for (long j = 0; j < d.out; j++) y[i * d.out + j] += bias[j];
  if (!merge) {
    gemm(0, 1, d.N, d.r, d.in, 1.0f, x, d.in, A, d.in, 0.0f, low, d.r);
    gemm(0, 1, d.N, d.out, d.r, s, low, d.r, B, d.r, 1.0f, y, d.out);
  }
  free(m);
  free(low);
  return make_undefined(env);
}

napi_value fn_lora_grad(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 9)) return NULL;
  size_t lx, lw, la, lb, ldy, lo;
  const int which = (int)arg_int(&a, 0);
  const float *x = arg_f32(&a, 1, &lx);
  const float *w = x ? arg_f32(&a, 2, &lw) : NULL;
  const float *A = w ? arg_f32(&a, 3, &la) : NULL;
  const float *B = A ? arg_f32(&a, 4, &lb) : NULL;
  const float *dy = B ? arg_f32(&a, 5, &ldy) : NULL;
  float *out = dy ? arg_f32(&a, 6, &lo) : NULL;
  if (!out) return NULL;
  lora_t d;
  if (!read_dims(&a, 7, &d)) return NULL;
  const float s = (float)arg_num(&a, 8);
  const size_t need = which == 0 ? (size_t)(d.N * d.in) : which == 1 ? (size_t)(d.r * d.in) : (size_t)(d.out * d.r);
  if (lx < (size_t)(d.N * d.in) || lw < (size_t)(d.in * d.out) || la < (size_t)(d.r * d.in) || lb < (size_t)(d.out * d.r) ||
      ldy < (size_t)(d.N * d.out) || lo < need || which < 0 || which > 2)
    return throw_error(env, "loraGrad: bad sizes");
  if (d.N == 0) {
    memset(out, 0, sizeof(float) * need);
    return make_undefined(env);
  }
  if (which == 0 && merge_pays(&d)) {
    /* dx = dy·W'(ᵀ) */
    float *m = merged_weight(&d, w, A, B, s);
    if (!m) return throw_error(env, "loraGrad: out of memory");
    input_product(&d, dy, m, out);
    free(m);
    return make_undefined(env);
  }
  /* tmp [N, r]; dB also needs its transpose [r, out] and Aᵀ [in, r] */
  float *tmp = (float *)malloc(sizeof(float) * (size_t)(d.N * d.r + (which == 2 ? d.r * d.out + d.in * d.r : 0)));
  if (!tmp) return throw_error(env, "loraGrad: out of memory");
  if (which == 0) {
    /* dx = dy·W(ᵀ) + s·(dy·B)·A */
    input_product(&d, dy, w, out);
    gemm(0, 0, d.N, d.r, d.out, 1.0f, dy, d.out, B, d.r, 0.0f, tmp, d.r);
    gemm(0, 0, d.N, d.in, d.r, s, tmp, d.r, A, d.in, 1.0f, out, d.in);
  } else if (which == 1) {
    dy_b(&d, dy, B, tmp);
    gemm(1, 0, d.r, d.in, d.N, s, tmp, d.r, x, d.in, 0.0f, out, d.in);
  } else {
    /* dBᵀ = s·(x·Aᵀ)ᵀ·dy [r, out], then transposed: BLAS runs a product with r rows of output
     * about twice as fast as one with r columns */
    float *dbt = tmp + d.N * d.r, *at = dbt + d.r * d.out;
    x_at(&d, x, A, at, tmp);
    gemm(1, 0, d.r, d.out, d.N, s, tmp, d.r, dy, d.out, 0.0f, dbt, d.out);
    for (long o = 0; o < d.out; o++)
      for (long k = 0; k < d.r; k++) out[o * d.r + k] = dbt[k * d.out + o];
  }
  free(tmp);
  return make_undefined(env);
}
