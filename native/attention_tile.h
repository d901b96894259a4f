/* The tile primitives of native/attention.c: ROWS query rows of one head against a span of
 * 16-key blocks of a (batch, kv head)'s transposed keys or values, kT/vT [d][S16]. Each key block
 * is loaded once per tile and the products over the head dimension accumulate in registers (GCC
 * vector extension: one zmm or two ymm per 16 keys). The four rows are written out by hand: the
 * accumulators must be four named registers, not an array the compiler may keep in memory. */
#ifndef PEFT_ATTENTION_TILE_H
#define PEFT_ATTENTION_TILE_H

#define LANES 16
#define ROWS 4

/* 16 floats (GCC vector extension; two ymm or one zmm), loaded and stored unaligned. */
typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));
static inline v16 ld(const float *p) { return *(const v16u *)p; }
static inline void st(float *p, v16 v) { *(v16u *)p = v; }
/* The sum of the 16 lanes, as a tree of adds. */
static inline float hsum(v16 v) {
  float h8[8], h4[4];
  for (int l = 0; l < 8; l++) h8[l] = v[l] + v[l + 8];
  for (int l = 0; l < 4; l++) h4[l] = h8[l] + h8[l + 4];
  return (h4[0] + h4[2]) + (h4[1] + h4[3]);
}

/* A call's shapes (S16: S rounded up to 16), scale, additive mask and rotary tables. */
typedef struct {
  long B, T, S, S16, H, Hkv, d, rep;
  float scale;
  const float *mask;
  long mB, mT;
  const float *cos, *sin;
} att_t;

typedef int v16i __attribute__((vector_size(64)));

/* exp(x) for x ≤ 0, with lanes at or below floor (−inf included) exactly 0: the range a softmax
 * shifted by its row max needs, so no range checks (libmvec's expf, which checks, cost a third of
 * the forward). exp(x) = 2ⁿ·exp(f), n = round(x·log2 e), f = x − n·ln 2 in two parts (Cody–Waite)
 * and exp(f) by Cephes' degree-5 polynomial on |f| ≤ ln2/2 (about 1 ulp). */
static inline v16 exp16_floor(v16 x, float floor) {
  const v16i dead = x <= floor;
  x = (v16)(((v16i)x & ~dead) | ((v16i)(x - x + floor) & dead)); /* out-of-range lanes → floor */
  const v16 n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
  v16 f = x - n * 0.693359375f;
  f = f - n * -2.12194440e-4f;
  v16 y = f * 1.9875691500e-4f + 1.3981999507e-3f;
  y = y * f + 8.3334519073e-3f;
  y = y * f + 4.1665795894e-2f;
  y = y * f + 1.6666665459e-1f;
  y = y * f + 5.0000001201e-1f;
  y = y * (f * f) + f + 1.0f;
  const v16i e = (__builtin_convertvector(n, v16i) + 127) << 23;
  return (v16)((v16i)(y * (v16)e) & ~dead);
}

_Static_assert(ROWS == 4, "the tile functions below are written for four rows");

/* s_r[A..Z) = mul·(q_r·xT_j) for a tile's ROWS rows (q [ROWS][d], s [ROWS][S16]). */
static void tile_products(const att_t *p, const float *q, const float *kT, long A, long Z, float mul, float *s) {
  const long S16 = p->S16, d = p->d;
  const float *q0 = q, *q1 = q + d, *q2 = q + 2 * d, *q3 = q + 3 * d;
  for (long jb = A; jb < Z; jb += LANES) {
    v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    for (long i = 0; i < d; i++) {
      const v16 kk = ld(kT + i * S16 + jb);
      a0 += q0[i] * kk;
      a1 += q1[i] * kk;
      a2 += q2[i] * kk;
      a3 += q3[i] * kk;
    }
    st(s + jb, a0 * mul);
    st(s + S16 + jb, a1 * mul);
    st(s + 2 * S16 + jb, a2 * mul);
    st(s + 3 * S16 + jb, a3 * mul);
  }
}

/* The scores before the mask: scale·(q_r·k_j). */
static void tile_scores(const att_t *p, const float *q, const float *kT, long A, long Z, float *s) { tile_products(p, q, kT, A, Z, p->scale, s); }

/* dP_rj = dO_r·v_j. */
static void tile_scores_raw(const att_t *p, const float *g, const float *vT, long A, long Z, float *dp) { tile_products(p, g, vT, A, Z, 1.0f, dp); }

/* o_r[i] = Σ_j p_r[j]·xT[i][j] over [A, Z) for the tile's rows, over div_r (o [ROWS][d]). */
static void tile_dot(const att_t *p, const float *P, const float *xT, long A, long Z, const float *div, float *o) {
  const long S16 = p->S16, d = p->d;
  for (long i = 0; i < d; i++) {
    const float *xc = xT + i * S16;
    v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    for (long jb = A; jb < Z; jb += LANES) {
      const v16 xx = ld(xc + jb);
      a0 += ld(P + jb) * xx;
      a1 += ld(P + S16 + jb) * xx;
      a2 += ld(P + 2 * S16 + jb) * xx;
      a3 += ld(P + 3 * S16 + jb) * xx;
    }
    o[i] = hsum(a0) / div[0];
    o[d + i] = hsum(a1) / div[1];
    o[2 * d + i] = hsum(a2) / div[2];
    o[3 * d + i] = hsum(a3) / div[3];
  }
}

/* xT[i][j] += Σ_r P_r[j]·g_r[i] over [A, Z), rows in order (g [ROWS][d]). */
static void tile_outer_add(const att_t *p, const float *P, const float *g, long A, long Z, float *xT) {
  const long S16 = p->S16, d = p->d;
  for (long i = 0; i < d; i++) {
    float *xc = xT + i * S16;
    const float g0 = g[i], g1 = g[d + i], g2 = g[2 * d + i], g3 = g[3 * d + i];
    for (long jb = A; jb < Z; jb += LANES) {
      v16 x = ld(xc + jb);
      x += ld(P + jb) * g0;
      x += ld(P + S16 + jb) * g1;
      x += ld(P + 2 * S16 + jb) * g2;
      x += ld(P + 3 * S16 + jb) * g3;
      st(xc + jb, x);
    }
  }
}

#endif
