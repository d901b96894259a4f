// The parameter budget as He et al. (ICLR 2022) count it (App. B, Tables 6 and 12): the weight
// matrices a method stores — 2·l·d per attention for prefix tuning (its keys and values, the
// reparameterisation MLP not counted: only its output is stored), 2·r·d per sublayer for an
// adapter, 4·r·d per attention and 10·r·d per FFN for LoRA — over the backbone's parameters;
// biases, LayerNorms and scalars are not counted. A method made only of vectors (BitFit's biases,
// (IA)³'s scales) counts those. The tables print the share truncated, not rounded
// (29.49M / 406.29M = 7.26% is printed 7.2): one decimal from 1% up, two below (0.4732% → 0.47).

/** The paper's count of one module from the shapes of the tensors it stores. */
export function paperParams(shapes: readonly (readonly number[])[]): number {
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  const matrices = shapes.filter((s) => s.length >= 2).reduce((n, s) => n + size(s), 0);
  return matrices > 0 ? matrices : shapes.reduce((n, s) => n + size(s), 0);
}

/** A percentage truncated to the paper's precision: one decimal at or above 1%, two below. */
export function paperPercent(percent: number): number {
  const places = percent >= 1 ? 1 : 2;
  const f = 10 ** places;
  // the epsilon keeps an exact 6.7 from printing as 6.6 through float error
  return Math.floor(percent * f + 1e-9) / f;
}

/** `6.7`, `0.47`, `12.3`: the paper's figure as text. */
export function paperPercentText(percent: number): string {
  return paperPercent(percent).toFixed(percent >= 1 ? 1 : 2);
}
