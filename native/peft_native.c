/* peft_native: the N-API addon behind the `native` tfjs backend (src/engine/backend/native).
 * Module registration, argument helpers and the BLAS/threads queries live here; each kernel
 * family has its own file. */
#include "common.h"

#include <cblas.h>
#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

int args_get(napi_env env, napi_callback_info info, args_t *a, size_t need) {
  a->env = env;
  a->argc = MAX_ARGS;
  if (napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL) != napi_ok) {
    throw_error(env, "peft_native: cannot read arguments");
    return 0;
  }
  if (a->argc < need) {
    char msg[96];
    snprintf(msg, sizeof msg, "peft_native: expected %zu arguments, got %zu", need, a->argc);
    throw_error(env, msg);
    return 0;
  }
  return 1;
}

napi_value throw_error(napi_env env, const char *msg) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, NULL, msg);
  return NULL;
}

napi_value make_undefined(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

napi_value make_int(napi_env env, int64_t v) {
  napi_value r;
  napi_create_int64(env, v, &r);
  return r;
}

void *arg_typed(args_t *a, size_t i, size_t *len, napi_typedarray_type *type) {
  bool is_ta = false;
  if (i >= a->argc || napi_is_typedarray(a->env, a->argv[i], &is_ta) != napi_ok || !is_ta) {
    char msg[96];
    snprintf(msg, sizeof msg, "peft_native: argument %zu must be a typed array", i);
    throw_error(a->env, msg);
    return NULL;
  }
  size_t n = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(a->env, a->argv[i], type, &n, &data, NULL, NULL) != napi_ok) {
    throw_error(a->env, "peft_native: cannot read a typed array");
    return NULL;
  }
  if (len) *len = n;
  /* An empty typed array may have a NULL data pointer; callers index nothing then. */
  static float empty_sentinel[1];
  return data ? data : (void *)empty_sentinel;
}

static void *arg_typed_as(args_t *a, size_t i, size_t *len, napi_typedarray_type want, const char *what) {
  napi_typedarray_type t;
  void *p = arg_typed(a, i, len, &t);
  if (!p) return NULL;
  if (t != want) {
    char msg[80];
    snprintf(msg, sizeof msg, "peft_native: argument %zu must be a %s", i, what);
    throw_error(a->env, msg);
    return NULL;
  }
  return p;
}

float *arg_f32(args_t *a, size_t i, size_t *len) {
  return (float *)arg_typed_as(a, i, len, napi_float32_array, "Float32Array");
}

int32_t *arg_i32(args_t *a, size_t i, size_t *len) {
  return (int32_t *)arg_typed_as(a, i, len, napi_int32_array, "Int32Array");
}

uint8_t *arg_u8(args_t *a, size_t i, size_t *len) {
  return (uint8_t *)arg_typed_as(a, i, len, napi_uint8_array, "Uint8Array");
}

float *arg_f32_or_null(args_t *a, size_t i, size_t *len, int *ok) {
  napi_valuetype t = napi_undefined;
  *ok = 1;
  if (i >= a->argc) return NULL;
  napi_typeof(a->env, a->argv[i], &t);
  if (t == napi_null || t == napi_undefined) {
    if (len) *len = 0;
    return NULL;
  }
  float *p = arg_f32(a, i, len);
  if (!p) *ok = 0;
  return p;
}

double arg_num(args_t *a, size_t i) {
  double v = 0;
  if (i < a->argc) napi_get_value_double(a->env, a->argv[i], &v);
  return v;
}

int64_t arg_int(args_t *a, size_t i) {
  int64_t v = 0;
  if (i < a->argc) napi_get_value_int64(a->env, a->argv[i], &v);
  return v;
}

int arg_ints(args_t *a, size_t i, int64_t *out, int max) {
  bool is_arr = false;
  if (i >= a->argc || napi_is_array(a->env, a->argv[i], &is_arr) != napi_ok || !is_arr) {
    throw_error(a->env, "peft_native: expected an array of integers");
    return -1;
  }
  uint32_t n = 0;
  napi_get_array_length(a->env, a->argv[i], &n);
  if ((int)n > max) {
    throw_error(a->env, "peft_native: shape has too many dimensions");
    return -1;
  }
  for (uint32_t k = 0; k < n; k++) {
    napi_value e;
    napi_get_element(a->env, a->argv[i], k, &e);
    napi_get_value_int64(a->env, e, &out[k]);
  }
  return (int)n;
}

/* Threads of the addon's own loops. With an OpenMP OpenBLAS they share its pool and run
 * on all its threads; with a pthread OpenBLAS they stay on one thread, so that only one pool
 * is ever busy (OpenBLAS's pthreads spin for a while after each product; an OpenMP team
 * beside them would fight them for the cores). */
static int g_threads = 1;

int peft_threads(void) { return g_threads; }

static int blas_is_openmp(void) { return openblas_get_parallel() == 2; }

void peft_set_threads(int n) {
  if (n < 1) n = 1;
  openblas_set_num_threads(n);
  g_threads = blas_is_openmp() ? n : 1;
#ifdef _OPENMP
  omp_set_num_threads(g_threads);
#endif
}

static napi_value fn_blas_info(napi_env env, napi_callback_info info) {
  (void)info;
  char buf[512];
  const char *cfg = openblas_get_config();
  const char *core = openblas_get_corename();
  snprintf(buf, sizeof buf, "%s (core %s, %s threading, %d threads)", cfg ? cfg : "OpenBLAS", core ? core : "?",
           openblas_get_parallel() == 2 ? "OpenMP" : openblas_get_parallel() == 1 ? "pthread" : "no",
           openblas_get_num_threads());
  napi_value s;
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &s);
  return s;
}

/* The threads the heavy work (the products) runs on: OpenBLAS's. */
static napi_value fn_num_threads(napi_env env, napi_callback_info info) {
  (void)info;
  const int blas = openblas_get_num_threads();
  return make_int(env, blas < 1 ? 1 : blas);
}

static napi_value fn_set_num_threads(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 1)) return NULL;
  peft_set_threads((int)arg_int(&a, 0));
  return make_undefined(env);
}

static napi_value init(napi_env env, napi_value exports) {
  /* OpenBLAS's own default: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS or the number of cores. */
  const int n = openblas_get_num_threads();
  g_threads = blas_is_openmp() ? (n < 1 ? 1 : n) : 1;
#ifdef _OPENMP
  omp_set_num_threads(g_threads);
#endif
  const napi_property_descriptor props[] = {
      {"blasInfo", NULL, fn_blas_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"numThreads", NULL, fn_num_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setNumThreads", NULL, fn_set_num_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"matmul", NULL, fn_matmul, NULL, NULL, NULL, napi_enumerable, NULL},
      {"binary", NULL, fn_binary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unary", NULL, fn_unary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reduce", NULL, fn_reduce, NULL, NULL, NULL, napi_enumerable, NULL},
      {"softmax", NULL, fn_softmax, NULL, NULL, NULL, napi_enumerable, NULL},
      {"transpose", NULL, fn_transpose, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gather", NULL, fn_gather, NULL, NULL, NULL, napi_enumerable, NULL},
      {"segmentSum", NULL, fn_segment_sum, NULL, NULL, NULL, napi_enumerable, NULL},
      {"select", NULL, fn_select, NULL, NULL, NULL, napi_enumerable, NULL},
      {"compare", NULL, fn_compare, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tile", NULL, fn_tile, NULL, NULL, NULL, napi_enumerable, NULL},
      {"slice", NULL, fn_slice, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pad", NULL, fn_pad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gelu", NULL, fn_gelu, NULL, NULL, NULL, napi_enumerable, NULL},
      {"geluGrad", NULL, fn_gelu_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"layerNorm", NULL, fn_layer_norm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"layerNormGrad", NULL, fn_layer_norm_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rmsNorm", NULL, fn_rms_norm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rmsNormGrad", NULL, fn_rms_norm_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"swiglu", NULL, fn_swiglu, NULL, NULL, NULL, napi_enumerable, NULL},
      {"swigluGrad", NULL, fn_swiglu_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"crossEntropy", NULL, fn_cross_entropy, NULL, NULL, NULL, napi_enumerable, NULL},
      {"crossEntropyGrad", NULL, fn_cross_entropy_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"attention", NULL, fn_attention, NULL, NULL, NULL, napi_enumerable, NULL},
      {"attentionGrad", NULL, fn_attention_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"loraLinear", NULL, fn_lora_linear, NULL, NULL, NULL, napi_enumerable, NULL},
      {"loraGrad", NULL, fn_lora_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adam", NULL, fn_adam, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sumSquares", NULL, fn_sum_squares, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
