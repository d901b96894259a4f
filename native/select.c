/* Select (tf.where): out = cond ? a : b, float32. cond is either as large as a, or has one
 * entry per leading row of a (rank-1 condition), each covering `inner` elements.
 *
 * select(cond: Uint8Array, a, b, out, inner)   inner = 1 for a full-size condition */
#include "common.h"

napi_value fn_select(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 5)) return NULL;
  size_t lc, la, lb, lo;
  const uint8_t *c = arg_u8(&a, 0, &lc);
  if (!c) return NULL;
  const float *A = arg_f32(&a, 1, &la);
  if (!A) return NULL;
  const float *B = arg_f32(&a, 2, &lb);
  if (!B) return NULL;
  float *out = arg_f32(&a, 3, &lo);
  if (!out) return NULL;
  const long inner = (long)arg_int(&a, 4);
  const long n = (long)la;
  if (inner < 1 || lb < la || lo < la || (size_t)(n / inner) > lc || n % inner != 0)
    return throw_error(env, "select: bad sizes");
  const long rows = n / inner;
  const int nt = n >= PAR_MIN ? peft_threads() : 1;
  if (inner == 1) {
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (long i = 0; i < n; i++) out[i] = c[i] ? A[i] : B[i];
  } else {
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (long r = 0; r < rows; r++) {
      const float *src = (c[r] ? A : B) + r * inner;
      float *dst = out + r * inner;
      for (long j = 0; j < inner; j++) dst[j] = src[j];
    }
  }
  return make_undefined(env);
}
