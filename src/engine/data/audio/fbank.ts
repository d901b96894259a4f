// Kaldi-style log-mel filterbank features, as transformers' ASTFeatureExtractor computes them on
// its numpy path (audio_utils.spectrogram + mel_filter_bank, which follow Kaldi's fbank): frames
// of 400 samples every 160 (25 ms / 10 ms at 16 kHz) without centring; per frame the DC offset
// removed, pre-emphasis 0.97 (x[0] ← 0.97·… Kaldi's form: x[0]·(1 − 0.97)), a symmetric Hann
// window, a 512-point FFT's power spectrum; triangular filters spaced evenly on Kaldi's mel scale
// (1127·ln(1 + f/700)) from 20 Hz to Nyquist, built in mel space over 256 FFT bins (the top bin
// gets no filter); log(max(filter energy, 2⁻²³)). In float64, as numpy computes it.

export interface FbankOptions {
  sampleRate: number;
  melBins: number;
  frameLength?: number;
  hop?: number;
  fftLength?: number;
  preemphasis?: number;
  lowHz?: number;
  melFloor?: number;
}

/** Kaldi's mel scale. */
export function hzToMel(hz: number): number {
  return 1127 * Math.log(1 + hz / 700);
}

/**
 * Filters [bins, mel] over the FFT's bins (fftLength/2 + 1 rows, the last all zero), triangular
 * in mel space as transformers' mel_filter_bank(triangularize_in_mel_space=True, mel_scale='kaldi').
 */
export function melFilters(sampleRate: number, melBins: number, fftLength: number, lowHz: number): Float64Array[] {
  const used = fftLength / 2;
  const lo = hzToMel(lowHz);
  const hi = hzToMel(Math.floor(sampleRate / 2));
  const centers = Array.from({ length: melBins + 2 }, (_, i) => lo + ((hi - lo) * i) / (melBins + 1));
  const binWidth = sampleRate / fftLength;
  const rows: Float64Array[] = [];
  for (let b = 0; b <= used; b++) {
    const row = new Float64Array(melBins);
    if (b < used) {
      const m = hzToMel(binWidth * b);
      for (let j = 0; j < melBins; j++) {
        const down = (m - centers[j]) / (centers[j + 1] - centers[j]);
        const up = (centers[j + 2] - m) / (centers[j + 2] - centers[j + 1]);
        row[j] = Math.max(0, Math.min(down, up));
      }
    }
    rows.push(row);
  }
  return rows;
}

/** In-place radix-2 FFT of (re, im), length a power of two. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let s = 0; s < n; s += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = s + k;
        const b = a + len / 2;
        const tr = re[b] * cr - im[b] * ci;
        const ti = re[b] * ci + im[b] * cr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
        const nr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = nr;
      }
    }
  }
}

/** Log-mel frames [frames, melBins] (row-major) of a waveform at `sampleRate`. */
export function fbank(waveform: Float32Array, o: FbankOptions): { frames: number; data: Float32Array } {
  const fl = o.frameLength ?? 400;
  const hop = o.hop ?? 160;
  const nfft = o.fftLength ?? 512;
  const pre = o.preemphasis ?? 0.97;
  const floor = o.melFloor ?? 1.192092955078125e-7;
  const filters = melFilters(o.sampleRate, o.melBins, nfft, o.lowHz ?? 20);
  const window = Float64Array.from({ length: fl }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / (fl - 1)));
  const frames = waveform.length >= fl ? 1 + Math.floor((waveform.length - fl) / hop) : 0;
  const out = new Float32Array(frames * o.melBins);
  const re = new Float64Array(nfft);
  const im = new Float64Array(nfft);
  const power = new Float64Array(nfft / 2 + 1);
  for (let f = 0; f < frames; f++) {
    re.fill(0);
    im.fill(0);
    let mean = 0;
    for (let i = 0; i < fl; i++) mean += waveform[f * hop + i];
    mean /= fl;
    for (let i = 0; i < fl; i++) re[i] = waveform[f * hop + i] - mean;
    for (let i = fl - 1; i > 0; i--) re[i] -= pre * re[i - 1];
    re[0] *= 1 - pre;
    for (let i = 0; i < fl; i++) re[i] *= window[i];
    fft(re, im);
    for (let b = 0; b <= nfft / 2; b++) power[b] = re[b] * re[b] + im[b] * im[b];
    for (let j = 0; j < o.melBins; j++) {
      let e = 0;
      for (let b = 0; b <= nfft / 2; b++) e += filters[b][j] * power[b];
      out[f * o.melBins + j] = Math.log(Math.max(floor, e));
    }
  }
  return { frames, data: out };
}
