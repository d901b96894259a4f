/* Batched matrix product straight to cblas_sgemm (transpose flags passed through, never
 * materialised), with an optional fused epilogue (bias + activation) for _FusedMatMul.
 *
 * matmul(a, b, out, m, n, k, transA, transB, offA, offB, bias|null, biasMode, act, alpha)
 *   a: batch of [m,k] (or [k,m] when transA), b: batch of [k,n] (or [n,k] when transB);
 *   offA/offB: Int32Array, per output batch entry the element offset of its A and B matrix
 *   (broadcasting is an offset repeated); out: [batch, m, n].
 *   biasMode 0 none, 1 a row of n added to every row, 2 a scalar, 3 a full [m,n] matrix.
 *   act 0 linear, 1 relu, 2 relu6, 3 sigmoid, 4 leakyrelu(alpha), 5 elu. */
#include "common.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Below this many multiply-adds per matrix, the batch loop is split over threads and each
 * product runs on one thread (OpenBLAS would not thread such small products well). */
#define SMALL_GEMM (1L << 22)

static inline float activate(float v, int act, float alpha) {
  switch (act) {
    case 1: return v > 0 ? v : 0;
    case 2: return v < 0 ? 0 : (v > 6 ? 6 : v);
    case 3: return 1.0f / (1.0f + expf(-v));
    case 4: return v < 0 ? alpha * v : v;
    case 5: return v < 0 ? expm1f(v) : v;
    default: return v;
  }
}

static void epilogue(float *c, long m, long n, const float *bias, int bias_mode, int act, float alpha) {
  if (bias_mode == 0 && act == 0) return;
#pragma omp parallel for schedule(static) if (m * n > PAR_MIN)
  for (long i = 0; i < m; i++) {
    float *row = c + i * n;
    if (bias_mode == 1) {
      for (long j = 0; j < n; j++) row[j] += bias[j];
    } else if (bias_mode == 2) {
      const float b0 = bias[0];
      for (long j = 0; j < n; j++) row[j] += b0;
    } else if (bias_mode == 3) {
      const float *brow = bias + i * n;
      for (long j = 0; j < n; j++) row[j] += brow[j];
    }
    if (act == 1) {
      for (long j = 0; j < n; j++) row[j] = row[j] > 0 ? row[j] : 0;
    } else if (act != 0) {
      for (long j = 0; j < n; j++) row[j] = activate(row[j], act, alpha);
    }
  }
}

static void one_gemm(const float *a, const float *b, float *c, long m, long n, long k, int ta, int tb) {
  if (k == 0) {
    memset(c, 0, sizeof(float) * (size_t)(m * n));
    return;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m,
              (blasint)n, (blasint)k, 1.0f, a, (blasint)(ta ? m : k), b, (blasint)(tb ? k : n), 0.0f, c, (blasint)n);
}

napi_value fn_matmul(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 14)) return NULL;
  size_t la, lb, lc, loa, lob, lbias = 0;
  const float *A = arg_f32(&a, 0, &la);
  const float *B = A ? arg_f32(&a, 1, &lb) : NULL;
  float *C = B ? arg_f32(&a, 2, &lc) : NULL;
  if (!C) return NULL;
  const long m = (long)arg_int(&a, 3), n = (long)arg_int(&a, 4), k = (long)arg_int(&a, 5);
  const int ta = (int)arg_int(&a, 6), tb = (int)arg_int(&a, 7);
  const int32_t *offA = arg_i32(&a, 8, &loa);
  const int32_t *offB = offA ? arg_i32(&a, 9, &lob) : NULL;
  if (!offB) return NULL;
  int ok;
  const float *bias = arg_f32_or_null(&a, 10, &lbias, &ok);
  if (!ok) return NULL;
  const int bias_mode = bias ? (int)arg_int(&a, 11) : 0;
  const int act = (int)arg_int(&a, 12);
  const float alpha = (float)arg_num(&a, 13);

  const long batch = (long)loa;
  if (m < 0 || n < 0 || k < 0 || lob != loa) return throw_error(env, "matmul: bad sizes");
  if ((size_t)(batch * m * n) > lc) return throw_error(env, "matmul: output too small");
  for (long i = 0; i < batch; i++) {
    if (offA[i] < 0 || (size_t)offA[i] + (size_t)(m * k) > la || offB[i] < 0 || (size_t)offB[i] + (size_t)(k * n) > lb)
      return throw_error(env, "matmul: batch offset out of range");
  }
  if ((bias_mode == 1 && lbias < (size_t)n) || (bias_mode == 2 && lbias < 1) || (bias_mode == 3 && lbias < (size_t)(m * n)))
    return throw_error(env, "matmul: bias too small");
  if (m == 0 || n == 0 || batch == 0) return make_undefined(env);

  if (batch > 1 && m * n * k < SMALL_GEMM && peft_threads() > 1) {
    /* Split the batch over threads (only with an OpenMP OpenBLAS, see peft_threads), each
     * product on one thread: OpenBLAS-OpenMP runs single-threaded inside a parallel region. */
#pragma omp parallel for schedule(static)
    for (long i = 0; i < batch; i++) {
      one_gemm(A + offA[i], B + offB[i], C + i * m * n, m, n, k, ta, tb);
      epilogue(C + i * m * n, m, n, bias, bias_mode, act, alpha);
    }
  } else {
    for (long i = 0; i < batch; i++) {
      one_gemm(A + offA[i], B + offB[i], C + i * m * n, m, n, k, ta, tb);
      epilogue(C + i * m * n, m, n, bias, bias_mode, act, alpha);
    }
  }
  return make_undefined(env);
}
