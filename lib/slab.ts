/**
 * Small-chunk slabs for body queues (the sender's and a request body's): many tiny chunks cost
 * octets, not an object each. Kept out of bytes.ts, whose helpers sit on the codec's hot paths.
 */
import { EMPTY } from './bytes.js';

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
