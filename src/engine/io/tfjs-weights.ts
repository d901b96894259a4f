// The weights of a TensorFlow.js layers-model (model.json's weightsManifest + its binary shards)
// as a tensor source, with tfjs's own decoding: each group's shards concatenated in order, the
// entries laid end to end in manifest order; quantized entries dequantized on load — uint8 and
// uint16 affine (value = q·scale + min), float16 (half floats) — to float32. Names are the
// manifest's with '/' read as '.' (`Conv1/kernel` → `Conv1.kernel`), the module paths the
// layers-model builder gives its parameters.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PeftError } from '../../errors.js';
import { f16ToF32, type TensorInfo, type TensorSource, type TypedArray } from './safetensors.js';

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number; original_dtype?: string };
}

interface Entry {
  spec: WeightSpec;
  group: number;
  /** Byte offset in the group's concatenated shards. */
  offset: number;
  bytes: number;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function bad(where: string, what: string): PeftError {
  return new PeftError('FORMAT', what, { where, hint: 'the layers-model directory is incomplete or its model.json does not match its shards' });
}

export class LayersModelWeights implements TensorSource {
  private readonly entries = new Map<string, Entry>();
  private readonly groups: { paths: string[]; data: Uint8Array | null }[] = [];

  constructor(readonly dir: string, manifest: unknown) {
    if (!Array.isArray(manifest)) throw bad(join(dir, 'model.json'), 'weightsManifest is not a list of weight groups');
    manifest.forEach((g, gi) => {
      const group = g as { paths?: unknown; weights?: unknown };
      if (!Array.isArray(group.paths) || !Array.isArray(group.weights)) throw bad(join(dir, 'model.json'), `weight group ${gi} has no paths or weights`);
      this.groups.push({ paths: group.paths.map(String), data: null });
      let offset = 0;
      for (const w of group.weights as WeightSpec[]) {
        const stored = w.quantization?.dtype ?? w.dtype;
        const size = DTYPE_BYTES[stored];
        if (!size || !Array.isArray(w.shape)) throw bad(`${join(dir, 'model.json')}: ${w.name}`, `weight ${w.name} has an unsupported dtype ${stored}`);
        const bytes = w.shape.reduce((a, b) => a * b, 1) * size;
        this.entries.set(w.name.replace(/\//g, '.'), { spec: w, group: gi, offset, bytes });
        offset += bytes;
      }
    });
  }

  private groupData(gi: number, need: number): Uint8Array {
    const g = this.groups[gi];
    if (!g.data) {
      const parts = g.paths.map((p) => {
        const file = join(this.dir, p);
        try {
          statSync(file);
          return readFileSync(file);
        } catch {
          throw new PeftError('FILE', `weight shard ${p} not found`, { where: file, hint: 'copy every file model.json names next to it' });
        }
      });
      const total = parts.reduce((n, b) => n + b.length, 0);
      g.data = new Uint8Array(total);
      let o = 0;
      for (const b of parts) {
        g.data.set(b, o);
        o += b.length;
      }
    }
    if (g.data.length < need) throw bad(join(this.dir, g.paths[0] ?? ''), `the shards hold ${g.data.length} bytes, the manifest needs ${need}`);
    return g.data;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  info(name: string): TensorInfo {
    const e = this.get(name);
    return { dtype: 'F32', shape: [...e.spec.shape], byteLength: e.spec.shape.reduce((a, b) => a * b, 1) * 4 };
  }

  private get(name: string): Entry {
    const e = this.entries.get(name);
    if (!e) throw bad(name, `no weight ${name} in the manifest`);
    return e;
  }

  read(name: string): Float32Array {
    const e = this.get(name);
    const data = this.groupData(e.group, e.offset + e.bytes);
    const n = e.spec.shape.reduce((a, b) => a * b, 1);
    const raw = data.slice(e.offset, e.offset + e.bytes);
    const q = e.spec.quantization;
    if (!q) {
      if (e.spec.dtype === 'float32') return new Float32Array(raw.buffer, 0, n);
      if (e.spec.dtype === 'int32') return Float32Array.from(new Int32Array(raw.buffer, 0, n));
      return Float32Array.from(raw);
    }
    if (q.dtype === 'float16') return f16ToF32(new Uint16Array(raw.buffer, 0, n));
    const values = q.dtype === 'uint8' ? raw : new Uint16Array(raw.buffer, 0, n);
    const scale = q.scale ?? 1;
    const min = q.min ?? 0;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = values[i] * scale + min;
    return out;
  }

  readRaw(name: string): TypedArray {
    return this.read(name);
  }

  readInt32(name: string): Int32Array {
    return Int32Array.from(this.read(name), Math.round);
  }

  metadata(): Record<string, string> {
    return { format: 'tfjs-layers-model' };
  }
}

/** The weights of the layers-model in `dir`, whose config (layersModelConfig) carries the manifest. */
export function openLayersModelWeights(dir: string, config: Record<string, unknown>): LayersModelWeights {
  return new LayersModelWeights(dir, config.weights_manifest);
}
