// A minimal Parquet writer for tests (no Parquet file ships in ../shared/data): required columns
// of strings (BYTE_ARRAY, UTF8), int32 or int64, PLAIN encoding, uncompressed, one data page per
// column chunk, any number of row groups. Metadata in the Thrift compact protocol, as the
// Parquet format specification (parquet.thrift) defines it.

type Col = { name: string; type: 'string' | 'int32' | 'int64' };

class Compact {
  bytes: number[] = [];
  private last: number[] = [0];

  private varint(n: bigint): void {
    let v = n;
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
  }
  private zigzag(n: bigint): void {
    this.varint(n >= 0n ? n << 1n : (-n << 1n) - 1n);
  }
  private field(id: number, type: number): void {
    const delta = id - (this.last[this.last.length - 1] as number);
    if (delta > 0 && delta <= 15) this.bytes.push((delta << 4) | type);
    else {
      this.bytes.push(type);
      this.zigzag(BigInt(id));
    }
    this.last[this.last.length - 1] = id;
  }
  i32(id: number, v: number): this {
    this.field(id, 5);
    this.zigzag(BigInt(v));
    return this;
  }
  i64(id: number, v: number | bigint): this {
    this.field(id, 6);
    this.zigzag(BigInt(v));
    return this;
  }
  binary(id: number, s: string): this {
    this.field(id, 8);
    const b = Buffer.from(s, 'utf8');
    this.varint(BigInt(b.length));
    this.bytes.push(...b);
    return this;
  }
  struct(id: number, body: (w: Compact) => void): this {
    this.field(id, 12);
    this.last.push(0);
    body(this);
    this.bytes.push(0);
    this.last.pop();
    return this;
  }
  /** A list of structs (elem type 12), i32s (5) or strings (8). */
  list<T>(id: number, elem: 5 | 8 | 12, items: readonly T[], write: (w: Compact, item: T) => void): this {
    this.field(id, 9);
    if (items.length < 15) this.bytes.push((items.length << 4) | elem);
    else {
      this.bytes.push(0xf0 | elem);
      this.varint(BigInt(items.length));
    }
    for (const item of items) {
      if (elem === 12) {
        this.last.push(0);
        write(this, item);
        this.bytes.push(0);
        this.last.pop();
      } else write(this, item);
    }
    return this;
  }
  rawI32(v: number): void {
    this.zigzag(BigInt(v));
  }
  rawString(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.varint(BigInt(b.length));
    this.bytes.push(...b);
  }
  stop(): Buffer {
    this.bytes.push(0);
    return Buffer.from(this.bytes);
  }
}

const TYPE = { string: 6, int32: 1, int64: 2 } as const;

function plainValues(col: Col, values: readonly unknown[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) {
    if (col.type === 'string') {
      const b = Buffer.from(String(v), 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      parts.push(len, b);
    } else if (col.type === 'int32') {
      const b = Buffer.alloc(4);
      b.writeInt32LE(Number(v));
      parts.push(b);
    } else {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt(v as number));
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

/** Bytes of a Parquet file holding `rows` (objects keyed by column name), `rowsPerGroup` per row group. */
export function writeParquet(columns: readonly Col[], rows: readonly Record<string, unknown>[], rowsPerGroup: number): Buffer {
  const out: Buffer[] = [Buffer.from('PAR1')];
  let offset = 4;
  const groups: { chunks: { offset: number; size: number; n: number }[]; n: number; bytes: number }[] = [];
  for (let start = 0; start < rows.length; start += rowsPerGroup) {
    const slice = rows.slice(start, start + rowsPerGroup);
    const chunks: { offset: number; size: number; n: number }[] = [];
    let bytes = 0;
    for (const col of columns) {
      const data = plainValues(col, slice.map((r) => r[col.name]));
      const header = new Compact()
        .i32(1, 0) // DATA_PAGE
        .i32(2, data.length)
        .i32(3, data.length)
        .struct(5, (w) => w.i32(1, slice.length).i32(2, 0).i32(3, 3).i32(4, 3)) // PLAIN, RLE, RLE
        .stop();
      chunks.push({ offset, size: header.length + data.length, n: slice.length });
      out.push(header, data);
      offset += header.length + data.length;
      bytes += header.length + data.length;
    }
    groups.push({ chunks, n: slice.length, bytes });
  }
  const meta = new Compact()
    .i32(1, 1)
    .list(2, 12, [{ name: 'schema', root: true } as { name: string; root?: boolean; col?: Col }, ...columns.map((c) => ({ name: c.name, col: c }))], (w, e) => {
      if (e.root) {
        w.binary(4, e.name).i32(5, columns.length);
      } else {
        w.i32(1, TYPE[e.col!.type]).i32(3, 0).binary(4, e.name);
        if (e.col!.type === 'string') w.i32(6, 0); // UTF8
      }
    })
    .i64(3, rows.length)
    .list(4, 12, groups, (w, g) => {
      w.list(1, 12, g.chunks.map((c, i) => ({ ...c, col: columns[i] as Col })), (w2, c) => {
        w2.i64(2, c.offset).struct(3, (m) =>
          m
            .i32(1, TYPE[c.col.type])
            .list(2, 5, [0, 3], (x, e) => x.rawI32(e))
            .list(3, 8, [c.col.name], (x, s) => x.rawString(s))
            .i32(4, 0) // UNCOMPRESSED
            .i64(5, c.n)
            .i64(6, c.size)
            .i64(7, c.size)
            .i64(9, c.offset),
        );
      })
        .i64(2, g.bytes)
        .i64(3, g.n);
    })
    .binary(6, 'peft tests')
    .stop();
  const len = Buffer.alloc(4);
  len.writeUInt32LE(meta.length);
  out.push(meta, len, Buffer.from('PAR1'));
  return Buffer.concat(out);
}
