/**
 * A pull source over a byte range of an open file (see `PullSource` in `lib/sender/source.ts`).
 *
 * - `'prefetch'` (the default): positioned reads (`fs.read` at an offset, one in flight) on
 *   libuv's pool, ahead of the stream's window — the sender asks for its window plus a frame,
 *   capped by `maxPrefetch` — so the octets are on hand when the window opens. A stream picked
 *   before its read-ahead arrived (its first frame, mostly) reads that one frame synchronously, so
 *   the scheduler's turns are exact: a stream with octets left in the file is never skipped.
 * - `'async'`: the same read-ahead, never a synchronous read: a stream whose read-ahead is late
 *   is blocked until it arrives and the turn goes to another stream (the event loop never waits
 *   for the disk; the shares drift by what a late stream misses).
 * - `'sync'`: nothing is read ahead; when the stream is picked with nothing on hand, one chunk is
 *   read synchronously (`fs.readSync`, what nghttpd does in C). Exact turns; each chunk's read
 *   blocks the event loop.
 *
 * Read buffers are fresh memory, never reused: the octets handed over go to `socket.write` as
 * views, without a copy, and are freed by the collector once written.
 */
import fs from 'node:fs';
import { takeFront } from '../bytes.js';
import { UsageError } from '../errors.js';
import type { PullSource, PullSourceListener } from '../sender/source.js';

/** Options of {@link FileSource}. */
export interface FileSourceOptions {
  /** `'prefetch'` (default), `'async'` or `'sync'`: see {@link FileSource}. */
  mode?: FileReadMode;
  /** Octets read ahead at most. Default 65536 (the sender's per-stream high-water mark for written bodies). */
  maxPrefetch?: number;
  /** Octets per read. Default 65536. */
  chunkSize?: number;
  /** Called once the source holds nothing (closed, and no read in flight): release the descriptor here. */
  onClose?: () => void;
  /** Positioned reads; node:fs by default (the link simulation passes a simulated disk). */
  io?: FileIO;
}

/** The two positioned reads a {@link FileSource} uses, as node:fs has them. */
export interface FileIO {
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number, callback: (err: NodeJS.ErrnoException | null, bytesRead: number) => void): void;
  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
}

/** How a {@link FileSource} reads. */
export type FileReadMode = 'prefetch' | 'async' | 'sync';

/** The default read-ahead cap of a file source (octets). */
export const DEFAULT_MAX_PREFETCH = 65536;

/** The smallest read: a frame at the default MAX_FRAME_SIZE. */
const MIN_READ = 16384;

/**
 * Read-ahead memory of every file source in the process, against one cap: above it a source
 * reads only when it has nothing on hand, one frame at a time (prefetch mode tops up
 * synchronously anyway), so many slow clients cannot make read-ahead grow without bound.
 */
const processBudget = { held: 0, cap: 67108864 };

/** The default read-ahead cap of all file sources of a process (octets). */
export const DEFAULT_READ_AHEAD: number = 64 * 1024 * 1024;

/** Sets the read-ahead cap of all file sources in the process (octets; default 64 MiB). */
export function setFilePrefetchLimit(octets: number): void {
  processBudget.cap = Math.max(0, octets);
}

/** Octets all file sources of the process hold read ahead now. */
export function filePrefetchHeld(): number {
  return processBudget.held;
}

export class FileSource implements PullSource {
  private readonly fd: number;
  private readonly end: number;
  /** Reads synchronously when picked with nothing on hand (`prefetch` and `sync`). */
  private readonly fallback: boolean;
  /** Reads ahead (`prefetch` and `async`). */
  private readonly ahead: boolean;
  /** Bumped when a synchronous read takes over the range of the read in flight: its result is dropped. */
  private gen = 0;
  private readonly maxPrefetch: number;
  private readonly chunkSize: number;
  private readonly io: FileIO;
  private onClose: (() => void) | undefined;
  /** Next file position to read. */
  private pos: number;
  /** Octets not yet handed over (on hand or still in the file). */
  private left: number;
  /** Octets read and not handed over, in order. */
  private readonly chunks: Uint8Array[] = [];
  private onHand = 0;
  /** What the sender last asked to have on hand. */
  private target = 0;
  private reading = false;
  private closed = false;
  private listener: PullSourceListener | undefined;

  /**
   * @param fd an open descriptor (the source never closes it: `onClose` says when it is free).
   * @param start first octet of the range; @param length octets in the range.
   */
  constructor(fd: number, start: number, length: number, options: FileSourceOptions = {}) {
    for (const [name, v] of [['fd', fd], ['start', start], ['length', length]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new UsageError(`FileSource: ${name} must be a whole number ≥ 0, not ${v}`);
    }
    this.fd = fd;
    this.pos = start;
    this.left = length;
    this.end = start + length;
    const mode = options.mode ?? 'prefetch';
    this.fallback = mode !== 'async';
    this.ahead = mode !== 'sync';
    this.maxPrefetch = Math.max(1, options.maxPrefetch ?? DEFAULT_MAX_PREFETCH);
    this.chunkSize = Math.max(1, options.chunkSize ?? 65536);
    this.onClose = options.onClose;
    this.io = options.io ?? fs;
  }

  get remaining(): number {
    return this.closed ? 0 : this.left;
  }

  get available(): number {
    if (this.closed) return 0;
    return this.fallback ? this.left : this.onHand;
  }

  /** Octets read and not yet handed over (memory this source holds). */
  get buffered(): number {
    return this.onHand;
  }

  start(listener: PullSourceListener): void {
    this.listener = listener;
  }

  read(max: number): Uint8Array {
    if (this.closed) throw new Error('the file source is closed');
    // at most a chunk: a peer's 16 MiB MAX_FRAME_SIZE must not become a 16 MiB synchronous read
    const n = Math.min(max, this.left, this.chunkSize);
    // the read-ahead is short of what the stream may send now: read the rest at once
    if (this.fallback && this.onHand < n) this.readNow(n - this.onHand);
    const want = Math.min(n, this.onHand);
    if (want <= 0) throw new Error('nothing on hand to read');
    this.onHand -= want;
    this.left -= want;
    processBudget.held -= want;
    return takeFront(this.chunks, want); // a frame across read chunks is joined into fresh memory
  }

  prefetch(octets: number): void {
    if (!this.ahead || this.closed) return;
    this.target = Math.min(octets, this.maxPrefetch);
    this.fill();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks.length = 0;
    processBudget.held -= this.onHand;
    this.onHand = 0;
    this.listener = undefined;
    if (!this.reading) this.released();
  }

  private released(): void {
    const f = this.onClose;
    this.onClose = undefined;
    f?.();
  }

  /**
   * Reads synchronously what follows the octets on hand: at least `need` octets (a whole chunk in
   * `sync` mode). A read in flight covers the same range: it is superseded (its result dropped).
   */
  private readNow(need: number): void {
    const from = this.end - this.left + this.onHand;
    if (this.reading) this.gen++;
    this.pos = from;
    // sync mode reads a chunk ahead, unless over the process budget: then only what is needed
    const chunk = this.ahead || processBudget.held >= processBudget.cap ? need : Math.max(need, this.chunkSize);
    const size = Math.min(chunk, this.end - from);
    const buf = Buffer.allocUnsafeSlow(size);
    let got = 0;
    while (got < size) {
      const n = this.io.readSync(this.fd, buf, got, size - got, from + got);
      if (n <= 0) throw new Error(`the file ended ${this.end - from - got} octets early (it changed while being sent)`);
      got += n;
    }
    this.pos = from + size;
    this.onHand += size;
    processBudget.held += size;
    this.chunks.push(buf);
  }

  /** Starts the next positioned read when less than the target is on hand (one read in flight). */
  private fill(): void {
    if (this.reading || this.closed || this.pos >= this.end) return;
    // what is on hand, and what the file still has, against the target
    if (this.onHand >= Math.min(this.target, this.left)) return;
    // reads of what is missing (a frame at least, a chunk at most). Over the process budget none
    // — a stream picked then reads its frame synchronously — except in async mode, where a
    // source with nothing on hand reads one frame (it has no other way to make progress)
    const over = processBudget.held >= processBudget.cap;
    if (over && (this.fallback || this.onHand > 0)) return;
    const size = Math.min(over ? MIN_READ : Math.min(this.chunkSize, Math.max(this.target - this.onHand, MIN_READ)), this.end - this.pos);
    const buf = Buffer.allocUnsafeSlow(size);
    this.reading = true;
    processBudget.held += size; // reserved while in flight: many sources starting at once count too
    const gen = this.gen;
    try {
      this.io.read(this.fd, buf, 0, size, this.pos, (err, n) => this.arrived(err, buf, n, gen));
    } catch (e) {
      // refused at the call (a bad descriptor or position): nothing is in flight
      this.reading = false;
      processBudget.held -= size;
      throw e;
    }
  }

  /** A read's callback (from libuv, outside any caller): nothing escapes it — a failure fails the body. */
  private arrived(err: Error | null, buf: Buffer, n: number, gen: number): void {
    try {
      this.landed(err, buf, n, gen);
    } catch (e) {
      const listener = this.listener;
      this.close();
      try {
        listener?.error(e instanceof Error ? e : new Error(String(e)));
      } catch {
        /* the sender's listener does not throw; nothing more to do if it did */
      }
    }
  }

  private landed(err: Error | null, buf: Buffer, n: number, gen: number): void {
    this.reading = false;
    const kept = this.closed || gen !== this.gen || err !== null || n <= 0 ? 0 : n;
    processBudget.held -= buf.length - kept; // the reservation, less what is kept on hand
    if (this.closed) {
      this.released(); // the descriptor was kept for this read: now it is free
      return;
    }
    if (gen !== this.gen) {
      this.fill(); // a synchronous read took this range over
      return;
    }
    const listener = this.listener;
    if (err !== null || n <= 0) {
      const e = err ?? new Error(`the file ended ${this.end - this.pos} octets early (it changed while being sent)`);
      this.close();
      listener?.error(e);
      return;
    }
    const wasEmpty = this.onHand === 0;
    this.pos += n;
    this.onHand += n;
    this.chunks.push(n === buf.length ? buf : buf.subarray(0, n));
    this.fill();
    if (wasEmpty) listener?.available();
  }
}
