/* Shared helpers of the peft_native addon: argument parsing for N-API (plain C) and the
 * declarations of every kernel file. Float32 tensors arrive as Float32Arrays and are read
 * and written in place (no copies); shapes arrive as JS arrays of numbers. */
#ifndef PEFT_NATIVE_COMMON_H
#define PEFT_NATIVE_COMMON_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_RANK 8
#define MAX_ARGS 16

/* Below this many elements a kernel stays on one thread (threads cost ~µs to wake). */
#define PAR_MIN 32768

typedef struct {
  napi_env env;
  size_t argc;
  napi_value argv[MAX_ARGS];
} args_t;

/* Reads the call's arguments; returns 0 and throws when fewer than `need`. */
int args_get(napi_env env, napi_callback_info info, args_t *a, size_t need);

/* Typed-array arguments: pointer to the first element and the element count. Throw and
 * return NULL when the argument is not of that type. `*_or_null` accept null/undefined. */
float *arg_f32(args_t *a, size_t i, size_t *len);
float *arg_f32_or_null(args_t *a, size_t i, size_t *len, int *ok);
int32_t *arg_i32(args_t *a, size_t i, size_t *len);
uint8_t *arg_u8(args_t *a, size_t i, size_t *len);
/* Any typed array: its data pointer, element count and napi type. */
void *arg_typed(args_t *a, size_t i, size_t *len, napi_typedarray_type *type);

double arg_num(args_t *a, size_t i);
int64_t arg_int(args_t *a, size_t i);
/* A JS array of integers into out[0..max); returns its length or -1 (and throws). */
int arg_ints(args_t *a, size_t i, int64_t *out, int max);

napi_value throw_error(napi_env env, const char *msg);
napi_value make_undefined(napi_env env);
napi_value make_int(napi_env env, int64_t v);

/* Number of threads the elementwise kernels use (follows the BLAS setting). */
int peft_threads(void);
void peft_set_threads(int n);

/* Every exported function. */
napi_value fn_matmul(napi_env env, napi_callback_info info);
napi_value fn_binary(napi_env env, napi_callback_info info);
napi_value fn_unary(napi_env env, napi_callback_info info);
napi_value fn_reduce(napi_env env, napi_callback_info info);
napi_value fn_softmax(napi_env env, napi_callback_info info);
napi_value fn_transpose(napi_env env, napi_callback_info info);
napi_value fn_gather(napi_env env, napi_callback_info info);
napi_value fn_segment_sum(napi_env env, napi_callback_info info);
napi_value fn_select(napi_env env, napi_callback_info info);
napi_value fn_compare(napi_env env, napi_callback_info info);
napi_value fn_tile(napi_env env, napi_callback_info info);
napi_value fn_slice(napi_env env, napi_callback_info info);
napi_value fn_pad(napi_env env, napi_callback_info info);
napi_value fn_gelu(napi_env env, napi_callback_info info);
napi_value fn_gelu_grad(napi_env env, napi_callback_info info);
napi_value fn_layer_norm(napi_env env, napi_callback_info info);
napi_value fn_layer_norm_grad(napi_env env, napi_callback_info info);
napi_value fn_rms_norm(napi_env env, napi_callback_info info);
napi_value fn_rms_norm_grad(napi_env env, napi_callback_info info);
napi_value fn_swiglu(napi_env env, napi_callback_info info);
napi_value fn_cross_entropy(napi_env env, napi_callback_info info);
napi_value fn_cross_entropy_grad(napi_env env, napi_callback_info info);
napi_value fn_swiglu_grad(napi_env env, napi_callback_info info);
napi_value fn_attention(napi_env env, napi_callback_info info);
napi_value fn_attention_grad(napi_env env, napi_callback_info info);
napi_value fn_lora_linear(napi_env env, napi_callback_info info);
napi_value fn_lora_grad(napi_env env, napi_callback_info info);
napi_value fn_adam(napi_env env, napi_callback_info info);
napi_value fn_sum_squares(napi_env env, napi_callback_info info);

/* Used across files. */
void transpose_f32(const float *x, float *y, int rank, const int64_t *shape, const int64_t *perm);
/* y[i] = expf / tanhf / erff (x[i]) with libmvec's vector variants when present (x == y allowed). */
void vexpf(const float *x, float *y, long n);
void vtanhf(const float *x, float *y, long n);
void verff(const float *x, float *y, long n);

#endif
