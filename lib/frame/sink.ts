/**
 * FrameSink: where the encoder writes. Frame headers and small payloads go into a shared slab
 * (no allocation per frame); large payloads such as DATA are kept as views, not copied.
 * Consecutive slab writes are merged into one piece, so a burst of control frames is one
 * contiguous array. `take()` hands the pieces over in order.
 */
const SLAB_SIZE = 16384;

export class FrameSink {
  /** Queued byte views, in wire order. */
  pieces: Uint8Array[];
  /** Total octets queued. */
  length: number;
  private slab: Uint8Array;
  private used: number;
  /** True when the last piece is a slab view ending at `used` (so it can be extended). */
  private tailInSlab: boolean;

  constructor() {
    this.pieces = [];
    this.length = 0;
    this.slab = new Uint8Array(SLAB_SIZE);
    this.used = 0;
    this.tailInSlab = false;
  }

  /** Reserves `n` octets at the end of the output and returns them for writing. */
  alloc(n: number): Uint8Array {
    if (n > SLAB_SIZE >>> 2) {
      const own = new Uint8Array(n);
      this.push(own);
      return own;
    }
    if (this.used + n > SLAB_SIZE) {
      this.slab = new Uint8Array(SLAB_SIZE);
      this.used = 0;
      this.tailInSlab = false;
    }
    const start = this.used;
    this.used += n;
    this.length += n;
    if (this.tailInSlab) {
      const last = this.pieces.length - 1;
      const prev = this.pieces[last]!;
      this.pieces[last] = this.slab.subarray(start - prev.length, this.used);
    } else {
      this.pieces.push(this.slab.subarray(start, this.used));
      this.tailInSlab = true;
    }
    return this.slab.subarray(start, this.used);
  }

  /**
   * Appends `n` zero octets (padding). They come from the slab like every frame header, never
   * from a shared array of zeros: bytes handed to the caller are never handed to anyone else.
   */
  zeros(n: number): void {
    if (n > 0) this.alloc(n); // slab octets are written once, so fresh ones are zero
  }

  /** Appends a copy of `bytes` (for constants such as the client preface). */
  copy(bytes: Uint8Array): void {
    this.alloc(bytes.length).set(bytes);
  }

  /**
   * True when `view` lies in the current slab: octets no other sink and no later call hands out
   * (a slab region is written once and never reused).
   */
  owns(view: Uint8Array): boolean {
    return view.buffer === this.slab.buffer;
  }

  /** Appends a view (not copied: the caller must not change it afterwards). */
  push(view: Uint8Array): void {
    if (view.length === 0) return;
    this.pieces.push(view);
    this.length += view.length;
    this.tailInSlab = false;
  }

  /** Removes and returns every queued piece. */
  take(): Uint8Array[] {
    const out = this.pieces;
    this.pieces = [];
    this.length = 0;
    this.tailInSlab = false;
    return out;
  }
}
