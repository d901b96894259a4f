// WAV files → mono samples in [−1, 1]: RIFF/WAVE with integer PCM of 8, 16, 24 or 32 bits or
// 32/64-bit IEEE float (format 1, 3, or WAVE_FORMAT_EXTENSIBLE naming either), channels mixed
// down by their mean. Integer samples are scaled as soundfile reads them (16-bit: ÷ 32768).
import { readFileSync } from 'node:fs';
import { PeftError } from '../../../errors.js';

export interface Wav {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Mono samples (the mean of the channels). */
  samples: Float32Array;
}

const PCM = 1;
const FLOAT = 3;
const EXTENSIBLE = 0xfffe;

function bad(where: string, what: string): PeftError {
  return new PeftError('FORMAT', `not a readable WAV file: ${what}`, {
    where, hint: 'audio rows name RIFF/WAVE files with PCM (8/16/24/32-bit) or float samples',
  });
}

/** Parses a WAV file's bytes. */
export function decodeWav(bytes: Uint8Array, where = 'wav'): Wav {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (o: number) => String.fromCharCode(bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]);
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw bad(where, 'no RIFF/WAVE header');
  let fmt: { format: number; channels: number; rate: number; bits: number; align: number } | null = null;
  let data: { start: number; length: number } | null = null;
  for (let o = 12; o + 8 <= bytes.length;) {
    const id = tag(o);
    const size = view.getUint32(o + 4, true);
    const body = o + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw bad(where, 'fmt chunk too short');
      let format = view.getUint16(body, true);
      // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID
      if (format === EXTENSIBLE && size >= 26) format = view.getUint16(body + 24, true);
      fmt = { format, channels: view.getUint16(body + 2, true), rate: view.getUint32(body + 4, true), bits: view.getUint16(body + 14, true), align: view.getUint16(body + 12, true) };
    } else if (id === 'data') {
      // a streamed file may give 0 or a size past the end: read what is there
      data = { start: body, length: Math.min(size === 0 ? bytes.length - body : size, bytes.length - body) };
    }
    o = body + size + (size % 2);
  }
  if (!fmt) throw bad(where, 'no fmt chunk');
  if (!data) throw bad(where, 'no data chunk');
  const { format, channels, rate, bits } = fmt;
  if (channels < 1 || rate < 1) throw bad(where, `${channels} channels at ${rate} Hz`);
  const width = bits / 8;
  const intOk = format === PCM && [8, 16, 24, 32].includes(bits);
  const floatOk = format === FLOAT && (bits === 32 || bits === 64);
  if (!intOk && !floatOk) throw bad(where, `format ${format} with ${bits}-bit samples is not supported`);
  const frame = Math.max(fmt.align, width * channels);
  const frames = Math.floor(data.length / frame);
  const samples = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) {
      const o = data.start + f * frame + c * width;
      let v: number;
      if (floatOk) v = bits === 32 ? view.getFloat32(o, true) : view.getFloat64(o, true);
      else if (bits === 8) v = (view.getUint8(o) - 128) / 128;
      else if (bits === 16) v = view.getInt16(o, true) / 32768;
      else if (bits === 24) v = ((view.getUint8(o) | (view.getUint8(o + 1) << 8) | (view.getInt8(o + 2) << 16))) / 8388608;
      else v = view.getInt32(o, true) / 2147483648;
      sum += v;
    }
    samples[f] = sum / channels;
  }
  return { sampleRate: rate, channels, bitsPerSample: bits, samples };
}

export function readWav(path: string): Wav {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new PeftError('FILE', `cannot read the audio file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      where: path, hint: 'audio paths in data rows are relative to the data file',
    });
  }
  return decodeWav(bytes, path);
}
