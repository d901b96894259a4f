// Before decoding: the options with their defaults and the model's special token ids, checked;
// the inputs padded (causal prompts on the left, encoder inputs on the right) and repeated for
// beams or several samples per input.
import type { TaskModel } from '../backbones/types.js';
import { Rng } from '../data/rng.js';
import { PeftError } from '../../errors.js';
import type { GenerateInputs, GenerateOptions, Strategy } from './types.js';
import type { StepperInputs } from './stepper.js';

export interface ResolvedOptions {
  strategy: Strategy;
  seq2seq: boolean;
  maxNewTokens: number;
  minNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  rng: Rng;
  numBeams: number;
  lengthPenalty: number;
  earlyStopping: boolean | 'never';
  numReturnSequences: number;
  noRepeatNgramSize: number;
  eos: number[];
  pad: number;
  decoderStart: number;
  useCache: boolean;
  onStep?: GenerateOptions['onStep'];
}

/** The stream of the seeded generator sampling draws from (apart from data order and splits). */
export const SAMPLE_STREAM = 7;

function configId(model: TaskModel, key: string): number | null {
  const v = model.config[key];
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (Array.isArray(v) && v.length > 0 && Number.isInteger(v[0])) return v[0] as number;
  return null;
}

function configIds(model: TaskModel, key: string): number[] {
  const v = model.config[key];
  if (Array.isArray(v)) return v.filter((x): x is number => Number.isInteger(x));
  return typeof v === 'number' && Number.isInteger(v) ? [v] : [];
}

function bad(message: string, hint?: string): PeftError {
  return new PeftError('RECIPE', message, { where: 'generate', hint });
}

export function resolveOptions(model: TaskModel, o: GenerateOptions): ResolvedOptions {
  const seq2seq = model.task === 'seq2seq';
  if (!seq2seq && model.task !== 'causal-lm') {
    throw bad(`generation needs a causal-lm or seq2seq model, not ${model.task}`);
  }
  const strategy = o.strategy ?? 'greedy';
  const eos = o.eosTokenId === null ? [] : o.eosTokenId === undefined ? configIds(model, 'eos_token_id') : [o.eosTokenId].flat();
  const pad = o.padTokenId ?? configId(model, 'pad_token_id') ?? eos[0] ?? 0;
  const r: ResolvedOptions = {
    strategy,
    seq2seq,
    maxNewTokens: o.maxNewTokens,
    minNewTokens: o.minNewTokens ?? 0,
    temperature: o.temperature ?? 1,
    topK: o.topK ?? 0,
    topP: o.topP ?? 1,
    rng: o.rng ?? Rng.fromSeed(o.seed ?? 0, SAMPLE_STREAM),
    numBeams: strategy === 'beam' ? (o.numBeams ?? 4) : 1,
    lengthPenalty: o.lengthPenalty ?? 1,
    earlyStopping: o.earlyStopping ?? false,
    numReturnSequences: o.numReturnSequences ?? 1,
    noRepeatNgramSize: o.noRepeatNgramSize ?? 0,
    eos,
    pad,
    decoderStart: o.decoderStartTokenId ?? configId(model, 'decoder_start_token_id') ?? pad,
    useCache: o.useCache ?? true,
    onStep: o.onStep,
  };
  const int = (v: number, min: number) => Number.isInteger(v) && v >= min;
  if (!int(r.maxNewTokens, 1)) throw bad(`max_new_tokens must be an integer ≥ 1 (got ${r.maxNewTokens})`);
  if (!int(r.minNewTokens, 0)) throw bad(`min_new_tokens must be an integer ≥ 0 (got ${r.minNewTokens})`);
  if (!(r.temperature > 0)) throw bad(`temperature must be > 0 (got ${r.temperature})`);
  if (!int(r.topK, 0)) throw bad(`top_k must be an integer ≥ 0 (got ${r.topK})`);
  if (!(r.topP > 0 && r.topP <= 1)) throw bad(`top_p must be in (0, 1] (got ${r.topP})`);
  if (!int(r.numBeams, 1)) throw bad(`num_beams must be an integer ≥ 1 (got ${r.numBeams})`);
  if (!int(r.noRepeatNgramSize, 0)) throw bad(`no_repeat_ngram_size must be an integer ≥ 0 (got ${r.noRepeatNgramSize})`);
  if (!int(r.numReturnSequences, 1)) throw bad(`num_return_sequences must be an integer ≥ 1 (got ${r.numReturnSequences})`);
  if (strategy === 'greedy' && r.numReturnSequences > 1) {
    throw bad('greedy decoding returns one sequence per input', 'use strategy sample or beam for several');
  }
  if (strategy === 'beam' && r.numReturnSequences > r.numBeams) {
    throw bad(`num_return_sequences (${r.numReturnSequences}) must not exceed num_beams (${r.numBeams})`);
  }
  if (strategy === 'beam' && model.dims.vocab < 2) throw bad('beam search needs a vocabulary of at least 2 tokens');
  return r;
}

/** Rows: their real tokens (mask 1), in order. */
function realTokens(inp: GenerateInputs): number[][] {
  const { inputIds, attentionMask } = inp;
  if (inputIds.length === 0) throw new PeftError('DATA', 'nothing to generate from: no input rows', { where: 'generate' });
  if (!attentionMask) return inputIds.map((r) => [...r]);
  if (attentionMask.length !== inputIds.length || attentionMask.some((m, i) => m.length !== inputIds[i].length)) {
    throw new PeftError('DATA', 'the attention mask does not match the input ids row by row', { where: 'generate' });
  }
  return inputIds.map((r, i) => r.filter((_, t) => attentionMask[i][t] > 0));
}

/**
 * The stepper's rows: each input repeated `copies` times (beams, or samples per input), padded;
 * and how many new tokens the model's positions leave room for.
 */
export function prepareInputs(model: TaskModel, inp: GenerateInputs, o: ResolvedOptions, positionOffset: number): { rows: StepperInputs; maxNewTokens: number } {
  const rows = realTokens(inp);
  const empty = rows.findIndex((r) => r.length === 0);
  if (empty >= 0) {
    throw new PeftError('DATA', `input row ${empty} has no tokens`, {
      where: 'generate', hint: o.seq2seq ? 'give every source some text' : 'a prompt needs at least one token (the tokenizer\'s BOS, for instance)',
    });
  }
  const copies = o.strategy === 'beam' ? o.numBeams : o.numReturnSequences;
  const width = Math.max(...rows.map((r) => r.length));
  const ids: number[][] = [];
  const mask: number[][] = [];
  for (const r of rows) {
    const padding = new Array<number>(width - r.length).fill(o.pad);
    const ones = new Array<number>(r.length).fill(1);
    const zeros = new Array<number>(width - r.length).fill(0);
    for (let c = 0; c < copies; c++) {
      ids.push(o.seq2seq ? [...r, ...padding] : [...padding, ...r]);
      mask.push(o.seq2seq ? [...ones, ...zeros] : [...zeros, ...ones]);
    }
  }
  // learned positions end the decoder side (T5's relative positions have no end)
  const limit = model.family === 't5' ? Infinity : model.dims.maxPositions - positionOffset;
  const used = o.seq2seq ? 1 : width;
  const room = limit - used;
  if (room < 1) {
    throw new PeftError('DATA', `the prompt fills the model's ${model.dims.maxPositions} positions: no room to generate`, {
      where: 'generate', hint: 'use a shorter prompt',
    });
  }
  return { rows: { seq2seq: o.seq2seq, ids, mask, decoderStart: o.decoderStart }, maxNewTokens: Math.min(o.maxNewTokens, room) };
}
