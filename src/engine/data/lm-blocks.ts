// Causal-LM examples from plain text: each paragraph (blank-line separated) is encoded with the
// tokenizer's special tokens (BOS where the model uses one), the ids are concatenated and cut
// into blocks of `blockSize` (transformers' run_clm "group_texts": the remainder is dropped).
// The file is streamed line by line (bad UTF-8 is reported with its line).
import type { TextTokenizer } from '../tokenizers/index.js';
import { readLines } from './sources/index.js';

/** Token ids of a text file, paragraph by paragraph; stops early once `maxTokens` are read. */
export async function tokenizeTextFile(path: string, tokenizer: TextTokenizer, maxTokens = Infinity): Promise<Int32Array> {
  const out: number[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length === 0) return;
    for (const id of tokenizer.encode(para.join('\n') + '\n', { addSpecialTokens: true })) out.push(id);
    para = [];
  };
  for await (const line of readLines(path)) {
    if (line.text.trim() === '') flush();
    else para.push(line.text);
    if (out.length >= maxTokens) break;
  }
  flush();
  return Int32Array.from(out);
}

/** Consecutive blocks of `blockSize` ids (the last partial block is dropped; one short block if that is all). */
export function toBlocks(ids: Int32Array, blockSize: number, limit: number | null = null): Int32Array[] {
  const blocks: Int32Array[] = [];
  const n = Math.floor(ids.length / blockSize);
  for (let i = 0; i < n && (limit === null || blocks.length < limit); i++) blocks.push(ids.subarray(i * blockSize, (i + 1) * blockSize));
  if (n === 0 && ids.length > 1) blocks.push(ids);
  return blocks;
}
