// The tensors of an adapter directory, whatever form they are stored in: Python peft's
// adapter_model.safetensors, or a compressed adapter's packed file (`peft compress`), decoded to
// float32 on read — so every reader (load, merge, compress) takes either transparently. A
// PyTorch pickle (adapter_model.bin) is refused: unpickling can run arbitrary code.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors, type TensorSource } from '../../io/safetensors.js';
import { COMPRESSED_WEIGHTS, openCompressed } from '../compress/packed-file.js';
import { PeftError } from '../../../errors.js';

export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const PICKLED_WEIGHTS = 'adapter_model.bin';

export interface AdapterWeights {
  source: TensorSource;
  /** The file read (for messages). */
  path: string;
  /** How it is stored: plain float tensors, or a compression scheme's packed form. */
  storage: 'plain' | 'compeft' | 'quantize';
}

export function openAdapterWeights(dir: string): AdapterWeights {
  const plain = join(dir, ADAPTER_WEIGHTS);
  if (existsSync(plain)) return { source: openSafetensors(plain), path: plain, storage: 'plain' };
  const packed = join(dir, COMPRESSED_WEIGHTS);
  if (existsSync(packed)) {
    const c = openCompressed(packed);
    return { source: c, path: packed, storage: c.scheme };
  }
  if (existsSync(join(dir, PICKLED_WEIGHTS))) {
    throw new PeftError('FORMAT', `${PICKLED_WEIGHTS} is a PyTorch pickle file, which peft will not execute (loading a pickle can run arbitrary code)`, {
      where: join(dir, PICKLED_WEIGHTS),
      hint: 'if you trust the file, convert it where PyTorch is installed: python -c "import torch; from safetensors.torch import save_file; '
        + `save_file(torch.load('${PICKLED_WEIGHTS}', map_location='cpu', weights_only=True), '${ADAPTER_WEIGHTS}')"`
        + ' (or load it in Python peft and save_pretrained it again, which writes safetensors)',
    });
  }
  throw new PeftError('FILE', `no ${ADAPTER_WEIGHTS}`, { where: dir, hint: 'point at a directory saved by peft or by Python peft (save_pretrained)' });
}
