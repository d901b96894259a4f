// The measures of a continual-learning stream, from the accuracy matrix a[k][j] (task j's score
// after stage k, for j ≤ k): average accuracy A_k = mean_j≤k a[k][j] (and its mean over stages,
// the average incremental accuracy); forgetting F = mean_{j<T−1} (max_{l<T−1} a[l][j] − a[T−1][j])
// (Chaudhry et al. 2018); backward transfer BWT = mean_{j<T−1} (a[T−1][j] − a[j][j]) (Lopez-Paz &
// Ranzato 2017). Tasks scored by a loss (language modelling) are left out of the means.

export interface StreamMeasures {
  /** Tasks in stream order. */
  tasks: string[];
  /** a[k][j]: task j's score after stage k; null for tasks not yet seen. */
  matrix: (number | null)[][];
  /** Average accuracy after each stage. */
  average_by_stage: number[];
  /** Average accuracy after the last stage. */
  average_accuracy: number;
  average_incremental_accuracy: number;
  /** Null with one task. */
  forgetting: number | null;
  backward_transfer: number | null;
}

const mean = (xs: number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

/** `matrix[k][j]` for j ≤ k; `scored[j]`: whether task j counts in the means (a higher-is-better score). */
export function streamMeasures(tasks: string[], matrix: (number | null)[][], scored: boolean[]): StreamMeasures {
  const T = matrix.length;
  const counted = (k: number) => matrix[k]!.map((v, j) => (j <= k && scored[j] && v !== null ? v : null)).filter((v): v is number => v !== null);
  const averageBy = matrix.map((_, k) => mean(counted(k)));
  const last = T - 1;
  const earlier = Array.from({ length: Math.max(0, last) }, (_, j) => j).filter((j) => scored[j]);
  const forgetting = earlier.length === 0 ? null
    : mean(earlier.map((j) => Math.max(...matrix.slice(j, last).map((row) => row[j] ?? -Infinity)) - (matrix[last]![j] ?? 0)));
  const bwt = earlier.length === 0 ? null : mean(earlier.map((j) => (matrix[last]![j] ?? 0) - (matrix[j]![j] ?? 0)));
  return {
    tasks, matrix, average_by_stage: averageBy, average_accuracy: averageBy[last] ?? NaN,
    average_incremental_accuracy: mean(averageBy.filter((v) => !Number.isNaN(v))), forgetting, backward_transfer: bwt,
  };
}
