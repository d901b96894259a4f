/* Elementwise binary operations with numpy broadcasting, float32 in and out (`binary`), or
 * a comparison giving a bool (Uint8Array) output (`compare`).
 *
 * binary(op, a, shapeA, b, shapeB, out)   op: see enum below
 * compare(op, a, shapeA, b, shapeB, out)  op: 0 equal, 1 not equal, 2 less, 3 less-equal,
 *                                          4 greater, 5 greater-equal */
#include "broadcast.h"

#include <math.h>

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MAX, OP_MIN, OP_SQDIFF, OP_POW, OP_PRELU, OP_COUNT };

int bcast_init(bcast_t *bc, const int64_t *sa, int ra, const int64_t *sb, int rb) {
  const int r = ra > rb ? ra : rb;
  long dims[MAX_RANK], stA[MAX_RANK], stB[MAX_RANK];
  long accA = 1, accB = 1;
  for (int d = r - 1; d >= 0; d--) {
    const int ia = d - (r - ra), ib = d - (r - rb);
    const long da = ia >= 0 ? (long)sa[ia] : 1, db = ib >= 0 ? (long)sb[ib] : 1;
    if (da != db && da != 1 && db != 1) return 0;
    dims[d] = da > db ? da : db;
    if (da == 0 || db == 0) dims[d] = 0;
    stA[d] = da == 1 ? 0 : accA;
    stB[d] = db == 1 ? 0 : accB;
    accA *= da;
    accB *= db;
  }
  /* Collapse: drop size-1 dims, merge neighbours whose strides stay contiguous. */
  int nd = 0;
  bc->total = 1;
  for (int d = 0; d < r; d++) {
    bc->total *= dims[d];
    if (dims[d] == 1) continue;
    if (nd > 0) {
      const int p = nd - 1;
      const int merge_a = bc->sa[p] == stA[d] * dims[d];
      const int merge_b = bc->sb[p] == stB[d] * dims[d];
      if (merge_a && merge_b) {
        bc->dims[p] *= dims[d];
        bc->sa[p] = stA[d];
        bc->sb[p] = stB[d];
        continue;
      }
    }
    bc->dims[nd] = dims[d];
    bc->sa[nd] = stA[d];
    bc->sb[nd] = stB[d];
    nd++;
  }
  if (nd == 0) {
    bc->dims[0] = 1;
    bc->sa[0] = 0;
    bc->sb[0] = 0;
    nd = 1;
  }
  bc->nd = nd;
  return 1;
}

/* The inner loop, specialised on the operands' inner strides so it vectorises. */
#define INNER(EXPR)                                                              \
  if (ia == 1 && ib == 1) {                                                      \
    for (long j = 0; j < len; j++) { const float x = pa[j], y = pb[j]; o[j] = (EXPR); } \
  } else if (ia == 1) {                                                          \
    const float y = pb[0];                                                       \
    for (long j = 0; j < len; j++) { const float x = pa[j]; o[j] = (EXPR); }      \
  } else if (ib == 1) {                                                          \
    const float x = pa[0];                                                       \
    for (long j = 0; j < len; j++) { const float y = pb[j]; o[j] = (EXPR); }      \
  } else {                                                                       \
    const float x = pa[0], y = pb[0];                                            \
    const float v = (EXPR);                                                      \
    for (long j = 0; j < len; j++) o[j] = v;                                     \
  }

static void binary_span(int op, const float *pa, long ia, const float *pb, long ib, float *o, long len) {
  switch (op) {
    case OP_ADD: INNER(x + y); break;
    case OP_SUB: INNER(x - y); break;
    case OP_MUL: INNER(x * y); break;
    case OP_DIV: INNER(x / y); break;
    case OP_MAX: INNER(isnan(x) || isnan(y) ? NAN : (x > y ? x : y)); break;
    case OP_MIN: INNER(isnan(x) || isnan(y) ? NAN : (x < y ? x : y)); break;
    case OP_SQDIFF: INNER((x - y) * (x - y)); break;
    case OP_POW: INNER(powf(x, y)); break;
    case OP_PRELU: INNER(x < 0 ? y * x : x); break;
    default: break;
  }
}

#define INNER_U8(EXPR)                                                           \
  for (long j = 0; j < len; j++) {                                               \
    const float x = pa[j * ia], y = pb[j * ib];                                  \
    o[j] = (uint8_t)(EXPR);                                                      \
  }

static void compare_span(int op, const float *pa, long ia, const float *pb, long ib, uint8_t *o, long len) {
  switch (op) {
    case 0: INNER_U8(x == y); break;
    case 1: INNER_U8(x != y); break;
    case 2: INNER_U8(x < y); break;
    case 3: INNER_U8(x <= y); break;
    case 4: INNER_U8(x > y); break;
    case 5: INNER_U8(x >= y); break;
    default: break;
  }
}

/* Runs `span` over output range [start, end), walking rows of the collapsed shape. */
static void run_range(const bcast_t *bc, int op, const float *A, const float *B, void *out, int u8, long start,
                      long end) {
  const long inner = bc->dims[bc->nd - 1];
  const long ia = bc->sa[bc->nd - 1], ib = bc->sb[bc->nd - 1];
  long pos = start;
  while (pos < end) {
    const long row = pos / inner, col = pos % inner;
    long oa, ob;
    bcast_row_offsets(bc, row, &oa, &ob);
    long len = inner - col;
    if (len > end - pos) len = end - pos;
    const float *pa = A + oa + col * ia, *pb = B + ob + col * ib;
    if (u8) compare_span(op, pa, ia, pb, ib, (uint8_t *)out + pos, len);
    else binary_span(op, pa, ia, pb, ib, (float *)out + pos, len);
    pos += len;
  }
}

static napi_value binary_common(napi_env env, napi_callback_info info, int u8) {
  args_t a;
  if (!args_get(env, info, &a, 6)) return NULL;
  const int op = (int)arg_int(&a, 0);
  if (op < 0 || op >= (u8 ? 6 : OP_COUNT)) return throw_error(env, "binary: unknown op");
  size_t la, lb, lo;
  int64_t sa[MAX_RANK], sb[MAX_RANK];
  const float *A = arg_f32(&a, 1, &la);
  if (!A) return NULL;
  const int ra = arg_ints(&a, 2, sa, MAX_RANK);
  if (ra < 0) return NULL;
  const float *B = arg_f32(&a, 3, &lb);
  if (!B) return NULL;
  const int rb = arg_ints(&a, 4, sb, MAX_RANK);
  if (rb < 0) return NULL;
  void *out = u8 ? (void *)arg_u8(&a, 5, &lo) : (void *)arg_f32(&a, 5, &lo);
  if (!out) return NULL;
  bcast_t bc;
  if (!bcast_init(&bc, sa, ra, sb, rb)) return throw_error(env, "binary: shapes do not broadcast");
  long na = 1, nb = 1;
  for (int d = 0; d < ra; d++) na *= (long)sa[d];
  for (int d = 0; d < rb; d++) nb *= (long)sb[d];
  if ((size_t)na > la || (size_t)nb > lb || (size_t)bc.total > lo) return throw_error(env, "binary: buffer too small");
  const long total = bc.total;
  if (total == 0) return make_undefined(env);
  const int nt = total >= PAR_MIN ? peft_threads() : 1;
  if (nt <= 1) {
    run_range(&bc, op, A, B, out, u8, 0, total);
  } else {
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) {
      const long s = total * t / nt, e = total * (t + 1) / nt;
      run_range(&bc, op, A, B, out, u8, s, e);
    }
  }
  return make_undefined(env);
}

napi_value fn_binary(napi_env env, napi_callback_info info) { return binary_common(env, info, 0); }

napi_value fn_compare(napi_env env, napi_callback_info info) { return binary_common(env, info, 1); }
