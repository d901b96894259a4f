// mBART: BART's tree and names with pre-LN layers and a final `layer_norm` after the encoder and
// after the decoder; sequence classification wraps the last token (the language id) to the front
// of the decoder inputs. Names as transformers' MBartForConditionalGeneration.
import { buildBartLike } from './bart.js';
import type { Family } from './types.js';

export const mbartFamily: Family = {
  name: 'mbart',
  modelTypes: ['mbart'],
  tasks: ['seq2seq', 'seq-cls', 'regression'],
  build: (config, opts) => buildBartLike(config, opts, { family: 'mbart', classPrefix: 'MBart', preLn: true, wrapShift: true }),
};
