// T5's relative position buckets and the attention bias they index: exact buckets for small
// distances, log-spaced ones up to max_distance, half of the buckets per direction when
// bidirectional (encoder), keys after the query all in bucket 0 when not (decoder).
import * as tf from '@tensorflow/tfjs-core';

/** Bucket of `rel` = key position − query position, computed in float32 as transformers does. */
export function relativeBucket(rel: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  let nb = numBuckets;
  let bucket = 0;
  let n: number;
  if (bidirectional) {
    nb = Math.floor(nb / 2);
    if (rel > 0) bucket += nb;
    n = Math.abs(rel);
  } else {
    n = Math.max(-rel, 0);
  }
  const maxExact = Math.floor(nb / 2);
  if (n < maxExact) return bucket + n;
  const f = Math.fround;
  const logRatio = f(Math.log(f(n / maxExact)));
  const large = maxExact + Math.trunc(f(f(logRatio / f(Math.log(maxDistance / maxExact))) * (nb - maxExact)));
  return bucket + Math.min(large, nb - 1);
}

/**
 * The bias [1, H, qLen, kLen] from the table [buckets, H]: query i sits at position qStart + i,
 * key j at position j (a prefix of p keys: qStart = p, kLen = p + T).
 */
export function relativeBias(
  table: tf.Tensor, qStart: number, qLen: number, kLen: number,
  bidirectional: boolean, numBuckets: number, maxDistance: number,
): tf.Tensor4D {
  const idx = new Int32Array(qLen * kLen);
  for (let i = 0; i < qLen; i++) {
    for (let j = 0; j < kLen; j++) idx[i * kLen + j] = relativeBucket(j - (qStart + i), bidirectional, numBuckets, maxDistance);
  }
  return tf.tidy(() => {
    const H = table.shape[1]!;
    const values = tf.gather(table, tf.tensor1d(idx, 'int32'));
    return tf.reshape(tf.transpose(tf.reshape(values, [qLen, kLen, H]), [2, 0, 1]), [1, H, qLen, kLen]) as tf.Tensor4D;
  });
}
