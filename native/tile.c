/* Tile (tf.tile, and tf.broadcastTo which tfjs builds on it): the output repeats x reps[d]
 * times along each dimension d. Each output row (all dims but the last) is its source row
 * copied reps[last] times. float32 or int32 (same width).
 *
 * tile(x, out, shape, reps) */
#include "common.h"

#include <string.h>

napi_value fn_tile(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 4)) return NULL;
  size_t lx, lo;
  napi_typedarray_type tx, to;
  const float *x = (const float *)arg_typed(&a, 0, &lx, &tx);
  if (!x) return NULL;
  float *out = (float *)arg_typed(&a, 1, &lo, &to);
  if (!out) return NULL;
  if (!((tx == napi_float32_array || tx == napi_int32_array) && to == tx))
    return throw_error(env, "tile: float32 or int32 arrays of the same type expected");
  int64_t shape[MAX_RANK], reps[MAX_RANK];
  const int rank = arg_ints(&a, 2, shape, MAX_RANK);
  if (rank < 0) return NULL;
  if (arg_ints(&a, 3, reps, MAX_RANK) != rank) return throw_error(env, "tile: reps and shape differ in rank");
  long in_total = 1, out_total = 1;
  long oshape[MAX_RANK];
  for (int d = 0; d < rank; d++) {
    if (shape[d] < 0 || reps[d] < 0) return throw_error(env, "tile: negative size");
    oshape[d] = (long)(shape[d] * reps[d]);
    in_total *= (long)shape[d];
    out_total *= oshape[d];
  }
  if ((size_t)in_total > lx || (size_t)out_total > lo) return throw_error(env, "tile: buffer too small");
  if (out_total == 0) return make_undefined(env);
  if (rank == 0) {
    out[0] = x[0];
    return make_undefined(env);
  }
  const long inner = (long)shape[rank - 1], rep = (long)reps[rank - 1];
  const long rows = out_total / (inner * rep);
  long istride[MAX_RANK];
  istride[rank - 1] = 1;
  for (int d = rank - 2; d >= 0; d--) istride[d] = istride[d + 1] * (long)shape[d + 1];
  const int nt = out_total >= PAR_MIN ? peft_threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (long r = 0; r < rows; r++) {
    long rem = r, off = 0;
    for (int d = rank - 2; d >= 0; d--) {
      const long i = rem % oshape[d];
      rem /= oshape[d];
      off += (i % (long)shape[d]) * istride[d];
    }
    float *dst = out + r * inner * rep;
    for (long k = 0; k < rep; k++) memcpy(dst + k * inner, x + off, sizeof(float) * (size_t)inner);
  }
  return make_undefined(env);
}
