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

/**
 * Removes the first `n` octets from a queue of chunks (`n` ≤ what it holds) and returns them: a
 * view when they lie in the head chunk, else joined into fresh memory.
 */
export function takeFront(chunks: Uint8Array[], n: number): Uint8Array {
  const head = chunks[0]!;
  if (head.length > n) {
    chunks[0] = head.subarray(n);
    return head.subarray(0, n);
  }
  if (head.length === n) {
    chunks.shift();
    return head;
  }
  const out = Buffer.allocUnsafe(n);
  let at = 0;
  while (at < n) {
    const c = chunks[0]!;
    const k = Math.min(c.length, n - at);
    out.set(k === c.length ? c : c.subarray(0, k), at);
    at += k;
    if (k === c.length) chunks.shift();
    else chunks[0] = c.subarray(k);
  }
  return out;
}

/** The byte string (latin1) of some octets. */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Whether a string is a byte string: one char per octet, none above 0xFF. */
export function isByteString(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/**
 * Octets of a string: a string of chars ≤ 0xFF is taken as a byte string (latin1); a string
 * with any char above 0xFF is UTF-8 encoded, so nothing is silently mangled.
 */
export function toBytes(s: string): Buffer {
  return Buffer.from(s, isByteString(s) ? 'latin1' : 'utf8');
}

/** The byte string of a string or octets (see {@link toBytes}). */
export function toByteString(v: string | Uint8Array): string {
  if (typeof v !== 'string') return latin1(v);
  return isByteString(v) ? v : Buffer.from(v, 'utf8').toString('latin1');
}

/** Lowercase hex of some octets (tests, logs). */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
