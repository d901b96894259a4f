/* Fused scaled-dot-product attention, forward and backward, for the small heads of small models
 * (where the composite of tfjs ops is some 30 kernels forward and 45 backward per layer, each
 * dominated by its dispatch): rotary embeddings, grouped-query heads, an additive mask, softmax
 * and the value product in one pass per (batch, head). q/k/v are read, and the output and
 * gradients written, in the projections' layout [B, T, heads·d]: no head split/merge transposes.
 * A row keeps only its max and sum of exponentials; the backward recomputes the probabilities
 * from them, so memory is O(B·H·T), not O(B·H·T·S).
 *
 * Masked keys: a mask entry ≤ MASKED_BELOW (−1e8; the engine masks with −1e9, transformers with
 * the dtype's minimum) makes exp underflow to exactly 0 in the composite, so a row only visits
 * its keys from the first to the last unmasked one (right padding and causality skip most of a
 * padded batch). A row with no unmasked key is computed over all keys, as the composite does.
 * exp never sees those huge negatives either (libmvec's vector expf takes a scalar slow path on
 * out-of-range lanes: the analogue of torch's −inf mask slowdown).
 *
 * attention(q, k, v, mask|null, maskDims, cos|null, sin|null, out, stats, dims, scale)
 * attentionGrad(q, k, v, mask|null, maskDims, cos|null, sin|null, stats, dout, dq, dk, dv, dims, scale)
 *   dims [B, T, S, H, Hkv, d]; q [B,T,H·d], k/v [B,S,Hkv·d]; out [B,T,H·d]; stats [B,H,T,2] (each row's max
 *   score and sum of exponentials, kept apart: m + log(sum) would lose the sum when m is huge);
 *   mask [mB,1,mT,S] additive with mB ∈ {1,B}, mT ∈ {1,T} (maskDims [mB, mT]);
 *   cos/sin [T,d] rotary tables for q and k (rotate_half convention; requires S == T). */
#include "common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MASKED_BELOW (-1e8f)
/* Lanes of exp below this are set to 0 (what they are within float32's normal range): exp never
 * sees a huge negative, and no denormal reaches the value product. */
#define EXP_FLOOR (-87.0f)

typedef struct {
  long B, T, S, H, Hkv, d, rep;
  float scale;
  const float *mask;
  long mB, mT;
  const float *cos, *sin;
} att_t;

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

/* Keys of one (batch, kv head): kT [d][S] (rotated), v [S][d]; optionally k [S][d] and vT [d][S]. */
static void load_kv(const att_t *p, const float *k, const float *v, long b, long g, float *kT, float *vS, float *kS, float *vT) {
  const long S = p->S, d = p->d, ld = p->Hkv * d;
  float tmp[512];
  for (long j = 0; j < S; j++) {
    const float *kr = k + (b * S + j) * ld + g * d;
    const float *vr = v + (b * S + j) * ld + g * d;
    const float *kk = kr;
    if (p->cos) {
      rope_fwd(p, kr, tmp, j);
      kk = tmp;
    }
    for (long i = 0; i < d; i++) kT[i * S + j] = kk[i];
    if (kS) memcpy(kS + j * d, kk, sizeof(float) * (size_t)d);
    if (vS) memcpy(vS + j * d, vr, sizeof(float) * (size_t)d);
    if (vT)
      for (long i = 0; i < d; i++) vT[i * S + j] = vr[i];
  }
}

/* Scores of one query row over keys [lo, hi] into s[lo..hi] (scaled, masked), returns their max. */
static float row_scores(const att_t *p, const float *qr, const float *kT, const float *mrow, long lo, long hi, float *s) {
  const long S = p->S, d = p->d;
  for (long j = lo; j <= hi; j++) s[j] = 0;
  for (long i = 0; i < d; i++) {
    const float qi = qr[i];
    const float *kc = kT + i * S;
    for (long j = lo; j <= hi; j++) s[j] += qi * kc[j];
  }
  float m = -INFINITY;
  for (long j = lo; j <= hi; j++) {
    s[j] = s[j] * p->scale + (mrow ? mrow[j] : 0.0f);
    m = s[j] > m ? s[j] : m;
  }
  return m;
}

/* s[lo..hi] ← exp(s − shift), lanes at or below EXP_FLOOR set to 0. */
static void row_exp(float *s, long lo, long hi, float shift) {
  for (long j = lo; j <= hi; j++) {
    const float t = s[j] - shift;
    s[j] = t < EXP_FLOOR ? EXP_FLOOR : t;
  }
  vexpf(s + lo, s + lo, hi - lo + 1);
  const float floor_value = expf(EXP_FLOOR);
  for (long j = lo; j <= hi; j++)
    if (s[j] <= floor_value) s[j] = 0;
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
static int read_common(args_t *a, att_t *p, size_t di, const float **q, const float **k, const float **v, size_t *lq, size_t *lk) {
  size_t lv, lm = 0, lc = 0, ls = 0;
  int ok;
  *q = arg_f32(a, 0, lq);
  *k = *q ? arg_f32(a, 1, lk) : NULL;
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
  p->rep = p->H / p->Hkv;
  p->mB = (long)md[0], p->mT = (long)md[1];
  const size_t nq = (size_t)(p->B * p->T * p->H * p->d), nk = (size_t)(p->B * p->S * p->Hkv * p->d);
  if (*lq < nq || *lk < nk || lv < nk) {
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
  size_t lq, lk, lo, lst;
  if (!read_common(&a, &p, 9, &q, &k, &v, &lq, &lk)) return NULL;
  float *out = arg_f32(&a, 7, &lo);
  float *stats = out ? arg_f32(&a, 8, &lst) : NULL;
  if (!stats) return NULL;
  const long B = p.B, T = p.T, S = p.S, H = p.H, d = p.d;
  if (lo < (size_t)(B * T * H * d) || lst < (size_t)(2 * B * H * T)) return throw_error(env, "attention: outputs too small");
  if (B * T * H == 0) return make_undefined(env);
  const long tasks = B * p.Hkv;
  const int nt = B * T * S * H * d >= PAR_MIN ? peft_threads() : 1;
  int fail = 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    float *kT = (float *)malloc(sizeof(float) * (size_t)(2 * S * d + S + 2 * d));
    float *vS = kT ? kT + S * d : NULL, *s = kT ? vS + S * d : NULL, *qr = kT ? s + S : NULL, *acc = kT ? qr + d : NULL;
    if (!kT) {
#pragma omp atomic write
      fail = 1;
    }
#pragma omp for schedule(dynamic, 1)
    for (long task = 0; task < tasks; task++) {
      if (!kT) continue;
      const long b = task / p.Hkv, g = task % p.Hkv;
      load_kv(&p, k, v, b, g, kT, vS, NULL, NULL);
      for (long h = g * p.rep; h < (g + 1) * p.rep; h++) {
        for (long t = 0; t < T; t++) {
          const float *q0 = q + (b * T + t) * H * d + h * d;
          if (p.cos) rope_fwd(&p, q0, qr, t);
          else memcpy(qr, q0, sizeof(float) * (size_t)d);
          const float *mrow = mask_row(&p, b, t);
          long jlo, jhi;
          key_range(&p, mrow, &jlo, &jhi);
          const float m = row_scores(&p, qr, kT, mrow, jlo, jhi, s);
          row_exp(s, jlo, jhi, m);
          double sum = 0;
          for (long j = jlo; j <= jhi; j++) sum += s[j];
          const float sf = (float)sum;
          for (long i = 0; i < d; i++) acc[i] = 0;
          for (long j = jlo; j <= jhi; j++) {
            const float pj = s[j] / sf;
            const float *vr = vS + j * d;
            for (long i = 0; i < d; i++) acc[i] += pj * vr[i];
          }
          memcpy(out + (b * T + t) * H * d + h * d, acc, sizeof(float) * (size_t)d);
          stats[2 * ((b * H + h) * T + t)] = m;
          stats[2 * ((b * H + h) * T + t) + 1] = sf;
        }
      }
    }
    free(kT);
  }
  if (fail) return throw_error(env, "attention: out of memory");
  return make_undefined(env);
}

napi_value fn_attention_grad(napi_env env, napi_callback_info info) {
  args_t a;
  if (!args_get(env, info, &a, 14)) return NULL;
  att_t p;
  const float *q, *k, *v;
  size_t lq, lk, lst, ldo, ldq, ldk, ldv;
  if (!read_common(&a, &p, 12, &q, &k, &v, &lq, &lk)) return NULL;
  const float *stats = arg_f32(&a, 7, &lst);
  const float *dout = stats ? arg_f32(&a, 8, &ldo) : NULL;
  float *dq = dout ? arg_f32(&a, 9, &ldq) : NULL;
  float *dk = dq ? arg_f32(&a, 10, &ldk) : NULL;
  float *dv = dk ? arg_f32(&a, 11, &ldv) : NULL;
  if (!dv) return NULL;
  const long B = p.B, T = p.T, S = p.S, H = p.H, Hkv = p.Hkv, d = p.d;
  const size_t nq = (size_t)(B * T * H * d), nk = (size_t)(B * S * Hkv * d);
  if (lst < (size_t)(2 * B * H * T) || ldo < nq || ldq < nq || ldk < nk || ldv < nk) return throw_error(env, "attentionGrad: bad sizes");
  memset(dk, 0, sizeof(float) * nk);
  memset(dv, 0, sizeof(float) * nk);
  if (B * T * H == 0) {
    memset(dq, 0, sizeof(float) * nq);
    return make_undefined(env);
  }
  const long tasks = B * Hkv;
  const int nt = B * T * S * H * d >= PAR_MIN ? peft_threads() : 1;
  int fail = 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    /* kT, kS, vT, dkT, dvT: [d][S] or [S][d]; s, dp: [S]; qr, dqr, gr, tmp: [d] */
    float *kT = (float *)malloc(sizeof(float) * (size_t)(5 * S * d + 2 * S + 4 * d));
    float *kS = kT ? kT + S * d : NULL, *vT = kT ? kS + S * d : NULL, *dkT = kT ? vT + S * d : NULL, *dvT = kT ? dkT + S * d : NULL;
    float *s = kT ? dvT + S * d : NULL, *dp = kT ? s + S : NULL, *qr = kT ? dp + S : NULL, *dqr = kT ? qr + d : NULL;
    float *gr = kT ? dqr + d : NULL, *tmp = kT ? gr + d : NULL;
    if (!kT) {
#pragma omp atomic write
      fail = 1;
    }
#pragma omp for schedule(dynamic, 1)
    for (long task = 0; task < tasks; task++) {
      if (!kT) continue;
      const long b = task / Hkv, g = task % Hkv;
      load_kv(&p, k, v, b, g, kT, NULL, kS, vT);
      memset(dkT, 0, sizeof(float) * (size_t)(S * d));
      memset(dvT, 0, sizeof(float) * (size_t)(S * d));
      for (long h = g * p.rep; h < (g + 1) * p.rep; h++) {
        for (long t = 0; t < T; t++) {
          const float *q0 = q + (b * T + t) * H * d + h * d;
          if (p.cos) rope_fwd(&p, q0, qr, t);
          else memcpy(qr, q0, sizeof(float) * (size_t)d);
          const float *go = dout + (b * T + t) * H * d + h * d;
          const float *mrow = mask_row(&p, b, t);
          long jlo, jhi;
          key_range(&p, mrow, &jlo, &jhi);
          row_scores(&p, qr, kT, mrow, jlo, jhi, s);
          const float *st = stats + 2 * ((b * H + h) * T + t);
          row_exp(s, jlo, jhi, st[0]);
          for (long j = jlo; j <= jhi; j++) s[j] /= st[1];
          /* dP_j = dO·v_j; D = Σ p_j·dP_j */
          for (long j = jlo; j <= jhi; j++) dp[j] = 0;
          for (long i = 0; i < d; i++) {
            const float gi = go[i];
            const float *vc = vT + i * S;
            for (long j = jlo; j <= jhi; j++) dp[j] += gi * vc[j];
          }
          double D = 0;
          for (long j = jlo; j <= jhi; j++) D += (double)s[j] * dp[j];
          const float Df = (float)D;
          /* dv_j += p_j·dO; dS_j = p_j·(dP_j − D)·scale */
          for (long i = 0; i < d; i++) {
            const float gi = go[i];
            float *dvc = dvT + i * S;
            for (long j = jlo; j <= jhi; j++) dvc[j] += s[j] * gi;
          }
          for (long j = jlo; j <= jhi; j++) dp[j] = s[j] * (dp[j] - Df) * p.scale;
          /* dq = Σ dS_j·k_j; dk_j += dS_j·q */
          for (long i = 0; i < d; i++) dqr[i] = 0;
          for (long j = jlo; j <= jhi; j++) {
            const float w = dp[j];
            const float *kr = kS + j * d;
            for (long i = 0; i < d; i++) dqr[i] += w * kr[i];
          }
          for (long i = 0; i < d; i++) {
            const float qi = qr[i];
            float *dkc = dkT + i * S;
            for (long j = jlo; j <= jhi; j++) dkc[j] += dp[j] * qi;
          }
          float *dq0 = dq + (b * T + t) * H * d + h * d;
          if (p.cos) rope_bwd(&p, dqr, dq0, t);
          else memcpy(dq0, dqr, sizeof(float) * (size_t)d);
        }
      }
      /* back to the [B, S, Hkv·d] layout (and through the rotary for keys) */
      for (long j = 0; j < S; j++) {
        for (long i = 0; i < d; i++) {
          gr[i] = dkT[i * S + j];
          tmp[i] = dvT[i * S + j];
        }
        float *dk0 = dk + (b * S + j) * Hkv * d + g * d;
        if (p.cos) rope_bwd(&p, gr, dk0, j);
        else memcpy(dk0, gr, sizeof(float) * (size_t)d);
        memcpy(dv + (b * S + j) * Hkv * d + g * d, tmp, sizeof(float) * (size_t)d);
      }
    }
    free(kT);
  }
  if (fail) return throw_error(env, "attentionGrad: out of memory");
  return make_undefined(env);
}
