/**
 * An inbound message body as an async iterable of chunks. Each chunk's flow-controlled length is
 * acknowledged (so the peer may send more) only when the consumer takes the chunk: a slow reader
 * holds the peer back instead of growing our memory.
 */
export class Body implements AsyncIterable<Uint8Array> {
  private readonly chunks: Array<[Uint8Array, number]> = [];
  private ended = false;
  private failed: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly ack: (n: number) => void) {}

  push(data: Uint8Array, flowLength: number): void {
    this.chunks.push([data, flowLength]);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  fail(e: Error): void {
    if (this.ended) return;
    this.failed = e;
    this.wake?.();
  }

  /** Every remaining chunk concatenated. */
  async bytes(): Promise<Buffer> {
    const parts: Uint8Array[] = [];
    for await (const c of this) parts.push(c);
    return Buffer.concat(parts);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const next = this.chunks.shift();
      if (next !== undefined) {
        this.ack(next[1]);
        yield next[0];
        continue;
      }
      if (this.failed) throw this.failed;
      if (this.ended) return;
      await new Promise<void>((r) => { this.wake = r; });
      this.wake = undefined;
    }
  }
}
