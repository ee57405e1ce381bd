/**
 * A Golomb-coded set: each entry hashed into [0, count·2^bits), the sorted hashes' gaps Rice-coded
 * with `bits` low bits. About bits + 1.6 bits per entry; a string that is not in the set is
 * reported present with probability about 2^-bits. Used for the breached-password list, which is
 * deployed as a static asset (packGolombSet's format), not bundled.
 */
export interface GolombSet {
  has(value: string): boolean;
  readonly size: number;
}

/** cyrb53: a fast 53-bit string hash (public domain, bryc), enough to spread entries evenly. */
export function hash53(value: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The hashes of `values` in [0, values·2^bits), sorted and de-duplicated, and that range. */
export function setHashes(values: string[], bits: number): { hashes: number[]; range: number } {
  const range = values.length * 2 ** bits;
  return { hashes: [...new Set(values.map((value) => hash53(value) % range))].sort((a, b) => a - b), range };
}

/** Rice-codes sorted hashes: per gap, the quotient in unary (ones then a zero), then `bits` bits. */
export function encodeGolombSet(hashes: number[], bits: number): Uint8Array {
  const out: number[] = [];
  let byte = 0;
  let used = 0;
  const push = (bit: number) => {
    byte = (byte << 1) | bit;
    if (++used === 8) {
      out.push(byte);
      byte = 0;
      used = 0;
    }
  };
  let previous = 0;
  for (const hash of hashes) {
    const gap = hash - previous;
    previous = hash;
    for (let q = Math.floor(gap / 2 ** bits); q > 0; q--) push(1);
    push(0);
    const remainder = gap % 2 ** bits;
    for (let bit = bits - 1; bit >= 0; bit--) push(Math.floor(remainder / 2 ** bit) % 2);
  }
  if (used > 0) out.push(byte << (8 - used));
  return Uint8Array.from(out);
}

/** Decodes `count` hashes coded by encodeGolombSet over [0, range). */
export function decodeGolombSet(data: Uint8Array, count: number, bits: number, range: number): GolombSet {
  const hashes = new Float64Array(count);
  let position = 0;
  const bit = () => ((data[position >>> 3] as number) >>> (7 - (position++ & 7))) & 1;
  let value = 0;
  for (let i = 0; i < count; i++) {
    let quotient = 0;
    while (bit() === 1) quotient++;
    let remainder = 0;
    for (let b = 0; b < bits; b++) remainder = remainder * 2 + bit();
    value += quotient * 2 ** bits + remainder;
    hashes[i] = value;
  }
  // Past the end, bit() reads zeros: a truncated or corrupt file must not pass for a smaller set.
  if (position > data.length * 8 || value >= range) throw new RangeError("golomb set: the data is truncated or corrupt");
  return {
    size: count,
    has(candidate) {
      const target = hash53(candidate) % range;
      let low = 0;
      let high = count - 1;
      while (low <= high) {
        const middle = (low + high) >>> 1;
        const found = hashes[middle] as number;
        if (found === target) return true;
        if (found < target) low = middle + 1;
        else high = middle - 1;
      }
      return false;
    },
  };
}

/** The file format: "GCS1", count (u32), bits (u8, then 3 zero bytes), range (u64), all big-endian, then the data. */
const MAGIC = [0x47, 0x43, 0x53, 0x31];
const HEADER_BYTES = 20;

export interface PackedGolombSet {
  count: number;
  bits: number;
  range: number;
  data: Uint8Array;
}

/** One self-describing file for a set encodeGolombSet coded. */
export function packGolombSet({ count, bits, range, data }: PackedGolombSet): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + data.length);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC);
  view.setUint32(4, count);
  view.setUint8(8, bits);
  view.setBigUint64(12, BigInt(range));
  bytes.set(data, HEADER_BYTES);
  return bytes;
}

/** Decodes a packGolombSet file; throws a RangeError on anything else (a wrong, truncated or corrupt file). */
export function unpackGolombSet(bytes: Uint8Array): GolombSet {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < HEADER_BYTES || MAGIC.some((byte, index) => bytes[index] !== byte)) throw new RangeError("golomb set: not a GCS1 file");
  const count = view.getUint32(4);
  const bits = view.getUint8(8);
  const range = Number(view.getBigUint64(12));
  if (bits < 1 || bits > 31 || !Number.isSafeInteger(range) || range < count) throw new RangeError("golomb set: bad header");
  return decodeGolombSet(bytes.subarray(HEADER_BYTES), count, bits, range);
}
