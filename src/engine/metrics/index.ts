// Evaluation metrics, one file per family, each matching the standard implementation
// (scikit-learn, scipy, rouge-score, sacreBLEU). Pure TypeScript: no tensors.

export { accuracy, f1Score, presentLabels, countsFor, type F1Options, type Label, type LabelCounts } from './classification.js';
export { matthewsCorrcoef } from './mcc.js';
export { pearson, spearman, averageRanks } from './correlation.js';
export { LossAccumulator } from './loss.js';
export { porterStem } from './porter.js';
export { rougeScore, corpusRouge, rougeTokenize, rougeN, rougeL, rougeLsum, ROUGE_TYPES, type RougeScore, type RougeType, type RougeOptions } from './rouge.js';
export { corpusBleu, computeBleu, tokenize13a, formatBleu, type BleuScore, type BleuOptions, type SmoothMethod } from './bleu.js';
export { computeMetric, metricInfo, isImprovement, METRICS, type MetricInfo, type MetricOptions } from './registry.js';
