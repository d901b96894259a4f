/* Softmax over the last axis: x and out are [rows, cols].
 *
 * softmax(x, out, rows, cols) */
#include "common.h"

#include <math.h>

static void softmax_row(const float *x, float *y, long cols) {
  float m = -INFINITY;
  int nan = 0;
  for (long j = 0; j < cols; j++) {
    nan |= isnan(x[j]);
    m = x[j] > m ? x[j] : m;
  }
  if (nan) {
    for (long j = 0; j < cols; j++) y[j] = NAN;
    return;
  }
  for (long j = 0; j < cols; j++) y[j] = x[j] - m;
  vexpf(y, y, cols);
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  long j = 0;
  for (; j + 8 <= cols; j += 8)
    for (int l = 0; l < 8; l++) acc[l] += y[j + l];
  double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; j < cols; j++) s += y[j];
  const float sf = (float)s;
  for (j = 0; j < cols; j++) y[j] = y[j] / sf;
}

napi_value fn_softmax(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 4)) return NULL;
  size_t lx, lo;
  const float *x = arg_f32(&a, 0, &lx);
  if (!x) return NULL;
  float *out = arg_f32(&a, 1, &lo);
  if (!out) return NULL;
  const long rows = (long)arg_int(&a, 2), cols = (long)arg_int(&a, 3);
  if (rows < 0 || cols < 0 || (size_t)(rows * cols) > lx || (size_t)(rows * cols) > lo)
    return throw_error(env, "softmax: bad sizes");
  const int nt = rows * cols >= PAR_MIN ? peft_threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (long r = 0; r < rows; r++) softmax_row(x + r * cols, out + r * cols, cols);
  return make_undefined(env);
}
