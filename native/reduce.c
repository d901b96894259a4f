/* Reductions over the middle axis of x seen as [outer, r, inner] (the caller transposes when
 * the reduced axes are not one contiguous block). Sums accumulate in double, as tfjs's cpu
 * backend does in JS numbers; max/min propagate NaN as tfjs does.
 *
 * reduce(op, x, out, outer, r, inner)   op: 0 sum, 1 mean, 2 max, 3 min, 4 prod */
#include "common.h"

#include <math.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

enum { R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_COUNT };

/* One contiguous row of r values. */
static float reduce_row(int op, const float *x, long r) {
  if (op == R_SUM || op == R_MEAN) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    long j = 0;
    for (; j + 8 <= r; j += 8)
      for (int l = 0; l < 8; l++) acc[l] += x[j + l];
    double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; j < r; j++) s += x[j];
    return op == R_MEAN ? (float)(s / (double)r) : (float)s;
  }
  if (op == R_PROD) {
    double p = 1;
    for (long j = 0; j < r; j++) p *= x[j];
    return (float)p;
  }
  if (r == 0) return op == R_MAX ? -INFINITY : INFINITY;
  float m = x[0];
  int nan = 0;
  if (op == R_MAX) {
    for (long j = 0; j < r; j++) {
      nan |= isnan(x[j]);
      m = x[j] > m ? x[j] : m;
    }
  } else {
    for (long j = 0; j < r; j++) {
      nan |= isnan(x[j]);
      m = x[j] < m ? x[j] : m;
    }
  }
  return nan ? NAN : m;
}

/* out[i] = op over k of x[k*inner + i], for i in [i0, i1). acc: scratch of (i1-i0) doubles. */
static void reduce_cols(int op, const float *x, float *out, long r, long inner, long i0, long i1, double *acc) {
  const long w = i1 - i0;
  if (op == R_SUM || op == R_MEAN || op == R_PROD) {
    const double init = op == R_PROD ? 1.0 : 0.0;
    for (long i = 0; i < w; i++) acc[i] = init;
    for (long k = 0; k < r; k++) {
      const float *row = x + k * inner + i0;
      if (op == R_PROD)
        for (long i = 0; i < w; i++) acc[i] *= row[i];
      else
        for (long i = 0; i < w; i++) acc[i] += row[i];
    }
    for (long i = 0; i < w; i++) out[i0 + i] = (float)(op == R_MEAN ? acc[i] / (double)r : acc[i]);
    return;
  }
  float *m = out + i0;
  if (r == 0) {
    for (long i = 0; i < w; i++) m[i] = op == R_MAX ? -INFINITY : INFINITY;
    return;
  }
  for (long i = 0; i < w; i++) m[i] = x[i0 + i];
  for (long k = 1; k < r; k++) {
    const float *row = x + k * inner + i0;
    if (op == R_MAX)
      for (long i = 0; i < w; i++) m[i] = (row[i] > m[i] || isnan(row[i])) ? row[i] : m[i];
    else
      for (long i = 0; i < w; i++) m[i] = (row[i] < m[i] || isnan(row[i])) ? row[i] : m[i];
  }
  /* NaN already in the first row must stay: the loops above keep m[i] when it is NaN. */
}

napi_value fn_reduce(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 6)) return NULL;
  const int op = (int)arg_int(&a, 0);
  if (op < 0 || op >= R_COUNT) return throw_error(env, "reduce: unknown op");
  size_t lx, lo;
  const float *x = arg_f32(&a, 1, &lx);
  if (!x) return NULL;
  float *out = arg_f32(&a, 2, &lo);
  if (!out) return NULL;
  const long outer = (long)arg_int(&a, 3), r = (long)arg_int(&a, 4), inner = (long)arg_int(&a, 5);
  if (outer < 0 || r < 0 || inner < 0 || (size_t)(outer * r * inner) > lx || (size_t)(outer * inner) > lo)
    return throw_error(env, "reduce: bad sizes");
  const long total = outer * r * inner;
  const int nt = total >= PAR_MIN ? peft_threads() : 1;
  if (inner == 1) {
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (long o = 0; o < outer; o++) out[o] = reduce_row(op, x + o * r, r);
    return make_undefined(env);
  }
  if (outer >= nt) {
    int fail = 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
      double *acc = (double *)malloc(sizeof(double) * (size_t)(inner > 0 ? inner : 1));
      if (!acc) fail = 1;
#pragma omp for schedule(static)
      for (long o = 0; o < outer; o++)
        if (acc) reduce_cols(op, x + o * r * inner, out + o * inner, r, inner, 0, inner, acc);
      free(acc);
    }
    if (fail) return throw_error(env, "reduce: out of memory");
  } else {
    /* Few outer rows (e.g. a bias gradient): split the columns over the threads. */
    for (long o = 0; o < outer; o++) {
      int fail = 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
      {
        int t = 0, T = 1;
#ifdef _OPENMP
        t = omp_get_thread_num();
        T = omp_get_num_threads();
#endif
        const long i0 = inner * t / T, i1 = inner * (t + 1) / T;
        double *acc = (double *)malloc(sizeof(double) * (size_t)(i1 - i0 > 0 ? i1 - i0 : 1));
        if (!acc) fail = 1;
        else reduce_cols(op, x + o * r * inner, out + o * inner, r, inner, i0, i1, acc);
        free(acc);
      }
      if (fail) return throw_error(env, "reduce: out of memory");
    }
  }
  return make_undefined(env);
}
