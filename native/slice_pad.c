/* Slice and constant Pad, float32 or int32 (same width): both copy whole innermost rows.
 *
 * slice(x, out, shape, begin, size)
 * pad(x, out, shape, before, after, value)   out is filled with value around x */
#include "common.h"

#include <string.h>

/* Reads shape-like int arrays; returns the rank or -1 (after throwing). */
static int read_dims(args_t *a, size_t i, int64_t *v, int rank) {
  const int r = arg_ints(a, i, v, MAX_RANK);
  if (r < 0) return -1;
  if (r != rank) {
    throw_error(a->env, "slice/pad: parameters differ in rank");
    return -1;
  }
  return r;
}

/* Row-major strides (in elements) of an array of extents `dims`. */
static void strides_of(const long *dims, int rank, long *stride) {
  stride[rank - 1] = 1;
  for (int d = rank - 2; d >= 0; d--) stride[d] = stride[d + 1] * dims[d + 1];
}

/* Where innermost row r of a block of extents `extent`, placed at `start` inside an array of
 * strides `stride`, begins in that array: a slice reads its rows there, a pad writes them. */
static long row_offset(long r, int rank, const int64_t *extent, const int64_t *start, const long *stride) {
  long rem = r, off = (long)start[rank - 1];
  for (int d = rank - 2; d >= 0; d--) {
    off += ((rem % (long)extent[d]) + (long)start[d]) * stride[d];
    rem /= (long)extent[d];
  }
  return off;
}

static int typed_pair(args_t *a, const void **x, size_t *lx, void **out, size_t *lo) {
  napi_typedarray_type tx, to;
  *x = arg_typed(a, 0, lx, &tx);
  if (!*x) return 0;
  *out = arg_typed(a, 1, lo, &to);
  if (!*out) return 0;
  if (!((tx == napi_float32_array || tx == napi_int32_array) && to == tx)) {
    throw_error(a->env, "slice/pad: float32 or int32 arrays of the same type expected");
    return 0;
  }
  return 1;
}

napi_value fn_slice(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 5)) return NULL;
  const void *xv;
  void *ov;
  size_t lx, lo;
  if (!typed_pair(&a, &xv, &lx, &ov, &lo)) return NULL;
  int64_t shape[MAX_RANK], begin[MAX_RANK], size[MAX_RANK];
  const int rank = arg_ints(&a, 2, shape, MAX_RANK);
  if (rank < 1 || read_dims(&a, 3, begin, rank) < 0 || read_dims(&a, 4, size, rank) < 0)
    return rank < 1 ? throw_error(env, "slice: rank 0") : NULL;
  long in_total = 1, out_total = 1;
  for (int d = 0; d < rank; d++) {
    if (begin[d] < 0 || size[d] < 0 || begin[d] + size[d] > shape[d]) return throw_error(env, "slice: out of range");
    in_total *= (long)shape[d];
    out_total *= (long)size[d];
  }
  if ((size_t)in_total > lx || (size_t)out_total > lo) return throw_error(env, "slice: buffer too small");
  if (out_total == 0) return make_undefined(env);
  const float *x = (const float *)xv;
  float *out = (float *)ov;
  const long inner = (long)size[rank - 1], rows = out_total / inner;
  long dims[MAX_RANK], stride[MAX_RANK];
  for (int d = 0; d < rank; d++) dims[d] = (long)shape[d];
  strides_of(dims, rank, stride);
  const int nt = out_total >= PAR_MIN ? peft_threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (long r = 0; r < rows; r++) memcpy(out + r * inner, x + row_offset(r, rank, size, begin, stride), sizeof(float) * (size_t)inner);
  return make_undefined(env);
}

napi_value fn_pad(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 6)) return NULL;
  const void *xv;
  void *ov;
  size_t lx, lo;
  napi_typedarray_type tx;
  if (!typed_pair(&a, &xv, &lx, &ov, &lo)) return NULL;
  arg_typed(&a, 0, NULL, &tx);
  int64_t shape[MAX_RANK], before[MAX_RANK], after[MAX_RANK];
  const int rank = arg_ints(&a, 2, shape, MAX_RANK);
  if (rank < 1 || read_dims(&a, 3, before, rank) < 0 || read_dims(&a, 4, after, rank) < 0)
    return rank < 1 ? throw_error(env, "pad: rank 0") : NULL;
  const double value = arg_num(&a, 5);
  long in_total = 1, out_total = 1, oshape[MAX_RANK];
  for (int d = 0; d < rank; d++) {
    if (before[d] < 0 || after[d] < 0) return throw_error(env, "pad: negative padding");
    oshape[d] = (long)(shape[d] + before[d] + after[d]);
    in_total *= (long)shape[d];
    out_total *= oshape[d];
  }
  if ((size_t)in_total > lx || (size_t)out_total > lo) return throw_error(env, "pad: buffer too small");
  if (out_total == 0) return make_undefined(env);
  if (tx == napi_int32_array) {
    int32_t *o = (int32_t *)ov;
    const int32_t v = (int32_t)value;
    for (long i = 0; i < out_total; i++) o[i] = v;
  } else {
    float *o = (float *)ov;
    const float v = (float)value;
    for (long i = 0; i < out_total; i++) o[i] = v;
  }
  if (in_total == 0) return make_undefined(env);
  const float *x = (const float *)xv;
  float *out = (float *)ov;
  const long inner = (long)shape[rank - 1], rows = in_total / inner;
  long ostride[MAX_RANK];
  strides_of(oshape, rank, ostride);
  const int nt = out_total >= PAR_MIN ? peft_threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (long r = 0; r < rows; r++) memcpy(out + row_offset(r, rank, shape, before, ostride), x + r * inner, sizeof(float) * (size_t)inner);
  return make_undefined(env);
}
