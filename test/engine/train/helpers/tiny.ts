// Tiny real models for task tests: the parity fixtures' random backbones (vocabulary 100) with a
// WordPiece tokenizer over a 100-word vocabulary written next to them, the task head left out of
// the weights (so any number of labels is initialised from the seed), and synthetic datasets
// whose labels follow simple rules a few dozen steps can learn.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors, writeSafetensors } from '../../../../src/engine/io/safetensors.js';
import { fixture } from '../../../helpers/fixtures.js';

export const WORDS = [
  'the', 'a', 'is', 'was', 'in', 'to', 'and', 'of', 'good', 'bad', 'great', 'awful', 'fine', 'poor', 'very', 'not',
  'film', 'book', 'day', 'food', 'john', 'mary', 'paul', 'anna', 'paris', 'rome', 'berlin', 'oslo', 'lives', 'went',
  'saw', 'met', 'red', 'blue', 'green', 'cat', 'dog', 'bird', 'fish', 'one', 'two', 'three', 'four', 'five', 'six',
  'seven', 'eight', 'nine', 'ten', 'yes', 'no', 'maybe', 'big', 'small', 'old', 'new', 'hot', 'cold', 'up', 'down',
];

type Specials = 'bert' | 'bart' | 't5';

const SPECIALS: Record<Specials, string[]> = {
  bert: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'],
  bart: ['<s>', '<pad>', '</s>', '<unk>'],
  t5: ['<pad>', '</s>', '<unk>'],
};

function tokenizerJson(kind: Specials): { json: object; config: object } {
  const specials = SPECIALS[kind];
  const vocab: Record<string, number> = {};
  [...specials, ...WORDS].forEach((w, i) => (vocab[w] = i));
  const sp = (t: string) => ({ SpecialToken: { id: t, type_id: 0 } });
  const seq = (id: 'A' | 'B', type_id: number) => ({ Sequence: { id, type_id } });
  const spB = (t: string) => ({ SpecialToken: { id: t, type_id: 1 } });
  const template = kind === 'bert'
    ? { single: [sp('[CLS]'), seq('A', 0), sp('[SEP]')], pair: [sp('[CLS]'), seq('A', 0), sp('[SEP]'), seq('B', 1), spB('[SEP]')] }
    : kind === 'bart'
      ? { single: [sp('<s>'), seq('A', 0), sp('</s>')], pair: [sp('<s>'), seq('A', 0), sp('</s>'), sp('</s>'), seq('B', 0), sp('</s>')] }
      : { single: [seq('A', 0), sp('</s>')], pair: [seq('A', 0), sp('</s>'), seq('B', 0), sp('</s>')] };
  const used = kind === 'bert' ? ['[CLS]', '[SEP]'] : kind === 'bart' ? ['<s>', '</s>'] : ['</s>'];
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((t) => ({ id: vocab[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: { type: 'TemplateProcessing', ...template, special_tokens: Object.fromEntries(used.map((t) => [t, { id: t, ids: [vocab[t]], tokens: [t] }])) },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: kind === 'bert' ? '[UNK]' : '<unk>', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
  const config = kind === 'bert'
    ? { unk_token: '[UNK]', pad_token: '[PAD]', cls_token: '[CLS]', sep_token: '[SEP]', model_max_length: 64 }
    : kind === 'bart'
      ? { bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>', model_max_length: 64 }
      : { eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>', model_max_length: 64 };
  return { json, config };
}

/** A model directory: a parity fixture's config and weights (without its head), plus a tokenizer. */
export function tinyModel(name: 'bert' | 'bart' | 't5' | 'vit', dir = mkdtempSync(join(tmpdir(), `peft-tiny-${name}-`))): string {
  mkdirSync(dir, { recursive: true });
  copyFileSync(fixture('models', name, 'config.json'), join(dir, 'config.json'));
  const src = openSafetensors(fixture('models', name, 'model.safetensors'));
  const head = /^(classifier|score|qa_outputs)\./;
  writeSafetensors(join(dir, 'model.safetensors'), src.names().filter((n) => !head.test(n)).map((n) => ({ name: n, shape: [...src.info(n).shape], data: src.read(n) as Float32Array })));
  if (name !== 'vit') {
    const { json, config } = tokenizerJson(name === 't5' ? 't5' : name === 'bart' ? 'bart' : 'bert');
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  }
  return dir;
}

/** A seeded stream of integers (tests want the same data every run). */
export function lcg(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 0x100000000;
  };
}

export const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

export function jsonl(rows: object[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}
