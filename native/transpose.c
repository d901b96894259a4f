/* General transpose, float32 (int32 too: same width, the caller passes views).
 * Dimensions of size 1 are dropped and input dimensions that stay adjacent are merged; then
 *  - if the last dimension stays last, whole rows are copied;
 *  - a (batched) 2-D swap is done in cache blocks;
 *  - anything else walks the output with an odometer.
 *
 * transpose(x, out, shape, perm) */
#include "common.h"

#include <string.h>

#define TILE 32

/* Rows [i0s, i1s) of x ([rows, cols]) into y ([cols, rows]), in TILE×TILE blocks. */
static void swap2d_rows(const float *x, float *y, long rows, long cols, long i0s, long i1s) {
  for (long i0 = i0s; i0 < i1s; i0 += TILE)
    for (long j0 = 0; j0 < cols; j0 += TILE) {
      const long i1 = i0 + TILE < i1s ? i0 + TILE : i1s, j1 = j0 + TILE < cols ? j0 + TILE : cols;
      for (long j = j0; j < j1; j++)
        for (long i = i0; i < i1; i++) y[j * rows + i] = x[i * cols + j];
    }
}

void transpose_f32(const float *x, float *y, int rank, const int64_t *shape, const int64_t *perm) {
  /* collapse */
  long dims[MAX_RANK];
  int keep[MAX_RANK], newidx[MAX_RANK];
  int nd = 0;
  long total = 1;
  for (int d = 0; d < rank; d++) {
    total *= (long)shape[d];
    keep[d] = shape[d] != 1;
  }
  if (total == 0) return;
  /* order of kept input dims as they appear in the output */
  int order[MAX_RANK], no = 0;
  for (int k = 0; k < rank; k++)
    if (keep[perm[k]]) order[no++] = (int)perm[k];
  /* merge runs d, d+1 (next kept input dim) that are also adjacent in the output */
  int group_of[MAX_RANK];
  for (int d = 0; d < rank; d++) newidx[d] = -1;
  int prev = -1;
  for (int d = 0; d < rank; d++) {
    if (!keep[d]) continue;
    int merged = 0;
    if (prev >= 0) {
      for (int k = 0; k + 1 < no; k++)
        if (order[k] == prev && order[k + 1] == d) merged = 1;
    }
    if (merged) {
      group_of[d] = group_of[prev];
      dims[group_of[d]] *= (long)shape[d];
    } else {
      group_of[d] = nd;
      dims[nd++] = (long)shape[d];
      newidx[d] = group_of[d];
    }
    prev = d;
  }
  int cperm[MAX_RANK], np = 0;
  for (int k = 0; k < no; k++)
    if (newidx[order[k]] >= 0) cperm[np++] = newidx[order[k]];
  if (nd <= 1) {
    memcpy(y, x, sizeof(float) * (size_t)total);
    return;
  }
  long stride[MAX_RANK];
  stride[nd - 1] = 1;
  for (int d = nd - 2; d >= 0; d--) stride[d] = stride[d + 1] * dims[d + 1];
  long odims[MAX_RANK], ostride_in[MAX_RANK];
  for (int k = 0; k < nd; k++) {
    odims[k] = dims[cperm[k]];
    ostride_in[k] = stride[cperm[k]];
  }
  const int nt = total >= PAR_MIN ? peft_threads() : 1;
  if (cperm[nd - 1] == nd - 1) {
    const long inner = odims[nd - 1], rows = total / inner;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (long r = 0; r < rows; r++) {
      long rem = r, off = 0;
      for (int k = nd - 2; k >= 0; k--) {
        off += (rem % odims[k]) * ostride_in[k];
        rem /= odims[k];
      }
      memcpy(y + r * inner, x + off, sizeof(float) * (size_t)inner);
    }
    return;
  }
  if ((nd == 2) || (nd == 3 && cperm[0] == 0 && cperm[1] == 2 && cperm[2] == 1)) {
    const long batch = nd == 3 ? dims[0] : 1, rows = dims[nd - 2], cols = dims[nd - 1];
    const long blocks = (rows + TILE - 1) / TILE;
    /* one work item per (matrix, block of TILE rows) */
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (long w = 0; w < batch * blocks; w++) {
      const long b = w / blocks, i0 = (w % blocks) * TILE, i1 = i0 + TILE < rows ? i0 + TILE : rows;
      swap2d_rows(x + b * rows * cols, y + b * rows * cols, rows, cols, i0, i1);
    }
    return;
  }
  const long inner = odims[nd - 1], rows = total / inner, istep = ostride_in[nd - 1];
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (long r = 0; r < rows; r++) {
    long rem = r, off = 0;
    for (int k = nd - 2; k >= 0; k--) {
      off += (rem % odims[k]) * ostride_in[k];
      rem /= odims[k];
    }
    float *dst = y + r * inner;
    for (long j = 0; j < inner; j++) dst[j] = x[off + j * istep];
  }
}

napi_value fn_transpose(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 4)) return NULL;
  size_t lx, lo;
  napi_typedarray_type tx, to;
  const void *x = arg_typed(&a, 0, &lx, &tx);
  if (!x) return NULL;
  void *out = arg_typed(&a, 1, &lo, &to);
  if (!out) return NULL;
  if (!((tx == napi_float32_array || tx == napi_int32_array) && to == tx))
    return throw_error(env, "transpose: float32 or int32 arrays of the same type expected");
  int64_t shape[MAX_RANK], perm[MAX_RANK];
  const int rank = arg_ints(&a, 2, shape, MAX_RANK);
  if (rank < 0) return NULL;
  if (arg_ints(&a, 3, perm, MAX_RANK) != rank) return throw_error(env, "transpose: perm and shape differ in rank");
  long total = 1;
  int seen[MAX_RANK] = {0};
  for (int d = 0; d < rank; d++) {
    total *= (long)shape[d];
    if (perm[d] < 0 || perm[d] >= rank || seen[perm[d]]++) return throw_error(env, "transpose: bad perm");
  }
  if ((size_t)total > lx || (size_t)total > lo) return throw_error(env, "transpose: buffer too small");
  transpose_f32((const float *)x, (float *)out, rank, shape, perm);
  return make_undefined(env);
}
