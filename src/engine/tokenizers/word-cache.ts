// A per-word cache for SentencePiece-style BPE tokenizers (LLaMA's, stories260K's): the normaliser
// turns spaces into ▁ and there is no pre-tokeniser, so the library runs BPE over a whole sentence
// at a time and caches nothing that repeats. When no merge joins a piece ending in a character
// other than ▁ to a piece starting with ▁, BPE never crosses such a boundary: the sentence's tokens
// are the concatenation of its words' tokens (a word: a run of ▁ and the characters up to the next
// ▁ that follows a non-▁ character). Then each distinct word is tokenised once and looked up after:
// the same ids, many times faster (the library's per-call overhead is most of a short row's time).
//
// It applies only where that equivalence is certain: a BPE model, no pre-tokeniser, no
// library-side text rewriting (remove_space, lower-casing), and a text containing no added token.
// Anything else goes through the library as it is.
import type { Tokenizer } from '@huggingface/tokenizers';

const SPACE = '\u2581';
const WORDS = new RegExp(`${SPACE}*[^${SPACE}]+|${SPACE}+`, 'gu');
/** Words kept (the cache is emptied when it holds this many: a corpus's vocabulary, not its text). */
const CAPACITY = 200_000;

type Json = Record<string, unknown>;

/** Whether the merges ever join a left piece ending in non-▁ with a right piece starting with ▁. */
function mergesCrossWords(merges: unknown): boolean {
  if (!Array.isArray(merges)) return true;
  for (const m of merges) {
    const pair = Array.isArray(m) ? m : typeof m === 'string' ? m.split(' ') : null;
    if (!pair || pair.length !== 2) return true;
    const [a, b] = pair as [string, string];
    if (a.length > 0 && !a.endsWith(SPACE) && b.startsWith(SPACE)) return true;
  }
  return false;
}

export class WordCache {
  private readonly words = new Map<string, readonly number[]>();
  private readonly added: string[];

  private constructor(private readonly tok: Tokenizer, added: string[]) {
    this.added = added.filter((s) => s.length > 0);
  }

  /** The cache for this tokenizer, or null where splitting into words could change its output. */
  static for(tok: Tokenizer, json: Json, libraryConfig: Json): WordCache | null {
    const model = json.model as Json | undefined;
    if (!model || model.type !== 'BPE' || json.pre_tokenizer != null) return null;
    if (model.end_of_word_suffix || model.continuing_subword_suffix || model.dropout) return null;
    if (libraryConfig.remove_space || libraryConfig.do_lowercase_and_remove_accent) return null;
    if (mergesCrossWords(model.merges) || !tok.model) return null;
    const added = Array.isArray(json.added_tokens) ? json.added_tokens.map((t) => String((t as Json).content ?? '')) : [];
    return new WordCache(tok, added);
  }

  /** The ids of `text` (no special tokens), or null when this text must go through the library. */
  ids(text: string): number[] | null {
    if (text.length === 0) return [];
    for (const a of this.added) if (text.includes(a)) return null;
    const norm = this.tok.normalizer ? this.tok.normalizer(text) : text;
    if (norm.length === 0) return [];
    for (const a of this.added) if (norm.includes(a)) return null;
    const out: number[] = [];
    for (const w of norm.match(WORDS) ?? []) {
      let ids = this.words.get(w);
      if (!ids) {
        ids = this.tokenise(w);
        if (this.words.size >= CAPACITY) this.words.clear();
        this.words.set(w, ids);
      }
      for (const id of ids) out.push(id);
    }
    return out;
  }

  /** One word through the library's model (BPE, byte fallback), as ids the way the library maps tokens. */
  private tokenise(word: string): number[] {
    const model = this.tok.model!;
    return model([word]).map((t: string) => this.tok.token_to_id(t) ?? model.tokens_to_ids.get(t) ?? model.unk_token_id ?? 0);
  }
}
