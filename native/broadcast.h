/* Broadcasting of two operands against an output shape, with dimensions collapsed so the
 * innermost loop is as long as possible and each operand's inner stride is 0 or 1. */
#ifndef PEFT_NATIVE_BROADCAST_H
#define PEFT_NATIVE_BROADCAST_H

#include "common.h"

typedef struct {
  int nd;                 /* collapsed rank, >= 1 */
  long dims[MAX_RANK];    /* collapsed output dims */
  long sa[MAX_RANK];      /* element strides of operand a (0 where broadcast) */
  long sb[MAX_RANK];
  long total;             /* output elements */
} bcast_t;

/* Fills `bc` from the shapes (right-aligned, numpy rules). Returns 0 when incompatible. */
int bcast_init(bcast_t *bc, const int64_t *sa, int ra, const int64_t *sb, int rb);

/* Offsets of a and b for the output row `row` (index over all dims but the last). */
static inline void bcast_row_offsets(const bcast_t *bc, long row, long *oa, long *ob) {
  long a = 0, b = 0;
  for (int d = bc->nd - 2; d >= 0; d--) {
    const long i = row % bc->dims[d];
    row /= bc->dims[d];
    a += i * bc->sa[d];
    b += i * bc->sb[d];
  }
  *oa = a;
  *ob = b;
}

#endif
