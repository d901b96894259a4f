// Audio examples → input_values as ASTFeatureExtractor makes them: the clip (a WAV file, or
// samples at the model's rate) as mono at the extractor's sampling rate, its log-mel fbank
// (fbank.ts), cut or zero-padded to max_length frames, normalised as (x − mean) / (2·std).
// Settings: the model directory's preprocessor_config.json, else the extractor's defaults with
// the model config's num_mel_bins and max_length.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { readWav } from './wav.js';
import { resample } from './resample.js';
import { fbank } from './fbank.js';

export interface AudioSpec {
  sampleRate: number;
  melBins: number;
  maxLength: number;
  normalize: boolean;
  mean: number;
  std: number;
}

/** ASTFeatureExtractor's defaults. */
const DEFAULTS: AudioSpec = { sampleRate: 16000, melBins: 128, maxLength: 1024, normalize: true, mean: -4.2677393, std: 4.5689974 };

export function audioSpec(config: Record<string, unknown>, modelDir?: string): AudioSpec {
  let pre: Record<string, unknown> = {};
  const file = modelDir ? join(modelDir, 'preprocessor_config.json') : null;
  if (file && existsSync(file)) {
    try {
      pre = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      pre = {};
    }
  }
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
  return {
    sampleRate: num(pre.sampling_rate, DEFAULTS.sampleRate),
    melBins: num(pre.num_mel_bins, num(config.num_mel_bins, DEFAULTS.melBins)),
    maxLength: num(pre.max_length, num(config.max_length, DEFAULTS.maxLength)),
    normalize: pre.do_normalize !== false,
    mean: num(pre.mean, DEFAULTS.mean),
    std: num(pre.std, DEFAULTS.std),
  };
}

/** Mono samples at the spec's rate from a row's audio: a path (relative to `baseDir`) or samples already at that rate. */
export function loadClip(audio: string | Float32Array, spec: AudioSpec, baseDir: string): Float32Array {
  if (typeof audio !== 'string') return audio;
  const wav = readWav(isAbsolute(audio) ? audio : resolve(baseDir, audio));
  return resample(wav.samples, wav.sampleRate, spec.sampleRate);
}

/** input_values [maxLength·melBins] of one clip. */
export function toInputValues(samples: Float32Array, spec: AudioSpec): Float32Array {
  const fb = fbank(samples, { sampleRate: spec.sampleRate, melBins: spec.melBins });
  const out = new Float32Array(spec.maxLength * spec.melBins);
  out.set(fb.data.subarray(0, Math.min(fb.frames, spec.maxLength) * spec.melBins));
  if (spec.normalize) for (let i = 0; i < out.length; i++) out[i] = (out[i] - spec.mean) / (2 * spec.std);
  return out;
}
