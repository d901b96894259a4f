// `peft compress ADAPTER|RUN_DIR --method compeft|quantize --out DIR`: an adapter's tensors packed
// by ComPEFT (sparse ternary) or low-bit quantisation into adapter_compressed.safetensors beside
// its unchanged adapter_config.json. The task head (modules_to_save) and DoRA's magnitude vector
// stay float32 (they are not updates from zero). `unpack` writes the decoded tensors back as a
// plain adapter_model.safetensors (what Python peft loads).
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readAdapterConfig } from '../peft/load.js';
import { ADAPTER_WEIGHTS, openAdapterWeights } from '../peft/weights-file.js';
import { HEAD_TASK_TYPES } from '../peft/types.js';
import { writeSafetensors } from '../../io/safetensors.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { RESOLVED_RECIPE } from '../../train/run-dir.js';
import { COMPRESSED_WEIGHTS, writeCompressed, type CompressScheme, type StoreTensor } from './packed-file.js';
import { QUANT_BITS } from './codebook.js';
import { PeftError } from '../../../errors.js';

export interface CompressResult {
  input: string;
  out: string;
  scheme: CompressScheme | { method: 'unpack' };
  /** Bytes of the tensor file before and after (headers included). */
  bytesBefore: number;
  bytesAfter: number;
  /** Tensors compressed / kept as float32, and their entries. */
  compressed: { tensors: number; entries: number };
  plain: { tensors: number; entries: number };
  /** ComPEFT: entries kept (non-zero). */
  kept?: number;
  notes: string[];
}

/** A run directory's adapter, or the directory itself. */
export function adapterDirOfInput(path: string): string {
  const p = resolve(path);
  return existsSync(join(p, RESOLVED_RECIPE)) ? join(p, 'adapter') : p;
}

function check(scheme: CompressScheme): void {
  if (scheme.method === 'quantize') {
    if (!(QUANT_BITS as readonly number[]).includes(scheme.bits)) throw new PeftError('USAGE', `--bits ${scheme.bits}: quantisation takes 1, 2, 4 or 8 bits`);
  } else {
    if (!(scheme.density > 0 && scheme.density <= 1)) throw new PeftError('USAGE', `density ${scheme.density} is outside (0, 1]`, { hint: 'the fraction of entries kept: --density 0.1' });
    if (!(scheme.alpha > 0) || !Number.isFinite(scheme.alpha)) throw new PeftError('USAGE', `--alpha ${scheme.alpha}: ComPEFT's α multiplies the update's std and must be > 0`);
  }
}

export function compressAdapter(input: string, out: string, scheme: CompressScheme | { method: 'unpack' }): CompressResult {
  if (scheme.method !== 'unpack') check(scheme);
  const dir = adapterDirOfInput(input);
  const config = readAdapterConfig(dir);
  const weights = openAdapterWeights(dir);
  const bytesBefore = statSync(weights.path).size;
  const mts = Array.isArray(config.modules_to_save) ? config.modules_to_save.map(String)
    : HEAD_TASK_TYPES.includes(String(config.task_type)) ? ['classifier', 'score'] : [];
  const isHead = (n: string) => {
    const local = n.replace(/^base_model\.(model\.)?/, '');
    return mts.some((m) => local === m || local.startsWith(`${m}.`));
  };
  const tensors: StoreTensor[] = weights.source.names().sort().map((name) => ({
    name, shape: weights.source.info(name).shape, data: weights.source.read(name),
    compress: !isHead(name) && !/magnitude_vector/.test(name), init: /\.ia3_l$/.test(name) ? 1 : 0,
  }));
  if (resolve(out) === resolve(dir)) throw new PeftError('USAGE', '--out must be another directory than the adapter\'s', { hint: 'the original stays as it is' });
  mkdirSync(out, { recursive: true });
  const notes: string[] = [];
  const trainedBits = quantizedTraining(config);
  if (trainedBits.length > 0 && scheme.method !== 'unpack') {
    // the packed tensors are the weights such a module computes with: it no longer fake-quantises them
    const method = config.method as { modules: { options: Record<string, unknown> }[] };
    const exact = scheme.method === 'quantize' && scheme.granularity === 'tensor' && trainedBits.every((b) => b === scheme.bits);
    writeJsonAtomic(join(out, 'adapter_config.json'), { ...config, method: { ...method, modules: method.modules.map((m) => ({ ...m, options: { ...m.options, quantize_bits: undefined } })) } });
    notes.push(exact
      ? `trained with ${trainedBits[0]}-bit fake quantisation: the packed codes are exactly the weights it trained with`
      : `trained with ${trainedBits.join('/')}-bit fake quantisation, packed otherwise: the weights differ from those it trained with`);
  } else {
    copyFileSync(join(dir, 'adapter_config.json'), join(out, 'adapter_config.json'));
  }
  const sum = (ts: StoreTensor[]) => ({ tensors: ts.length, entries: ts.reduce((n, t) => n + t.data.length, 0) });
  // one tensor file per directory: a stale one of the other form would shadow the new one
  rmSync(join(out, scheme.method === 'unpack' ? COMPRESSED_WEIGHTS : ADAPTER_WEIGHTS), { force: true });
  if (scheme.method === 'unpack') {
    const bytesAfter = writeSafetensors(join(out, ADAPTER_WEIGHTS), tensors.map((t) => ({ name: t.name, shape: t.shape, data: t.data })));
    return { input, out, scheme, bytesBefore, bytesAfter, compressed: sum([]), plain: sum(tensors), notes };
  }
  if (tensors.every((t) => !t.compress)) throw new PeftError('FORMAT', 'the adapter holds no tensors to compress (only its task head)', { where: weights.path });
  const { bytes, kept } = writeCompressed(join(out, COMPRESSED_WEIGHTS), tensors, scheme);
  return { input, out, scheme, bytesBefore, bytesAfter: bytes, compressed: sum(tensors.filter((t) => t.compress)), plain: sum(tensors.filter((t) => !t.compress)), kept, notes };
}

/** The bit widths a UNIFIED_VIEW adapter's lowrank modules were trained with (quantize_bits), if any. */
function quantizedTraining(config: Record<string, unknown>): number[] {
  const method = config.method as { modules?: { options?: { quantize_bits?: number } }[] } | undefined;
  if (config.peft_type !== 'UNIFIED_VIEW' || !Array.isArray(method?.modules)) return [];
  return method.modules.map((m) => m.options?.quantize_bits).filter((b): b is number => typeof b === 'number');
}
