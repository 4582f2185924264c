import { SlabAppender, SMALL_CHUNK } from '../slab.js';
import { UsageError } from '../errors.js';

/** A chunk kept as a view pins at most this many times its octets (else it is copied). */
const PIN_RATIO = 4;

/**
 * An inbound message body as an async iterable of chunks. Each chunk's flow-controlled length is
 * acknowledged (so the peer may send more) only when the consumer takes the chunk: a slow reader
 * holds the peer back instead of growing our memory. When the stream dies, `fail` (or
 * `releaseCredit`) hands back the octets nobody acknowledged, so the owner can return them to the
 * connection window at once.
 */
export class Body implements AsyncIterable<Uint8Array> {
  private chunks: Array<[Uint8Array, number]> = [];
  private ended = false;
  private failed: Error | undefined;
  private wake: (() => void) | undefined;
  private reading = false;
  /** When the reader began waiting for octets that have not come (ms since the epoch); 0 = not waiting. */
  waitingSince = 0;
  /**
   * Small chunks are copied into slabs: a peer's 1-octet DATA frames cost octets, not objects.
   * Larger ones are kept as views only when they are at least a quarter of the buffer under them.
   */
  private slabs: SlabAppender | undefined;

  constructor(private readonly ack: (n: number) => void) {}

  push(data: Uint8Array, flowLength: number): void {
    if (this.failed !== undefined || data.length === 0) {
      // nobody will read it, or there is nothing to read (an empty or padding-only DATA frame
      // wakes no reader: it is not body octets)
      if (flowLength > 0) this.ack(flowLength);
      return;
    }
    if (data.length <= SMALL_CHUNK) {
      const slabs = (this.slabs ??= new SlabAppender());
      const last = this.chunks.length > 0 ? this.chunks[this.chunks.length - 1] : undefined;
      const view = slabs.append(data, last?.[0]);
      if (slabs.extended) {
        last![0] = view;
        last![1] += flowLength;
      } else this.chunks.push([view, flowLength]);
    } else if (data.buffer.byteLength > PIN_RATIO * data.length) {
      // a view would pin the whole read it was cut from (a peer can make that 64 KiB per 1,025
      // octets of window): a copy, so a body holds at most PIN_RATIO times what the windows let
      // in. Full 16 KiB frames from 64 KiB reads — an upload's usual shape — stay views.
      const copy = Buffer.allocUnsafeSlow(data.length);
      copy.set(data);
      this.chunks.push([copy, flowLength]);
    } else this.chunks.push([data, flowLength]);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  /**
   * The stream died before the body ended: the reader gets `e`. Unread chunks are dropped.
   * @returns the flow-controlled octets of the dropped chunks (not acknowledged yet).
   */
  fail(e: Error): number {
    if (this.ended || this.failed !== undefined) return this.releaseCredit();
    this.failed = e;
    const n = this.releaseCredit();
    this.chunks = [];
    this.wake?.();
    return n;
  }

  /**
   * The stream is gone but a complete body may still be read: its unread chunks stay readable,
   * and their flow-controlled octets are handed back now (reading them later acknowledges nothing).
   */
  releaseCredit(): number {
    let n = 0;
    for (const c of this.chunks) {
      n += c[1];
      c[1] = 0;
    }
    return n;
  }

  /** Every remaining chunk concatenated. */
  async bytes(): Promise<Buffer> {
    const parts: Uint8Array[] = [];
    for await (const c of this) parts.push(c);
    return Buffer.concat(parts);
  }

  /**
   * One reader at a time: a second iterator while the first is still reading would take chunks
   * away from it. A plain iterator object, not a generator: a chunk that is there is handed over
   * without another promise layer.
   * @throws UsageError
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.reading) throw new UsageError('the body is already being read');
    this.reading = true;
    const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
    const finish = (): Promise<IteratorResult<Uint8Array>> => {
      this.reading = false;
      return Promise.resolve(done);
    };
    const next = (): Promise<IteratorResult<Uint8Array>> => {
      const c = this.chunks.shift();
      if (c !== undefined) {
        if (c[1] > 0) this.ack(c[1]);
        return Promise.resolve({ done: false, value: c[0] });
      }
      if (this.failed !== undefined) {
        this.reading = false;
        return Promise.reject(this.failed);
      }
      if (this.ended) return finish();
      this.waitingSince = Date.now();
      return new Promise<void>((r) => { this.wake = r; }).then(() => {
        this.wake = undefined;
        this.waitingSince = 0;
        return next();
      });
    };
    return { next, return: finish };
  }
}
