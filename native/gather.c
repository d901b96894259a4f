/* Row gather (GatherV2 with batchDims 0) and its gradient, the unsorted segment sum.
 *
 * gather(x, indices, out, outer, axisSize, inner)
 *   x: [outer, axisSize, inner] float32 or int32; indices: Int32Array [n];
 *   out: [outer, n, inner] of x's type. Throws on an index outside [0, axisSize).
 * segmentSum(x, ids, out, numSegments, inner)
 *   x: [n, inner] float32; ids: Int32Array [n]; out: [numSegments, inner], overwritten.
 *   Rows whose id is outside [0, numSegments) are dropped. */
#include "common.h"

#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

napi_value fn_gather(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 6)) return NULL;
  size_t lx, li, lo;
  napi_typedarray_type tx, to;
  const void *xv = arg_typed(&a, 0, &lx, &tx);
  if (!xv) return NULL;
  const int32_t *idx = arg_i32(&a, 1, &li);
  if (!idx) return NULL;
  void *ov = arg_typed(&a, 2, &lo, &to);
  if (!ov) return NULL;
  if (!((tx == napi_float32_array || tx == napi_int32_array) && to == tx))
    return throw_error(env, "gather: float32 or int32 arrays of the same type expected");
  const long outer = (long)arg_int(&a, 3), axis = (long)arg_int(&a, 4), inner = (long)arg_int(&a, 5);
  const long n = (long)li;
  if (outer < 0 || axis < 0 || inner < 0 || (size_t)(outer * axis * inner) > lx || (size_t)(outer * n * inner) > lo)
    return throw_error(env, "gather: bad sizes");
  for (long i = 0; i < n; i++) {
    if (idx[i] < 0 || idx[i] >= axis) {
      char msg[96];
      snprintf(msg, sizeof msg, "GatherV2: the index value %d is not in [0, %ld]", idx[i], axis - 1);
      return throw_error(env, msg);
    }
  }
  const float *x = (const float *)xv;
  float *out = (float *)ov;
  const long rows = outer * n;
  const int nt = rows * inner >= PAR_MIN ? peft_threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (long r = 0; r < rows; r++) {
    const long o = r / n, i = r % n;
    memcpy(out + r * inner, x + (o * axis + idx[i]) * inner, sizeof(float) * (size_t)inner);
  }
  return make_undefined(env);
}

napi_value fn_segment_sum(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 5)) return NULL;
  size_t lx, li, lo;
  const float *x = arg_f32(&a, 0, &lx);
  if (!x) return NULL;
  const int32_t *ids = arg_i32(&a, 1, &li);
  if (!ids) return NULL;
  float *out = arg_f32(&a, 2, &lo);
  if (!out) return NULL;
  const long segs = (long)arg_int(&a, 3), inner = (long)arg_int(&a, 4);
  const long n = (long)li;
  if (segs < 0 || inner < 0 || (size_t)(n * inner) > lx || (size_t)(segs * inner) > lo)
    return throw_error(env, "segmentSum: bad sizes");
  const int nt = (segs + n) * inner >= PAR_MIN ? peft_threads() : 1;
  /* Each thread owns a band of columns: no two threads touch the same output element. */
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int t = 0, T = 1;
#ifdef _OPENMP
    t = omp_get_thread_num();
    T = omp_get_num_threads();
#endif
    const long c0 = inner * t / T, c1 = inner * (t + 1) / T, w = c1 - c0;
    for (long s = 0; s < segs; s++) memset(out + s * inner + c0, 0, sizeof(float) * (size_t)w);
    for (long i = 0; i < n; i++) {
      const int32_t s = ids[i];
      if (s < 0 || s >= segs) continue;
      float *dst = out + (long)s * inner + c0;
      const float *src = x + i * inner + c0;
      for (long j = 0; j < w; j++) dst[j] += src[j];
    }
  }
  return make_undefined(env);
}
