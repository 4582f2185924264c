// Pull sources (Sender.sendSource): the sender asks a source for octets when the scheduler picks
// its stream, sized to the frame; the source is closed exactly once; a stream is ready only when
// it has window and octets on hand; failures never end a stream as if its body were complete.
import fc from 'fast-check';
import { StreamClosedError, UsageError } from '../../lib/errors.js';
import { BufferSource, type PullSource, type PullSourceListener } from '../../lib/sender/source.js';
import { GET, senderPair } from './helpers.js';

/** A source whose octets arrive when the test says (a disk that is late), recording every call. */
class LateSource implements PullSource {
  listener: PullSourceListener | undefined;
  onHand = 0;
  left: number;
  closes = 0;
  prefetches: number[] = [];
  reads: number[] = [];
  failNextRead: Error | undefined;
  constructor(readonly total: number) {
    this.left = total;
  }
  get remaining(): number { return this.left; }
  get available(): number { return this.onHand; }
  start(l: PullSourceListener): void { this.listener = l; }
  read(max: number): Uint8Array {
    if (this.failNextRead) throw this.failNextRead;
    const n = Math.min(max, this.onHand);
    this.reads.push(n);
    this.onHand -= n;
    this.left -= n;
    return Buffer.alloc(n, 0x61);
  }
  prefetch(octets: number): void { this.prefetches.push(octets); }
  close(): void { this.closes++; }
  /** `n` more octets arrive from the "disk". */
  arrive(n: number): void {
    const was = this.onHand;
    this.onHand = Math.min(this.left, this.onHand + n);
    if (was === 0) this.listener?.available();
  }
}

function open(p: ReturnType<typeof senderPair>, id = 1): void {
  p.pump();
  p.client.sendHeaders(id, GET(`/${id}`), { endStream: true });
  p.pump();
  p.server.sendHeaders(id, [[':status', '200']]);
}

describe('Sender.sendSource', () => {
  it('sends a source\'s octets after what write() queued, with END_STREAM on the last DATA frame, and closes it once', async () => {
    const p = senderPair();
    open(p);
    const bytes = Buffer.from(Array.from({ length: 70000 }, (_, i) => i % 251));
    const src = new BufferSource(bytes);
    const close = jest.spyOn(src, 'close');
    p.sender.write(1, Buffer.from('head:'));
    const done = p.sender.sendSource(1, src);
    p.pump();
    await expect(done).resolves.toBeUndefined();
    expect(p.body(1).equals(Buffer.concat([Buffer.from('head:'), bytes]))).toBe(true);
    expect(p.data.at(-1)!.endStream).toBe(true);
    expect(p.data.filter((d) => d.length === 0)).toEqual([]); // no empty frame just to end it
    expect(close).toHaveBeenCalledTimes(1);
    expect(p.sender.size).toBe(0);
  });

  it('ends with trailers after the source when trailers are given', async () => {
    const p = senderPair();
    open(p);
    const done = p.sender.sendSource(1, new BufferSource(Buffer.alloc(100, 1)), [['x-checksum', 'abc']]);
    p.pump();
    await done;
    const trailers = p.clientEvents.find((e) => e.type === 'TrailersReceived');
    expect(trailers).toMatchObject({ headers: [['x-checksum', 'abc']] });
    expect(p.data.every((d) => !d.endStream)).toBe(true);
  });

  it('an empty source ends the stream', async () => {
    const p = senderPair();
    open(p);
    const done = p.sender.sendSource(1, new BufferSource(Buffer.alloc(0)));
    p.pump();
    await done;
    expect(p.clientEvents.some((e) => e.type === 'StreamEnded' && e.streamId === 1)).toBe(true);
  });

  it('a stream whose source has nothing on hand is not ready; the source\'s available() puts it back', async () => {
    const p = senderPair();
    open(p);
    const src = new LateSource(40000);
    const done = p.sender.sendSource(1, src);
    p.pump();
    expect(p.data).toEqual([]);
    expect(p.sender.scheduler.peek()).toBeNull(); // blocked: nothing on hand
    // asks for its window and a frame ahead (RFC 9113 §6.9.2: 65,535 initial)
    expect(src.prefetches[0]).toBe(65535 + 16384);
    expect(p.sender.queued(1)).toBe(40000); // what it still owes, for the send deadlines
    src.arrive(10000);
    expect(p.sender.scheduler.peek()).toBe(1);
    p.pump();
    expect(src.reads).toEqual([10000]);
    src.arrive(30000);
    p.pump();
    await done;
    expect(p.body(1).length).toBe(40000);
    expect(src.closes).toBe(1);
  });

  it('reads are sized to min(frame, windows, on hand) and never above what the source has on hand', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 200000 }), fc.integer({ min: 1000, max: 70000 }), fc.array(fc.integer({ min: 1, max: 50000 }), { maxLength: 30 }),
      (total, win, arrivals) => {
        const p = senderPair({ localSettings: { initialWindowSize: win } });
        open(p);
        const src = new LateSource(total);
        void p.sender.sendSource(1, src).catch(() => undefined);
        for (const a of [...arrivals, total]) {
          src.arrive(a);
          p.pump();
        }
        expect(p.body(1).length).toBe(total);
        expect(p.windowViolations).toEqual([]);
        for (const n of src.reads) expect(n).toBeGreaterThan(0);
        for (const d of p.data) expect(d.length).toBeLessThanOrEqual(Math.min(16384, win));
        expect(src.closes).toBe(1);
      },
    ), { numRuns: 100 });
  });

  it('a reset closes the source at once and rejects with StreamClosedError; its later available() does nothing', async () => {
    const p = senderPair();
    open(p);
    const src = new LateSource(100000);
    const done = p.sender.sendSource(1, src);
    p.client.resetStream(1);
    p.pump();
    await expect(done).rejects.toBeInstanceOf(StreamClosedError);
    expect(src.closes).toBe(1);
    src.arrive(1000);
    p.pump();
    expect(p.data).toEqual([]);
    expect(p.sender.size).toBe(0);
  });

  it('release() and releaseAll() close the source once', async () => {
    const p = senderPair();
    open(p);
    const a = new LateSource(10);
    const da = p.sender.sendSource(1, a);
    p.sender.release(1);
    p.sender.releaseAll('gone');
    await expect(da).rejects.toBeInstanceOf(StreamClosedError);
    expect(a.closes).toBe(1);
  });

  it('a source whose read throws fails the send: the source is closed, the stream is not ended as if complete', async () => {
    const p = senderPair();
    open(p);
    const src = new LateSource(50000);
    const done = p.sender.sendSource(1, src);
    src.arrive(20000);
    p.pump();
    const sent = p.body(1).length;
    src.failNextRead = new Error('EIO');
    src.arrive(1);
    // 20,000 of the 65,535-octet window went out: the next pick reads, and the read fails
    p.pump();
    await expect(done).rejects.toThrow('EIO');
    expect(src.closes).toBe(1);
    expect(p.clientEvents.some((e) => e.type === 'StreamEnded')).toBe(false);
    expect(p.body(1).length).toBe(sent);
    expect(p.sender.size).toBe(0); // the owner resets the stream
  });

  it('a source that reports an error through its listener fails the send the same way', async () => {
    const p = senderPair();
    open(p);
    const src = new LateSource(50000);
    const done = p.sender.sendSource(1, src);
    src.listener!.error(new Error('the file changed'));
    await expect(done).rejects.toThrow('the file changed');
    expect(src.closes).toBe(1);
    src.listener!.error(new Error('again')); // a second report changes nothing
    expect(src.closes).toBe(1);
  });

  it('a source that hands over nothing or too much fails with UsageError instead of corrupting the windows', async () => {
    for (const bad of [() => Buffer.alloc(0), (max: number) => Buffer.alloc(max + 1), () => 'text' as unknown as Uint8Array]) {
      const p = senderPair();
      open(p);
      const src = new BufferSource(Buffer.alloc(1000));
      src.read = bad;
      const done = p.sender.sendSource(1, src);
      p.pump();
      await expect(done).rejects.toBeInstanceOf(UsageError);
      expect(p.windowViolations).toEqual([]);
      expect(p.data).toEqual([]);
    }
  });

  it('refuses a closed stream, a second body and write() after it, closing the refused source', async () => {
    const p = senderPair();
    open(p);
    const first = new LateSource(10);
    void p.sender.sendSource(1, first).catch(() => undefined);
    const second = new BufferSource(Buffer.alloc(5));
    const close = jest.spyOn(second, 'close');
    await expect(p.sender.sendSource(1, second)).rejects.toBeInstanceOf(UsageError);
    expect(close).toHaveBeenCalledTimes(1);
    expect(() => p.sender.write(1, Buffer.alloc(1))).toThrow(UsageError);
    const third = new BufferSource(Buffer.alloc(5));
    await expect(p.sender.sendSource(99, third)).rejects.toBeInstanceOf(UsageError);
    expect(first.closes).toBe(0);
  });

  it('asks for more read-ahead when the window opens', () => {
    const p = senderPair({ localSettings: { initialWindowSize: 1000 } });
    open(p);
    p.setAcknowledge(false);
    const src = new LateSource(100000);
    void p.sender.sendSource(1, src).catch(() => undefined);
    src.arrive(5000);
    p.pump();
    const before = src.prefetches.length;
    p.client.incrementFlowControlWindow(50000, 1);
    p.pump();
    expect(src.prefetches.length).toBeGreaterThan(before);
    expect(Math.max(...src.prefetches.slice(before))).toBeGreaterThanOrEqual(16384 + 1000);
  });
});

describe('Sender.sendSource: found by the review (issue 13)', () => {
  it('6. a source whose `available` or `remaining` getter throws fails its own send only; a sibling stream completes', async () => {
    for (const key of ['available', 'remaining'] as const) {
      const p = senderPair();
      open(p, 1);
      p.client.sendHeaders(3, GET('/3'), { endStream: true });
      p.pump();
      p.server.sendHeaders(3, [[':status', '200']]);
      const bad = new LateSource(50_000);
      bad.arrive(50_000);
      const bodyOk = Buffer.alloc(40_000, 7);
      const good = p.sender.sendSource(3, new BufferSource(bodyOk));
      const failed = p.sender.sendSource(1, bad);
      Object.defineProperty(bad, key, { get: () => { throw new Error(`${key} broke`); } });
      p.pump();
      await expect(failed).rejects.toThrow(`${key} broke`);
      await good;
      expect(p.body(3).equals(bodyOk)).toBe(true);
      expect(bad.closes).toBe(1);
      expect(p.clientEvents.some((e) => e.type === 'ConnectionTerminated')).toBe(false);
    }
  });

  it('4. a stream the peer gives no window is asked to read nothing ahead', () => {
    const p = senderPair({ localSettings: { initialWindowSize: 0 } });
    open(p);
    const src = new LateSource(1_000_000);
    void p.sender.sendSource(1, src).catch(() => undefined);
    p.pump();
    expect(src.prefetches.length).toBeGreaterThan(0);
    expect(Math.max(...src.prefetches)).toBe(0);
    p.client.incrementFlowControlWindow(10_000, 1);
    p.pump();
    expect(src.prefetches.at(-1)).toBeGreaterThan(10_000);
  });

  it('14. the octets counted as held in memory are what a source holds (`buffered`), not what it could read', () => {
    const p = senderPair();
    open(p);
    const src = new LateSource(5_000_000);
    Object.defineProperty(src, 'available', { get: () => 5_000_000 });
    Object.defineProperty(src, 'buffered', { get: () => 1234 });
    void p.sender.sendSource(1, src).catch(() => undefined);
    expect(p.sender.queuedTotal).toBe(1234);
    expect(p.sender.queued(1)).toBe(5_000_000);
  });
});
