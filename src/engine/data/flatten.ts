// Batches → one item at a time, without an async generator per item: `next()` answers from the
// current batch with an already-resolved promise and awaits the source only between batches.
// (An async generator would allocate several promises per item; at millions of rows that garbage
// dominates both time and resident memory.)

export function flatten<T>(batches: AsyncIterable<T[]>): AsyncIterableIterator<T> {
  let source: AsyncIterator<T[]> | null = null;
  let batch: T[] = [];
  let pos = 0;
  let finished = false;

  const pull = async (): Promise<IteratorResult<T>> => {
    source ??= batches[Symbol.asyncIterator]();
    for (;;) {
      const r = await source.next();
      if (r.done) {
        finished = true;
        return { value: undefined, done: true };
      }
      batch = r.value;
      pos = 0;
      if (batch.length > 0) return { value: batch[pos++] as T, done: false };
    }
  };

  const it: AsyncIterableIterator<T> = {
    next(): Promise<IteratorResult<T>> {
      if (pos < batch.length) return Promise.resolve({ value: batch[pos++] as T, done: false });
      if (finished) return Promise.resolve({ value: undefined, done: true });
      return pull();
    },
    async return(): Promise<IteratorResult<T>> {
      finished = true;
      batch = [];
      pos = 0;
      if (source?.return) await source.return(undefined);
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}
