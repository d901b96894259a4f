/* Fused scaled-dot-product attention, forward and backward, for the small heads of small models
 * (where the composite of tfjs ops is some 30 kernels forward and 45 backward per layer, each
 * dominated by its dispatch): rotary embeddings, grouped-query heads, an additive mask, softmax
 * and the value product in one pass per (batch, head). q/k/v are read, and the output and
 * gradients written, in the projections' layout [B, T, heads·d]: no head split/merge transposes.
 * A row keeps only its max and sum of exponentials; the backward recomputes the probabilities
 * from them, so memory is O(B·H·T), not O(B·H·T·S).
 *
 * Layout: a (batch, kv head)'s keys and values are held transposed, kT and vT [d][S16] (S rounded
 * up to 16, zero-padded), so every inner loop runs over keys, 16 at a time, without a scalar tail.
 * Query rows go ROWS at a time (a tile of one head): each 16-key block of kT, vT, dkT and dvT is
 * loaded once per tile rather than once per row, and the products accumulate in registers over
 * the head dimension (with d = 8 the per-row loops were load/store bound, not arithmetic bound).
 * A tile visits the union of its rows' key spans; a row's keys outside its own span get p = 0.
 *
 * Masked keys: a mask entry ≤ MASKED_BELOW (−1e8; the engine masks with −1e9, transformers with
 * the dtype's minimum) makes exp underflow to exactly 0 in the composite, so a row only visits
 * its keys from the first to the last unmasked one (right padding and causality skip most of a
 * padded batch). A row with no unmasked key is computed over all keys, as the composite does.
 * exp is the kernel's own (exp16_floor: the shifted scores are ≤ 0, so it needs no range checks,
 * and huge negatives take no slow path — the analogue of torch's −inf mask slowdown).
 *
 * attention(q, k, v, mask|null, maskDims, cos|null, sin|null, out, stats, dims, scale)
 * attentionGrad(q, k, v, mask|null, maskDims, cos|null, sin|null, stats, dout, dq, dk, dv, dims, scale)
 *   dims [B, T, S, H, Hkv, d]; q [B,T,H·d], k/v [B,S,Hkv·d]; out [B,T,H·d]; stats [B,H,T,2] (each
 *   row's max score and sum of exponentials, kept apart: m + log(sum) would lose the sum when m is
 *   huge); mask [mB,1,mT,S] additive with mB ∈ {1,B}, mT ∈ {1,T} (maskDims [mB, mT]);
 *   cos/sin [T,d] rotary tables for q and k (rotate_half convention; requires S == T). */
#include "common.h"
#include "attention_tile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MASKED_BELOW (-1e8f)
/* Lanes of exp below this are set to 0 (what they are within float32's normal range): exp never
 * sees a huge negative, and no denormal reaches the value product. */
#define EXP_FLOOR (-87.0f)

/* y = rotate(x) at table row t: x·cos + rotate_half(x)·sin (x == y not allowed). */
static void rope_fwd(const att_t *p, const float *x, float *y, long t) {
  const long d = p->d, h2 = d / 2;
  const float *c = p->cos + t * d, *s = p->sin + t * d;
  for (long i = 0; i < h2; i++) {
    y[i] = x[i] * c[i] - x[i + h2] * s[i];
    y[i + h2] = x[i + h2] * c[i + h2] + x[i] * s[i + h2];
  }
}

/* The transpose of rope_fwd: dx from dy. */
static void rope_bwd(const att_t *p, const float *g, float *dx, long t) {
  const long d = p->d, h2 = d / 2;
  const float *c = p->cos + t * d, *s = p->sin + t * d;
  for (long i = 0; i < h2; i++) {
    dx[i] = g[i] * c[i] + g[i + h2] * s[i + h2];
    dx[i + h2] = g[i + h2] * c[i + h2] - g[i] * s[i];
  }
}

static const float *mask_row(const att_t *p, long b, long t) {
  if (!p->mask) return NULL;
  return p->mask + ((p->mB == 1 ? 0 : b) * p->mT + (p->mT == 1 ? 0 : t)) * p->S;
}

/* Keys [lo, hi] a row must visit: from the first to the last unmasked one (all when none is). */
static void key_range(const att_t *p, const float *mrow, long *lo, long *hi) {
  const long S = p->S;
  *lo = 0;
  *hi = S - 1;
  if (!mrow) return;
  long a = 0, z = S - 1;
  while (a < S && mrow[a] <= MASKED_BELOW) a++;
  if (a == S) return;
  while (z > a && mrow[z] <= MASKED_BELOW) z--;
  *lo = a;
  *hi = z;
}

/* Every row's key range (rows[2·(b·T + t)] = lo, hi): the mask is shared by all heads of a row. */
static void key_ranges(const att_t *p, long *rows, int nt) {
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (long bt = 0; bt < p->B * p->T; bt++) key_range(p, mask_row(p, bt / p->T, bt % p->T), &rows[2 * bt], &rows[2 * bt + 1]);
}

/* The 16-aligned span [A, Z) around [lo, hi] (within [0, S16)). */
static void span(const att_t *p, long lo, long hi, long *A, long *Z) {
  *A = lo & ~(long)(LANES - 1);
  long z = (hi + LANES) & ~(long)(LANES - 1);
  *Z = z > p->S16 ? p->S16 : z;
}

/* A (batch, kv head)'s keys (rotated) and values, transposed: kT, vT [d][S16], zero-padded. */
static void load_kv(const att_t *p, const float *k, const float *v, long b, long g, float *kT, float *vT) {
  const long S = p->S, S16 = p->S16, d = p->d, ld = p->Hkv * d;
  float tmp[512];
  for (long j = 0; j < S; j++) {
    const float *kr = k + (b * S + j) * ld + g * d;
    const float *vr = v + (b * S + j) * ld + g * d;
    const float *kk = kr;
    if (p->cos) {
      rope_fwd(p, kr, tmp, j);
      kk = tmp;
    }
    for (long i = 0; i < d; i++) {
      kT[i * S16 + j] = kk[i];
      vT[i * S16 + j] = vr[i];
    }
  }
  for (long i = 0; i < d; i++)
    for (long j = S; j < S16; j++) kT[i * S16 + j] = vT[i * S16 + j] = 0;
}

/* One row's scores + mask_j over [lo, hi]; lanes of [A, Z) outside it are −inf. Returns the max
 * (when asked: the backward has it). */
static float row_mask(const float *mrow, long lo, long hi, long A, long Z, float *s, int want_max) {
  /* block by block: the blocks inside [lo, hi] (most of them) without a per-lane test */
  float acc[LANES];
  for (int l = 0; l < LANES; l++) acc[l] = -INFINITY;
  for (long jb = A; jb < Z; jb += LANES) {
    float *x = s + jb;
    if (jb >= lo && jb + LANES - 1 <= hi) {
      if (mrow)
        for (int l = 0; l < LANES; l++) x[l] += mrow[jb + l];
    } else {
      for (int l = 0; l < LANES; l++) {
        const long j = jb + l;
        if (j < lo || j > hi) x[l] = -INFINITY;
        else if (mrow) x[l] += mrow[j];
      }
    }
    if (want_max)
      for (int l = 0; l < LANES; l++) acc[l] = x[l] > acc[l] ? x[l] : acc[l];
  }
  float m = -INFINITY;
  for (int l = 0; l < LANES; l++) m = acc[l] > m ? acc[l] : m;
  return m;
}

/* The tile of rows t0.. (n of them, ≤ ROWS) of head h: each row's key range and the union span. */
static int tile_rows(const att_t *p, const long *ranges, long b, long t0, long *lo, long *hi, long *A, long *Z) {
  const int n = p->T - t0 < ROWS ? (int)(p->T - t0) : ROWS;
  *A = p->S16;
  *Z = 0;
  for (int r = 0; r < n; r++) {
    long a, z;
    lo[r] = ranges[2 * (b * p->T + t0 + r)];
    hi[r] = ranges[2 * (b * p->T + t0 + r) + 1];
    span(p, lo[r], hi[r], &a, &z);
    if (a < *A) *A = a;
    if (z > *Z) *Z = z;
  }
  return n;
}

/* Row t's query (rotated) into qr [d]. */
static void load_q(const att_t *p, const float *q, long b, long h, long t, float *qr) {
  const float *q0 = q + (b * p->T + t) * p->H * p->d + h * p->d;
  if (p->cos) rope_fwd(p, q0, qr, t);
  else memcpy(qr, q0, sizeof(float) * (size_t)p->d);
}

/* s[A..Z) ← exp(s − shift)·mul, lanes at or below EXP_FLOOR (and −inf ones) 0. Returns Σ exp(s − shift). */
static float row_exp(float *s, long A, long Z, float shift, float mul) {
  v16 acc = {0};
  for (long jb = A; jb < Z; jb += LANES) {
    const v16 e = exp16_floor(ld(s + jb) - shift, EXP_FLOOR);
    acc += e;
    st(s + jb, e * mul);
  }
  return hsum(acc);
}

/* A tile's exponentiated scores, into s [ROWS][S16]: the scores, the mask and exp of each row's
 * scores shifted by its max. In the forward (kept NULL) each row's max and sum are found and
 * returned in m and sf, and s keeps the unnormalised exps; in the backward the head's kept
 * statistics (kept [T][2]: max, sum) give the probabilities. Rows past n are zero. */
static void tile_exp(const att_t *p, long b, long t0, int n, const long *lo, const long *hi, long A, long Z,
                     const float *qr, const float *kT, const float *kept, float *m, float *sf, float *s) {
  tile_scores(p, qr, kT, A, Z, s);
  for (int r = 0; r < ROWS; r++) {
    float *sr = s + r * p->S16;
    if (r >= n) {
      memset(sr + A, 0, sizeof(float) * (size_t)(Z - A));
      continue;
    }
    const float mr = row_mask(mask_row(p, b, t0 + r), lo[r], hi[r], A, Z, sr, kept == NULL);
    if (kept) row_exp(sr, A, Z, kept[2 * (t0 + r)], 1.0f / kept[2 * (t0 + r) + 1]);
    else {
      m[r] = mr;
      sf[r] = row_exp(sr, A, Z, mr, 1.0f);
    }
  }
}

/* Σ_j a[j]·b[j] over [A, Z) (a multiple of 16 long), in 16 lanes. */
static float dot16(const float *a, const float *b, long A, long Z) {
  float acc[LANES] = {0};
  for (long j = A; j < Z; j += LANES)
    for (int l = 0; l < LANES; l++) acc[l] += a[j + l] * b[j + l];
  float s = 0;
  for (int l = 0; l < LANES; l++) s += acc[l];
  return s;
}

static int check_dims(const int64_t *dm, long *out) {
  for (int i = 0; i < 6; i++) {
    if (dm[i] < 0) return 0;
    out[i] = (long)dm[i];
  }
  const long H = out[3], Hkv = out[4], d = out[5];
  return Hkv > 0 && H % Hkv == 0 && d > 0 && d <= 512 && d % 2 == 0;
}

/* Reads the arguments shared by both directions into p; returns 0 (and throws) on a mismatch. */
static int read_common(args_t *a, att_t *p, size_t di, const float **q, const float **k, const float **v) {
  size_t lq, lk, lv, lm = 0, lc = 0, ls = 0;
  int ok;
  *q = arg_f32(a, 0, &lq);
  *k = *q ? arg_f32(a, 1, &lk) : NULL;
  *v = *k ? arg_f32(a, 2, &lv) : NULL;
  if (!*v) return 0;
  p->mask = arg_f32_or_null(a, 3, &lm, &ok);
  if (!ok) return 0;
  int64_t md[2], dm[6];
  if (arg_ints(a, 4, md, 2) != 2) return 0;
  p->cos = arg_f32_or_null(a, 5, &lc, &ok);
  if (!ok) return 0;
  p->sin = arg_f32_or_null(a, 6, &ls, &ok);
  if (!ok) return 0;
  if (arg_ints(a, di, dm, 6) != 6) return 0;
  p->scale = (float)arg_num(a, di + 1);
  long D[6];
  if (!check_dims(dm, D)) {
    throw_error(a->env, "attention: bad dimensions");
    return 0;
  }
  p->B = D[0], p->T = D[1], p->S = D[2], p->H = D[3], p->Hkv = D[4], p->d = D[5];
  p->S16 = (p->S + LANES - 1) & ~(long)(LANES - 1);
  p->rep = p->H / p->Hkv;
  p->mB = (long)md[0], p->mT = (long)md[1];
  const size_t nq = (size_t)(p->B * p->T * p->H * p->d), nk = (size_t)(p->B * p->S * p->Hkv * p->d);
  if (lq < nq || lk < nk || lv < nk) {
    throw_error(a->env, "attention: q/k/v too small");
    return 0;
  }
  if (p->mask && (!(p->mB == 1 || p->mB == p->B) || !(p->mT == 1 || p->mT == p->T) || lm < (size_t)(p->mB * p->mT * p->S))) {
    throw_error(a->env, "attention: bad mask");
    return 0;
  }
  if ((p->cos == NULL) != (p->sin == NULL) || (p->cos && (p->S != p->T || lc < (size_t)(p->T * p->d) || ls < (size_t)(p->T * p->d)))) {
    throw_error(a->env, "attention: bad rotary tables");
    return 0;
  }
  return 1;
}

napi_value fn_attention(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 11)) return NULL;
  att_t p;
  const float *q, *k, *v;
  size_t lo, lst;
  if (!read_common(&a, &p, 9, &q, &k, &v)) return NULL;
  float *out = arg_f32(&a, 7, &lo);
  float *stats = out ? arg_f32(&a, 8, &lst) : NULL;
  if (!stats) return NULL;
  const long B = p.B, T = p.T, S = p.S, S16 = p.S16, H = p.H, d = p.d;
  if (lo < (size_t)(B * T * H * d) || lst < (size_t)(2 * B * H * T)) return throw_error(env, "attention: outputs too small");
  if (B * T * H == 0) return make_undefined(env);
  const long tasks = B * p.Hkv;
  const int nt = B * T * S * H * d >= PAR_MIN ? peft_threads() : 1;
  long *ranges = (long *)malloc(sizeof(long) * (size_t)(2 * B * T));
  if (!ranges) return throw_error(env, "attention: out of memory");
  key_ranges(&p, ranges, nt);
  int fail = 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    /* kT, vT [d][S16]; s [ROWS][S16]; qr, o [ROWS][d] */
    float *kT = (float *)malloc(sizeof(float) * (size_t)((2 + ROWS) * S16 * d + 2 * ROWS * d));
    float *vT = kT ? kT + S16 * d : NULL, *s = kT ? vT + S16 * d : NULL, *qr = kT ? s + ROWS * S16 : NULL, *ot = kT ? qr + ROWS * d : NULL;
    if (!kT) {
#pragma omp atomic write
      fail = 1;
    }
#pragma omp for schedule(dynamic, 1)
    for (long task = 0; task < tasks; task++) {
      if (!kT) continue;
      const long b = task / p.Hkv, g = task % p.Hkv;
      load_kv(&p, k, v, b, g, kT, vT);
      for (long h = g * p.rep; h < (g + 1) * p.rep; h++) {
        for (long t0 = 0; t0 < T; t0 += ROWS) {
          long lo[ROWS], hi[ROWS], A, Z;
          float sf[ROWS] = {1, 1, 1, 1}, m[ROWS];
          const int n = tile_rows(&p, ranges, b, t0, lo, hi, &A, &Z);
          for (int r = 0; r < ROWS; r++) {
            if (r < n) load_q(&p, q, b, h, t0 + r, qr + r * d);
            else memset(qr + r * d, 0, sizeof(float) * (size_t)d);
          }
          tile_exp(&p, b, t0, n, lo, hi, A, Z, qr, kT, NULL, m, sf, s);
          tile_dot(&p, s, vT, A, Z, sf, ot);
          for (int r = 0; r < n; r++) {
            const long t = t0 + r;
            memcpy(out + (b * T + t) * H * d + h * d, ot + r * d, sizeof(float) * (size_t)d);
            stats[2 * ((b * H + h) * T + t)] = m[r];
            stats[2 * ((b * H + h) * T + t) + 1] = sf[r];
          }
        }
      }
    }
    free(kT);
  }
  free(ranges);
  if (fail) return throw_error(env, "attention: out of memory");
  return make_undefined(env);
}

napi_value fn_attention_grad(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 14)) return NULL;
  att_t p;
  const float *q, *k, *v;
  size_t lst, ldo, ldq, ldk, ldv;
  if (!read_common(&a, &p, 12, &q, &k, &v)) return NULL;
  const float *stats = arg_f32(&a, 7, &lst);
  const float *dout = stats ? arg_f32(&a, 8, &ldo) : NULL;
  float *dq = dout ? arg_f32(&a, 9, &ldq) : NULL;
  float *dk = dq ? arg_f32(&a, 10, &ldk) : NULL;
  float *dv = dk ? arg_f32(&a, 11, &ldv) : NULL;
  if (!dv) return NULL;
  const long B = p.B, T = p.T, S = p.S, S16 = p.S16, H = p.H, Hkv = p.Hkv, d = p.d;
  const size_t nq = (size_t)(B * T * H * d), nk = (size_t)(B * S * Hkv * d);
  if (lst < (size_t)(2 * B * H * T) || ldo < nq || ldq < nq || ldk < nk || ldv < nk) return throw_error(env, "attentionGrad: bad sizes");
  if (B * T * H == 0) {
    memset(dq, 0, sizeof(float) * nq);
    memset(dk, 0, sizeof(float) * nk);
    memset(dv, 0, sizeof(float) * nk);
    return make_undefined(env);
  }
  const long tasks = B * Hkv;
  const int nt = B * T * S * H * d >= PAR_MIN ? peft_threads() : 1;
  long *ranges = (long *)malloc(sizeof(long) * (size_t)(2 * B * T));
  if (!ranges) return throw_error(env, "attentionGrad: out of memory");
  key_ranges(&p, ranges, nt);
  int fail = 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    /* kT, vT, dkT, dvT [d][S16]; s, dp [ROWS][S16]; qr, gor, dqr [ROWS][d]; gr, tmp [d] */
    float *kT = (float *)malloc(sizeof(float) * (size_t)(4 * S16 * d + 2 * ROWS * S16 + 3 * ROWS * d + 2 * d));
    float *vT = kT ? kT + S16 * d : NULL, *dkT = kT ? vT + S16 * d : NULL, *dvT = kT ? dkT + S16 * d : NULL;
    float *s = kT ? dvT + S16 * d : NULL, *dp = kT ? s + ROWS * S16 : NULL, *qr = kT ? dp + ROWS * S16 : NULL;
    float *gor = kT ? qr + ROWS * d : NULL, *dqr = kT ? gor + ROWS * d : NULL;
    float *gr = kT ? dqr + ROWS * d : NULL, *tmp = kT ? gr + d : NULL;
    if (!kT) {
#pragma omp atomic write
      fail = 1;
    }
    const float one[ROWS] = {1, 1, 1, 1};
#pragma omp for schedule(dynamic, 1)
    for (long task = 0; task < tasks; task++) {
      if (!kT) continue;
      const long b = task / Hkv, g = task % Hkv;
      load_kv(&p, k, v, b, g, kT, vT);
      memset(dkT, 0, sizeof(float) * (size_t)(S16 * d));
      memset(dvT, 0, sizeof(float) * (size_t)(S16 * d));
      for (long h = g * p.rep; h < (g + 1) * p.rep; h++) {
        for (long t0 = 0; t0 < T; t0 += ROWS) {
          long lo[ROWS], hi[ROWS], A, Z;
          const int n = tile_rows(&p, ranges, b, t0, lo, hi, &A, &Z);
          for (int r = 0; r < ROWS; r++) {
            if (r < n) {
              load_q(&p, q, b, h, t0 + r, qr + r * d);
              memcpy(gor + r * d, dout + (b * T + t0 + r) * H * d + h * d, sizeof(float) * (size_t)d);
            } else {
              memset(qr + r * d, 0, sizeof(float) * (size_t)d);
              memset(gor + r * d, 0, sizeof(float) * (size_t)d);
            }
          }
          /* P (into s) from the kept row statistics */
          tile_exp(&p, b, t0, n, lo, hi, A, Z, qr, kT, stats + 2 * (b * H + h) * T, NULL, NULL, s);
          /* dP_j = dO·v_j (into dp); D = Σ p_j·dP_j; dS_j = p_j·(dP_j − D)·scale */
          tile_scores_raw(&p, gor, vT, A, Z, dp);
          for (int r = 0; r < ROWS; r++) {
            float *sr = s + r * S16, *dr = dp + r * S16;
            const float D = dot16(sr, dr, A, Z);
            for (long j = A; j < Z; j++) dr[j] = sr[j] * (dr[j] - D) * p.scale;
          }
          /* dv_j += Σ_r p_rj·dO_r; dk_j += Σ_r dS_rj·q_r; dq_r = Σ_j dS_rj·k_j */
          tile_outer_add(&p, s, gor, A, Z, dvT);
          tile_outer_add(&p, dp, qr, A, Z, dkT);
          tile_dot(&p, dp, kT, A, Z, one, dqr);
          for (int r = 0; r < n; r++) {
            const long t = t0 + r;
            float *dq0 = dq + (b * T + t) * H * d + h * d;
            if (p.cos) rope_bwd(&p, dqr + r * d, dq0, t);
            else memcpy(dq0, dqr + r * d, sizeof(float) * (size_t)d);
          }
        }
      }
      /* back to the [B, S, Hkv·d] layout (and through the rotary for keys) */
      for (long j = 0; j < S; j++) {
        for (long i = 0; i < d; i++) {
          gr[i] = dkT[i * S16 + j];
          tmp[i] = dvT[i * S16 + j];
        }
        float *dk0 = dk + (b * S + j) * Hkv * d + g * d;
        if (p.cos) rope_bwd(&p, gr, dk0, j);
        else memcpy(dk0, gr, sizeof(float) * (size_t)d);
        memcpy(dv + (b * S + j) * Hkv * d + g * d, tmp, sizeof(float) * (size_t)d);
      }
    }
    free(kT);
  }
  free(ranges);
  if (fail) return throw_error(env, "attentionGrad: out of memory");
  return make_undefined(env);
}
