/**
 * Pull-based body sources (the shape of nghttp2's data provider and h2o's generators): instead of
 * pushing chunks into the sender, a source says how many octets it can hand over *now* and hands
 * them over when the scheduler picks its stream, sized to the frame. A source that knows its
 * length (a file) keeps the scheduler's view exact: its stream is ready whenever it has window and
 * octets on hand, and `prefetch` lets it read ahead of the window so that it has them.
 */

/** What a source tells the sender, from its own callbacks (never synchronously from a sender call). */
export interface PullSourceListener {
  /** Octets became available after the sender found none (`available` was 0). */
  available(): void;
  /** Reading failed: the body cannot complete (the sender rejects the send and stops the source). */
  error(e: Error): void;
}

/**
 * A body the sender pulls from. The sender calls `start` once, then `read` when the stream is
 * picked (never more than `available`), `prefetch` whenever the stream's window says how much it
 * may soon take, and `close` exactly once — when the body is complete, the stream dies or the
 * connection ends — after which the source holds nothing (its file descriptor is released).
 */
export interface PullSource {
  /** Octets still to hand over, those on hand included; 0 when the body is complete. */
  readonly remaining: number;
  /** Octets `read` can hand over now, without waiting. */
  readonly available: number;
  /**
   * Octets the source holds in memory (for accounting; `available` when absent). A source that
   * can read synchronously reports more `available` than it holds.
   */
  readonly buffered?: number;
  /** Called once before any other call. */
  start(listener: PullSourceListener): void;
  /**
   * Hands over up to `max` octets (1 ≤ n ≤ min(max, available)). The memory is the sender's from
   * now on: the source never writes into it again (the octets go to the socket without a copy).
   * @throws Error when reading fails (the sender fails the send).
   */
  read(max: number): Uint8Array;
  /**
   * The stream may soon take `octets` (its window and a frame): a source that reads ahead should
   * have min(remaining, octets) on hand — bounded by its own cap — when the window opens.
   */
  prefetch(octets: number): void;
  /** Releases what the source holds; idempotent. */
  close(): void;
}

/** A source over octets already in memory (handy for tests and generated bodies of known size). */
export class BufferSource implements PullSource {
  private offset = 0;
  private closed = false;
  constructor(private readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.closed ? 0 : this.bytes.length - this.offset;
  }

  get available(): number {
    return this.remaining;
  }

  get buffered(): number {
    return this.remaining;
  }

  start(_listener: PullSourceListener): void {}

  read(max: number): Uint8Array {
    const n = Math.min(max, this.remaining);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  prefetch(_octets: number): void {}

  close(): void {
    this.closed = true;
  }
}
