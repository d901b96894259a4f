// mBART: BART's tree and names with pre-LN layers and a final `layer_norm` after the encoder and
// after the decoder; sequence classification wraps the last token (the language id) to the front
// of the decoder inputs. Names as transformers' MBartForConditionalGeneration.
import { buildBartLike } from './bart.js';
import type { Family } from './types.js';
import { familyInfo } from '../../plan/index.js';

export const mbartFamily: Family = {
  info: familyInfo('mbart'),
  build: (config, opts) => buildBartLike(config, opts, { family: 'mbart', classPrefix: 'MBart', preLn: true, wrapShift: true }),
};
