// Resampling to a model's rate by band-limited interpolation: each output sample is the input
// convolved with a Hann-windowed sinc low-pass at the lower of the two Nyquist rates (× 0.99
// roll-off), 6 zero crossings wide — the method and defaults of torchaudio's `resample`
// (sinc_interp_hann), computed directly at each output time.

const ZERO_CROSSINGS = 6;
const ROLLOFF = 0.99;

export function resample(samples: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return samples;
  const ratio = to / from;
  const cutoff = Math.min(1, ratio) * ROLLOFF;
  const half = ZERO_CROSSINGS / cutoff;
  const n = Math.ceil(samples.length * ratio);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = i / ratio;
    const lo = Math.max(0, Math.ceil(x - half));
    const hi = Math.min(samples.length - 1, Math.floor(x + half));
    let acc = 0;
    for (let k = lo; k <= hi; k++) {
      const d = x - k;
      const window = 0.5 + 0.5 * Math.cos((Math.PI * d) / half);
      const arg = Math.PI * cutoff * d;
      const sinc = arg === 0 ? 1 : Math.sin(arg) / arg;
      acc += samples[k] * cutoff * sinc * window;
    }
    out[i] = acc;
  }
  return out;
}
