// Image examples → pixel_values as a ViT image processor makes them: [C, H, W] at the model's
// size (bilinear resize, half-pixel centres), values in [0, 1], then (x − mean) / std per channel.
// Sources give pixels in [0, 1] (IDX), as 8-bit values (÷ 255), or as the 4-bit counts of UCI
// optdigits (÷ 16, chosen when no value exceeds 16); a flat vector of a square count is read as
// one square grey channel, a grey image is repeated over the model's channels.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ImageSpec {
  channels: number;
  size: number;
  mean: number[];
  std: number[];
}

function list(v: unknown, n: number, d: number): number[] {
  if (typeof v === 'number') return new Array<number>(n).fill(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return Array.from({ length: n }, (_, i) => (v[i % v.length] as number));
  return new Array<number>(n).fill(d);
}

/** The model's input geometry (config.json) and normalisation (preprocessor_config.json, else ViT's 0.5 / 0.5). */
export function imageSpec(config: Record<string, unknown>, modelDir?: string): ImageSpec {
  const channels = typeof config.num_channels === 'number' ? config.num_channels : 3;
  const size = typeof config.image_size === 'number' ? config.image_size : 224;
  let pre: Record<string, unknown> = {};
  const file = modelDir ? join(modelDir, 'preprocessor_config.json') : null;
  if (file && existsSync(file)) {
    try {
      pre = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      pre = {};
    }
  }
  const normalize = pre.do_normalize !== false;
  // a config may carry its own normalisation (a tfjs model's, synthesized from its topology)
  const mean = pre.image_mean ?? config.image_mean;
  const std = pre.image_std ?? config.image_std;
  return {
    channels, size,
    mean: normalize ? list(mean, channels, 0.5) : new Array<number>(channels).fill(0),
    std: normalize ? list(std, channels, 0.5) : new Array<number>(channels).fill(1),
  };
}

/** [C, H, W] of an example's pixels from its shape (or a square count), or null when it cannot be one. */
export function imageLayout(length: number, shape: readonly number[] | undefined): { c: number; h: number; w: number; channelsLast: boolean } | null {
  const s = shape && shape.reduce((a, b) => a * b, 1) === length ? shape : [length];
  if (s.length === 2) return { c: 1, h: s[0] as number, w: s[1] as number, channelsLast: false };
  if (s.length === 3) {
    const [a, b, c] = s as [number, number, number];
    return a <= 4 ? { c: a, h: b, w: c, channelsLast: false } : { c, h: a, w: b, channelsLast: true };
  }
  const side = Math.round(Math.sqrt(length));
  return side * side === length ? { c: 1, h: side, w: side, channelsLast: false } : null;
}

/** The divisor that brings raw values to [0, 1]. */
function scaleOf(x: Float32Array): number {
  let max = 0;
  for (let i = 0; i < x.length; i++) if ((x[i] as number) > max) max = x[i] as number;
  if (max <= 1) return 1;
  return max <= 16 ? 16 : 255;
}

/** Bilinear sample of one channel plane (h × w) at output size n × n (align_corners = false). */
function resizePlane(src: Float32Array, h: number, w: number, n: number, out: Float32Array, outOff: number): void {
  const sy = h / n;
  const sx = w / n;
  for (let y = 0; y < n; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const dy = fy - y0;
    for (let x = 0; x < n; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const dx = fx - x0;
      const top = (src[y0 * w + x0] as number) * (1 - dx) + (src[y0 * w + x1] as number) * dx;
      const bottom = (src[y1 * w + x0] as number) * (1 - dx) + (src[y1 * w + x1] as number) * dx;
      out[outOff + y * n + x] = top * (1 - dy) + bottom * dy;
    }
  }
}

/** pixel_values [C·H·W] for one image, or an error message. */
export function toPixelValues(image: Float32Array, shape: readonly number[] | undefined, spec: ImageSpec): Float32Array | string {
  const layout = imageLayout(image.length, shape);
  if (!layout) return `an image of ${image.length} values is not square; give its shape`;
  const { c, h, w, channelsLast } = layout;
  if (c !== 1 && c !== spec.channels) return `the image has ${c} channels, the model takes ${spec.channels}`;
  const scale = scaleOf(image);
  const n = spec.size;
  const out = new Float32Array(spec.channels * n * n);
  const plane = new Float32Array(h * w);
  for (let k = 0; k < spec.channels; k++) {
    const from = c === 1 ? 0 : k;
    for (let i = 0; i < h * w; i++) plane[i] = (image[channelsLast ? i * c + from : from * h * w + i] as number) / scale;
    resizePlane(plane, h, w, n, out, k * n * n);
    const m = spec.mean[k] as number;
    const sd = spec.std[k] as number;
    for (let i = k * n * n; i < (k + 1) * n * n; i++) out[i] = ((out[i] as number) - m) / sd;
  }
  return out;
}
