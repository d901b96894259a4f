// Bit packing for compressed adapters. Codes of `bits` bits are packed 8/bits to a byte, entry i
// at bit offset bits·(i mod 8/bits), first entry in the low bits (the precision-redundancy
// authors' dump() layout); bitmaps are the 1-bit case. Rice codes store the gaps between kept
// positions of a sparse mask (ComPEFT), which beats a bitmap when few entries are kept.

export function packCodes(codes: ArrayLike<number>, bits: number): Uint8Array {
  const per = 8 / bits;
  const out = new Uint8Array(Math.ceil(codes.length / per));
  for (let i = 0; i < codes.length; i++) out[Math.floor(i / per)] |= codes[i] << (bits * (i % per));
  return out;
}

export function unpackCodes(bytes: Uint8Array, count: number, bits: number, byteOffset = 0): Uint8Array {
  const per = 8 / bits;
  const mask = (1 << bits) - 1;
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = (bytes[byteOffset + Math.floor(i / per)] >> (bits * (i % per))) & mask;
  return out;
}

/** A growing little-endian bit stream. */
class BitWriter {
  private bytes: number[] = [];
  private bit = 0;
  write(value: number, width: number): void {
    for (let b = 0; b < width; b++) this.push((value >>> b) & 1);
  }
  push(v: number): void {
    if (this.bit % 8 === 0) this.bytes.push(0);
    if (v) this.bytes[this.bytes.length - 1] |= 1 << (this.bit % 8);
    this.bit++;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** Rice code (parameter k) of the gaps between the set positions of a 0/1 mask. */
export function riceEncode(mask: Uint8Array, k: number): Uint8Array {
  const w = new BitWriter();
  let last = -1;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const gap = i - last - 1;
    last = i;
    for (let q = gap >>> k; q > 0; q--) w.push(1);
    w.push(0);
    w.write(gap & ((1 << k) - 1), k);
  }
  return w.done();
}

export function riceDecode(bytes: Uint8Array, length: number, kept: number, k: number): Uint8Array {
  const mask = new Uint8Array(length);
  let bit = 0;
  const read = () => (bytes[bit >>> 3] >> (bit++ & 7)) & 1;
  let pos = -1;
  for (let n = 0; n < kept; n++) {
    let q = 0;
    while (read()) q++;
    let r = 0;
    for (let b = 0; b < k; b++) r |= read() << b;
    pos += (q << k) + r + 1;
    if (pos >= length) throw new RangeError('Rice-coded positions run past the mask');
    mask[pos] = 1;
  }
  return mask;
}

/** The Rice parameter that minimises the code length for `kept` of `length` positions (≈ log2 of the mean gap). */
export function riceParameter(length: number, kept: number): number {
  if (kept === 0) return 0;
  const meanGap = (length - kept) / kept;
  return Math.max(0, Math.min(24, Math.round(Math.log2(Math.max(meanGap, 1) * Math.LN2))));
}
