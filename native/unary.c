/* Elementwise unary operations, float32 in and out. The transcendental ones use glibc's
 * vector math library (libmvec: 16 or 8 lanes) when it is there (weak symbols), else libm.
 *
 * unary(op, x, out, alpha, beta)   op: see enum; alpha/beta: Step's and LeakyRelu's alpha,
 *                                  ClipByValue's min/max, Elu/Selu constants unused. */
#include "common.h"

#include <math.h>
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

enum {
  U_EXP, U_LOG, U_TANH, U_SIGMOID, U_SQRT, U_RSQRT, U_SQUARE, U_NEG, U_ABS, U_RELU, U_ERF, U_SOFTPLUS,
  U_RECIPROCAL, U_STEP, U_RELU6, U_LEAKYRELU, U_ELU, U_LOG1P, U_EXPM1, U_CLIP, U_COUNT
};

/* glibc's vector variants (x86_64 vector ABI names). Weak: absent before glibc 2.35. */
#if defined(__AVX2__)
extern __m256 _ZGVdN8v_expf(__m256) __attribute__((weak));
extern __m256 _ZGVdN8v_logf(__m256) __attribute__((weak));
extern __m256 _ZGVdN8v_tanhf(__m256) __attribute__((weak));
extern __m256 _ZGVdN8v_erff(__m256) __attribute__((weak));
extern __m256 _ZGVdN8v_log1pf(__m256) __attribute__((weak));
extern __m256 _ZGVdN8v_expm1f(__m256) __attribute__((weak));
#endif
#if defined(__AVX512F__)
extern __m512 _ZGVeN16v_expf(__m512) __attribute__((weak));
extern __m512 _ZGVeN16v_logf(__m512) __attribute__((weak));
extern __m512 _ZGVeN16v_tanhf(__m512) __attribute__((weak));
extern __m512 _ZGVeN16v_erff(__m512) __attribute__((weak));
extern __m512 _ZGVeN16v_log1pf(__m512) __attribute__((weak));
extern __m512 _ZGVeN16v_expm1f(__m512) __attribute__((weak));
#endif

#if defined(__AVX512F__)
#define VEC512(NAME)                                                                  \
  if (_ZGVeN16v_##NAME) {                                                             \
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _ZGVeN16v_##NAME(_mm512_loadu_ps(x + i))); \
  }
#else
#define VEC512(NAME)
#endif
#if defined(__AVX2__)
#define VEC256(NAME)                                                                  \
  if (_ZGVdN8v_##NAME) {                                                              \
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _ZGVdN8v_##NAME(_mm256_loadu_ps(x + i))); \
  }
#else
#define VEC256(NAME)
#endif

/* y[i] = NAME(x[i]) with the widest vector variant available, then scalar for the tail. */
#define DEFINE_VEC_APPLY(NAME)                                                        \
  static void apply_##NAME(const float *x, float *y, long n) {                        \
    long i = 0;                                                                       \
    VEC512(NAME)                                                                      \
    VEC256(NAME)                                                                      \
    for (; i < n; i++) y[i] = NAME(x[i]);                                             \
  }

DEFINE_VEC_APPLY(expf)
DEFINE_VEC_APPLY(logf)
DEFINE_VEC_APPLY(tanhf)
DEFINE_VEC_APPLY(erff)
DEFINE_VEC_APPLY(log1pf)
DEFINE_VEC_APPLY(expm1f)

void vexpf(const float *x, float *y, long n) { apply_expf(x, y, n); }
void vtanhf(const float *x, float *y, long n) { apply_tanhf(x, y, n); }
void verff(const float *x, float *y, long n) { apply_erff(x, y, n); }

/* tfjs's Softplus: x above -log(eps)-2 is x, below log(eps)+2 is exp(x). */
static const float SOFTPLUS_T = -13.942385152878742f;

static void unary_span(int op, const float *x, float *y, long n, float alpha, float beta) {
  long i;
  switch (op) {
    case U_EXP: apply_expf(x, y, n); break;
    case U_LOG: apply_logf(x, y, n); break;
    case U_TANH: apply_tanhf(x, y, n); break;
    case U_ERF: apply_erff(x, y, n); break;
    case U_LOG1P: apply_log1pf(x, y, n); break;
    case U_EXPM1: apply_expm1f(x, y, n); break;
    case U_SIGMOID:
      for (i = 0; i < n; i++) y[i] = -x[i];
      apply_expf(y, y, n);
      for (i = 0; i < n; i++) y[i] = 1.0f / (1.0f + y[i]);
      break;
    case U_SQRT: for (i = 0; i < n; i++) y[i] = sqrtf(x[i]); break;
    case U_RSQRT: for (i = 0; i < n; i++) y[i] = 1.0f / sqrtf(x[i]); break;
    case U_SQUARE: for (i = 0; i < n; i++) y[i] = x[i] * x[i]; break;
    case U_NEG: for (i = 0; i < n; i++) y[i] = -x[i]; break;
    case U_ABS: for (i = 0; i < n; i++) y[i] = fabsf(x[i]); break;
    case U_RELU: for (i = 0; i < n; i++) y[i] = x[i] < 0 ? 0.0f : x[i]; break;
    case U_RECIPROCAL: for (i = 0; i < n; i++) y[i] = 1.0f / x[i]; break;
    case U_STEP: for (i = 0; i < n; i++) y[i] = isnan(x[i]) ? NAN : (x[i] > 0 ? 1.0f : alpha); break;
    case U_RELU6: for (i = 0; i < n; i++) y[i] = x[i] < 0 ? 0.0f : (x[i] > 6 ? 6.0f : x[i]); break;
    case U_LEAKYRELU: for (i = 0; i < n; i++) y[i] = x[i] < 0 ? alpha * x[i] : x[i]; break;
    case U_ELU: for (i = 0; i < n; i++) y[i] = x[i] < 0 ? expm1f(x[i]) : x[i]; break;
    case U_CLIP: for (i = 0; i < n; i++) y[i] = isnan(x[i]) ? NAN : (x[i] < alpha ? alpha : (x[i] > beta ? beta : x[i])); break;
    case U_SOFTPLUS:
      for (i = 0; i < n; i++) {
        const float v = x[i];
        y[i] = v > -SOFTPLUS_T ? v : (v < SOFTPLUS_T ? expf(v) : log1pf(expf(v)));
      }
      break;
    default: break;
  }
}

napi_value fn_unary(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 3)) return NULL;
  const int op = (int)arg_int(&a, 0);
  if (op < 0 || op >= U_COUNT) return throw_error(env, "unary: unknown op");
  size_t lx, ly;
  const float *x = arg_f32(&a, 1, &lx);
  if (!x) return NULL;
  float *y = arg_f32(&a, 2, &ly);
  if (!y) return NULL;
  if (ly < lx) return throw_error(env, "unary: output too small");
  const float alpha = (float)arg_num(&a, 3), beta = (float)arg_num(&a, 4);
  const long n = (long)lx;
  const int nt = n >= PAR_MIN ? peft_threads() : 1;
  if (nt <= 1) {
    unary_span(op, x, y, n, alpha, beta);
  } else {
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) {
      /* chunk boundaries on 64-element multiples keep the vector loops aligned */
      const long s = (n * t / nt) & ~63L, e = t == nt - 1 ? n : (n * (t + 1) / nt) & ~63L;
      unary_span(op, x + s, y + s, e - s, alpha, beta);
    }
  }
  return make_undefined(env);
}
