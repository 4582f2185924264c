/**
 * Byte helpers: the one place that does bit arithmetic on big-endian fields, plus conversions
 * between strings and bytes. HTTP/2 field names and values are octets; this library represents
 * them as "byte strings" (latin1: one char per octet), which is lossless and cheap.
 */

/** A shared empty byte array. Never write into it. */
export const EMPTY: Uint8Array = new Uint8Array(0);

export function readU16(b: Uint8Array, o: number): number {
  return ((b[o]! << 8) | b[o + 1]!) >>> 0;
}
export function readU24(b: Uint8Array, o: number): number {
  return (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
}
export function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
/** Reads a 31-bit value, ignoring the reserved top bit (RFC 9113 §4.1: ignored on receipt). */
export function readU31(b: Uint8Array, o: number): number {
  return ((b[o]! & 0x7f) << 24 | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}
export function writeU24(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 16;
  b[o + 1] = v >>> 8;
  b[o + 2] = v;
}
export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** Concatenates byte arrays into one new array (one copy). */
export function concat(parts: readonly Uint8Array[], total?: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = total ?? 0;
  if (total === undefined) for (const p of parts) n += p.length;
  const out = Buffer.allocUnsafe(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The byte string (latin1) of some octets. */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/**
 * Octets of a string: a string of chars ≤ 0xFF is taken as a byte string (latin1); a string
 * with any char above 0xFF is UTF-8 encoded, so nothing is silently mangled.
 */
export function toBytes(s: string): Buffer {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf8');
  }
  return Buffer.from(s, 'latin1');
}

/** The byte string of a string or octets (see {@link toBytes}). */
export function toByteString(v: string | Uint8Array): string {
  if (typeof v !== 'string') return latin1(v);
  for (let i = 0; i < v.length; i++) {
    if (v.charCodeAt(i) > 0xff) return Buffer.from(v, 'utf8').toString('latin1');
  }
  return v;
}

/** Lowercase hex of some octets (tests, logs). */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Chunks of at most this many octets are copied into a slab rather than kept as views. */
export const SMALL_CHUNK = 1024;
const FIRST_SLAB = 512;
const MAX_SLAB = 16384;

/**
 * Copies small chunks into slabs, so that a queue of a peer's (or a caller's) 1-octet chunks costs
 * octets rather than an object each, and never pins the large read buffer a chunk was cut from.
 * Slabs start small and double up to 16 KiB, so a stream with one small chunk holds 512 octets.
 * Octets already handed out are never written again: views of a slab stay valid.
 */
export class SlabAppender {
  private slab: Uint8Array = EMPTY;
  private used = 0;
  /** Whether the last `append` extended the `last` view it was given (else it made a new one). */
  extended = false;

  /**
   * Copies `chunk` in. When `last` is the view ending where the copy starts, returns `last`
   * extended over it (`extended` is true: replace `last`); otherwise a view of the copy alone.
   */
  append(chunk: Uint8Array, last: Uint8Array | undefined): Uint8Array {
    let s = this.slab;
    if (this.used + chunk.length > s.length) {
      let size = s.length === 0 ? FIRST_SLAB : Math.min(s.length * 2, MAX_SLAB);
      while (size < chunk.length) size *= 2;
      s = this.slab = new Uint8Array(size);
      this.used = 0;
    }
    const start = this.used;
    s.set(chunk, start);
    this.used = start + chunk.length;
    this.extended = last !== undefined && last.buffer === s.buffer && last.byteOffset + last.length === s.byteOffset + start;
    return this.extended ? new Uint8Array(s.buffer, last!.byteOffset, last!.length + chunk.length) : s.subarray(start, this.used);
  }
}
