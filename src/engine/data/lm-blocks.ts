// Causal-LM packing, as transformers' run_clm "group_texts": each text (a paragraph of a text file,
// or a row's text column) is encoded with the tokenizer's special tokens (BOS where the model uses
// one), the ids are concatenated and cut into blocks of `blockSize`; the remainder is dropped. A
// source shorter than one block gives that one short block. Streaming: ids are held only until
// their block is complete.

export class BlockPacker {
  private buf: Int32Array;
  private used = 0;
  private emitted = 0;
  /** Ids seen (complete blocks and the dropped remainder). */
  tokens = 0;

  constructor(readonly blockSize: number, private readonly limit: number | null = null) {
    if (!(blockSize >= 1)) throw new Error(`block size must be ≥ 1 (got ${blockSize})`);
    this.buf = new Int32Array(blockSize);
  }

  /** True once `limit` blocks were made: the caller may stop reading. */
  get full(): boolean {
    return this.limit !== null && this.emitted >= this.limit;
  }

  /** Appends the ids of one text; returns the blocks it completed. */
  push(ids: ArrayLike<number>): Int32Array[] {
    const out: Int32Array[] = [];
    let i = 0;
    while (i < ids.length && !this.full) {
      const room = this.blockSize - this.used;
      const take = Math.min(room, ids.length - i);
      for (let k = 0; k < take; k++) this.buf[this.used + k] = ids[i + k] as number;
      this.used += take;
      i += take;
      if (this.used === this.blockSize) {
        out.push(this.buf.slice());
        this.used = 0;
        this.emitted++;
      }
    }
    this.tokens += i;
    return out;
  }

  /** At the end of the source: the one short block when no full block was made (and it has ≥ 2 ids). */
  finish(): Int32Array[] {
    if (this.emitted === 0 && this.used > 1) {
      this.emitted = 1;
      return [this.buf.slice(0, this.used)];
    }
    return [];
  }
}
