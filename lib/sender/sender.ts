/**
 * Sender: binds an H2Connection to a SendScheduler and does what python h2 leaves to its users —
 * it queues body bytes per stream, splits them into DATA frames that fit min(connection window,
 * stream window, peer MAX_FRAME_SIZE), decides with the scheduler which stream gets window and
 * send slots next, follows WINDOW_UPDATE and SETTINGS changes, and stops at the engine's
 * outbound high-water mark so that priorities are decided close to the wire. A client's requests
 * wait for a free stream slot instead of failing at MAX_CONCURRENT_STREAMS.
 *
 * A stream is ready (unblocked in the scheduler) when it has bytes queued and stream window > 0,
 * or when it only has its end (END_STREAM or trailers) left to send, which needs no window.
 *
 * The sender owns each stream's outbound record until the stream ends or dies, and never brings
 * one back: `write`/`end` on a stream the engine can no longer send on throw UsageError at the
 * call; a reset, `release()` or the connection's end drops the queue, destroys a piped source
 * (a file's descriptor is closed) and rejects the pending `pipe` with StreamClosedError.
 */
import { ErrorCode, SettingId } from '../constants.js';
import { takeFront } from '../bytes.js';
import { SlabAppender, SMALL_CHUNK } from '../slab.js';
import { StreamClosedError, UsageError } from '../errors.js';
import type { H2Event } from '../events.js';
import type { H2Connection, SendHeadersOptions } from '../connection/connection.js';
import { ConnectionState } from '../connection/state.js';
import { StreamState } from '../stream/state.js';
import type { H2Stream } from '../stream/stream.js';
import type { HeaderInput } from '../hpack/types.js';
import { createScheduler, type SchedulerOptions } from '../priority/index.js';
import type { SchedulerName, SendScheduler } from '../priority/scheduler.js';
import { parsePriorityField, type PrioritySignal } from '../priority/signal.js';
import type { PullSource, PullSourceListener } from './source.js';

/** Options of {@link Sender}. */
export interface SenderOptions {
  /** A scheduler, or its name. Default `'tree'`. */
  scheduler?: SchedulerName | SendScheduler;
  /** Limits of a scheduler created by name (the tree's defaults are raised to fit MAX_CONCURRENT_STREAMS). */
  schedulerOptions?: SchedulerOptions;
  /** Queued octets per stream above which `write` returns false (back-pressure). Default 65536. */
  highWaterMark?: number;
  /** Called when a stream's queue drained below the high-water mark after `write` returned false. */
  onDrain?: (streamId: number) => void;
  /** Called when there is something new to flush (bytes queued, a window opened). */
  onWritable?: () => void;
  /**
   * Called when a stream's end (END_STREAM or trailers) was handed to the connection: our side of
   * it is finished. Not called for streams dropped by a reset or `release`. It runs inside
   * `flush()`: record the id and act after flush returns.
   */
  onStreamDone?: (streamId: number) => void;
}

/** What can be stopped: a Node Readable (destroy) or any async iterator (return). */
interface Source {
  readonly source: AsyncIterable<unknown>;
  readonly iterator: AsyncIterator<unknown>;
  /** Rejects the pending `pipe`. */
  stop(e: Error): void;
  /** Set once the pipe failed or the stream died: later callbacks of the source do nothing. */
  error: Error | undefined;
  /** Resumes a `pipe` waiting for the queue to drain. */
  wake: (() => void) | undefined;
}

/** A pull source attached with `sendSource`. */
interface Pulled {
  readonly source: PullSource;
  resolve(): void;
  reject(e: Error): void;
  /** Set once the send failed or the stream died: later callbacks of the source do nothing. */
  failed: Error | undefined;
}

interface OutStream {
  readonly id: number;
  chunks: Uint8Array[];
  queued: number;
  /** `end` was called: END_STREAM (or trailers) goes out once the queue drains. */
  ending: boolean;
  trailers: readonly HeaderInput[] | undefined;
  /** Our side is finished (END_STREAM sent) or the stream is gone. */
  done: boolean;
  ready: boolean;
  /** `write` returned false: tell onDrain when the queue falls below the mark. */
  full: boolean;
  /** The body being piped, if any: stopped when the stream dies. */
  pipe: Source | undefined;
  /** The pull source the rest of the body comes from (after the queue), if any. */
  src: Pulled | undefined;
  /** Where small chunks are copied, made on the first one. */
  slabs: SlabAppender | undefined;
  /** DATA octets handed to the connection so far (progress, for send deadlines). */
  sent: number;
}

interface PendingRequest {
  readonly headers: readonly HeaderInput[];
  readonly options: SendHeadersOptions;
  readonly signal: PrioritySignal | undefined;
  resolve(id: number): void;
  reject(e: Error): void;
}

export class Sender {
  readonly conn: H2Connection;
  readonly scheduler: SendScheduler;
  readonly highWaterMark: number;
  private readonly streams: Map<number, OutStream>;
  private readonly pending: PendingRequest[];
  private readonly onDrain: ((id: number) => void) | undefined;
  private readonly onWritable: (() => void) | undefined;
  private readonly onStreamDone: ((id: number) => void) | undefined;
  private totalSent: number;

  constructor(conn: H2Connection, options: SenderOptions = {}) {
    this.conn = conn;
    const s = options.scheduler ?? 'tree';
    // room for the streams the peer may open (our MAX_CONCURRENT_STREAMS) and our own
    const mcs = conn.o.settings.find(([id]) => id === SettingId.MAX_CONCURRENT_STREAMS)?.[1] ?? 100;
    this.scheduler = typeof s === 'string'
      ? createScheduler(s, { maxStreams: Math.max(1000, 2 * mcs + 16), ...options.schedulerOptions })
      : s;
    this.highWaterMark = options.highWaterMark ?? 65536;
    this.streams = new Map();
    this.pending = [];
    this.onDrain = options.onDrain;
    this.onWritable = options.onWritable;
    this.onStreamDone = options.onStreamDone;
    this.totalSent = 0;
  }

  /**
   * Octets `streamId` still has to hand to the connection: its queue, plus what its pull source
   * has left (on hand or not).
   */
  queued(streamId: number): number {
    const st = this.streams.get(streamId);
    if (st === undefined) return 0;
    return st.src === undefined ? st.queued : st.queued + peekCount(st.src.source, 'remaining');
  }

  /** Octets `streamId` could hand to the connection now: its queue and what its pull source has available. */
  onHand(streamId: number): number {
    const st = this.streams.get(streamId);
    if (st === undefined) return 0;
    return st.src === undefined ? st.queued : st.queued + peekCount(st.src.source, 'available');
  }

  /** DATA octets handed to the connection so far, all streams (progress of the connection). */
  get sentTotal(): number {
    return this.totalSent;
  }

  /** DATA octets of `streamId` handed to the connection so far (0 once the stream is gone). */
  sentOctets(streamId: number): number {
    return this.streams.get(streamId)?.sent ?? 0;
  }

  /** Octets in memory for all streams and not yet handed to the connection (queues and what pull sources have on hand). */
  get queuedTotal(): number {
    let n = 0;
    for (const st of this.streams.values()) n += st.src === undefined ? st.queued : st.queued + peekCount(st.src.source, 'buffered');
    return n;
  }

  /** Streams with an outbound record (queued bytes, a pending end, or a piped source). */
  get size(): number {
    return this.streams.size;
  }

  /** Requests waiting for a stream slot (client side). */
  get waitingRequests(): number {
    return this.pending.length;
  }

  /**
   * Feeds the events of `conn.receiveData()` (call it before the application handles them):
   * priority signals go to the scheduler, window changes unblock streams, resets drop queues.
   */
  handle(events: readonly H2Event[]): void {
    let reevaluateAll = false;
    for (const e of events) {
      switch (e.type) {
        case 'RequestReceived': {
          this.track(e.streamId, e.priority ? { scheme: 'rfc7540', ...e.priority } : undefined);
          const prio = e.headers.find(([n]) => n === 'priority');
          if (prio) this.scheduler.update(e.streamId, parsePriorityField(prio[1]));
          break;
        }
        case 'PriorityUpdated':
          this.scheduler.update(e.streamId, { scheme: 'rfc7540', dependsOn: e.dependsOn, weight: e.weight, exclusive: e.exclusive });
          break;
        case 'PriorityUpdateReceived':
          this.scheduler.update(e.prioritizedStreamId, parsePriorityField(e.fieldValue));
          break;
        case 'WindowUpdated':
          if (e.streamId === 0) reevaluateAll = true;
          else {
            const st = this.streams.get(e.streamId);
            this.reevaluate(st);
            if (st?.src !== undefined) this.prefetch(st);
          }
          break;
        case 'RemoteSettingsChanged':
          if (e.changedSettings.has(SettingId.INITIAL_WINDOW_SIZE)) reevaluateAll = true;
          if (e.changedSettings.get(SettingId.NO_RFC7540_PRIORITIES)?.newValue === 1) this.scheduler.ignoreRfc7540 = true;
          break;
        case 'StreamReset':
          this.drop(e.streamId, `stream ${e.streamId} was reset (error code ${e.errorCode})`);
          break;
        case 'ConnectionTerminated':
          if (e.errorCode !== ErrorCode.NO_ERROR) this.releaseAll(`the connection failed (GOAWAY error code ${e.errorCode})`);
          for (const p of this.pending.splice(0)) p.reject(new StreamClosedError('the connection is going away (GOAWAY)'));
          break;
        default:
          break;
      }
    }
    if (reevaluateAll) for (const st of this.streams.values()) this.reevaluate(st);
    this.openPending();
    if (reevaluateAll) this.onWritable?.();
  }

  /**
   * Queues body bytes. A chunk is kept as a view (do not change it afterwards), except a small
   * one (≤ 1 KiB) queued behind others, which is copied into a per-stream slab.
   * @returns false when the stream's queue is at or above the high-water mark: wait for onDrain.
   */
  write(streamId: number, chunk: Uint8Array): boolean {
    if (!(chunk instanceof Uint8Array)) throw new UsageError('a body chunk is a Uint8Array (or a Buffer)');
    const st = this.writable(streamId);
    if (chunk.length > 0) {
      const n = st.chunks.length;
      if (chunk.length <= SMALL_CHUNK && n > 0) {
        // queued behind others: copied into a slab, so many small writes cost octets, not an
        // array entry each (the first chunk stays a view: a tiny response is not copied)
        const slabs = (st.slabs ??= new SlabAppender());
        const view = slabs.append(chunk, n > 0 ? st.chunks[n - 1] : undefined);
        if (slabs.extended) st.chunks[n - 1] = view;
        else st.chunks.push(view);
      } else st.chunks.push(chunk);
      st.queued += chunk.length;
      this.reevaluate(st);
      this.onWritable?.();
    }
    const ok = st.queued < this.highWaterMark;
    if (!ok) st.full = true;
    return ok;
  }

  /** Ends the stream once its queue drains: with END_STREAM on the last DATA, or with trailers. */
  end(streamId: number, trailers?: readonly HeaderInput[]): void {
    const st = this.writable(streamId);
    st.ending = true;
    st.trailers = trailers;
    this.reevaluate(st);
    this.onWritable?.();
  }

  /**
   * Sends a whole body from an async iterable of chunks — a Node Readable is one — honouring
   * back-pressure: reading pauses while the stream's queue is above the high-water mark. Ends
   * the stream (with `trailers` if given) after the last chunk. When the stream dies first (reset,
   * `release`, the connection's end) the source is destroyed at once — a Readable with
   * `destroy()`, any other iterator with `return()` — and the promise rejects.
   * @throws UsageError (rejects) when the stream cannot send or is already ending or piping.
   * @throws StreamClosedError (rejects) when the stream dies before the body is sent.
   */
  pipe(streamId: number, source: AsyncIterable<Uint8Array | string>, trailers?: readonly HeaderInput[]): Promise<void> {
    let st: OutStream;
    let iterator: AsyncIterator<Uint8Array | string>;
    try {
      st = this.writable(streamId);
      if (st.pipe !== undefined || st.src !== undefined) throw new UsageError(`stream ${streamId} is already sending a body`);
      if (typeof (source as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] !== 'function') {
        throw new UsageError('pipe() needs an async iterable: a Readable, an async generator');
      }
      iterator = source[Symbol.asyncIterator]();
    } catch (e) {
      destroySource(source, undefined);
      return Promise.reject(e);
    }
    // Driven by callbacks, not a loop of awaits: `drop` settles the promise the moment the stream
    // dies (a source stuck in an await cannot hold it), and a chunk costs one `then`.
    return new Promise<void>((resolve, reject) => {
      const p: Source = { source, iterator, stop: reject, wake: undefined, error: undefined };
      st.pipe = p;
      const fail = (e: unknown): void => {
        if (p.error !== undefined) return; // dropped already: settled there
        p.error = e instanceof Error ? e : new UsageError(`the piped source failed: ${String(e)}`);
        if (st.pipe === p) st.pipe = undefined;
        destroySource(source, iterator);
        reject(p.error);
      };
      const onResult = (r: IteratorResult<Uint8Array | string>): void => {
        if (p.error !== undefined) return;
        try {
          if (r.done) {
            st.pipe = undefined;
            this.end(streamId, trailers);
            resolve();
            return;
          }
          const v: unknown = r.value;
          const bytes = typeof v === 'string' ? Buffer.from(v) : v;
          if (!(bytes instanceof Uint8Array)) throw new UsageError(`the piped source yielded a ${typeof v}, not bytes or a string`);
          if (this.write(streamId, bytes)) pull();
          else p.wake = pull; // flush() calls it once the queue drains
        } catch (e) {
          fail(e);
        }
      };
      const pull = (): void => {
        if (p.error !== undefined) return;
        try {
          Promise.resolve(iterator.next()).then(onResult, fail);
        } catch (e) {
          fail(e);
        }
      };
      pull();
    });
  }

  /**
   * Sends the rest of the body from a pull source (after whatever `write` queued), then ends the
   * stream (with `trailers` if given). The scheduler sees the stream ready whenever it has window
   * and the source has octets on hand; `prefetch` asks the source to read ahead by the stream's
   * window plus a frame, so a file's octets are on hand when the window opens. The source is
   * closed exactly once: when its last octet is handed over, or when the stream dies first (reset,
   * `release`, the connection's end — then the promise rejects with StreamClosedError).
   * @throws UsageError (rejects) when the stream cannot send or is already ending or sending a body.
   * @throws Error (rejects) when the source fails; the stream cannot complete then (reset it).
   */
  sendSource(streamId: number, source: PullSource, trailers?: readonly HeaderInput[]): Promise<void> {
    let st: OutStream;
    try {
      st = this.writable(streamId);
      if (st.pipe !== undefined || st.src !== undefined) throw new UsageError(`stream ${streamId} is already sending a body`);
    } catch (e) {
      closeSource(source);
      return Promise.reject(e);
    }
    return new Promise<void>((resolve, reject) => {
      const stream = st;
      const p: Pulled = { source, resolve, reject, failed: undefined };
      // the source's callbacks come from its own I/O: they act only while it is still attached,
      // and nothing they cause escapes (a failure fails this send)
      const listener: PullSourceListener = {
        available: () => {
          if (p.failed !== undefined || stream.src !== p) return;
          try {
            this.reevaluate(stream);
            this.onWritable?.();
          } catch (e) {
            this.failSource(stream, e);
          }
        },
        error: (e: Error) => {
          if (p.failed === undefined && stream.src === p) this.failSource(stream, e);
        },
      };
      st.src = p;
      st.ending = true;
      st.trailers = trailers;
      try {
        source.start(listener);
        this.prefetch(st);
      } catch (e) {
        this.failSource(st, e);
        return;
      }
      this.reevaluate(st);
      this.onWritable?.();
    });
  }

  /**
   * Forgets a stream's outbound side now: its queue is dropped, a piped source destroyed and its
   * `pipe` rejected with StreamClosedError(`reason`), its scheduler entry removed. Nothing is sent
   * (reset the stream on the connection first if the peer must know). No-op for unknown streams.
   */
  release(streamId: number, reason = `stream ${streamId} was released`): void {
    this.drop(streamId, reason);
  }

  /** Releases every stream and rejects every waiting request: the connection is gone. */
  releaseAll(reason: string): void {
    for (const id of [...this.streams.keys()]) this.drop(id, reason);
    for (const p of this.pending.splice(0)) p.reject(new StreamClosedError(reason));
  }

  /**
   * A client request: sends its HEADERS now if the peer allows another stream, else when a slot
   * frees. Resolves to the stream id once HEADERS went out; then `write` and `end` its body.
   */
  request(headers: readonly HeaderInput[], options: SendHeadersOptions & { signal?: PrioritySignal } = {}): Promise<number> {
    if (!this.conn.clientSide) return Promise.reject(new UsageError('only a client sends requests'));
    return new Promise((resolve, reject) => {
      this.pending.push({ headers, options, signal: options.signal, resolve, reject });
      this.openPending();
    });
  }

  /**
   * Moves DATA into the connection, frame by frame, in scheduler order, until nothing is ready,
   * the connection window is spent, `budget` octets moved, or the outbound buffer is full.
   * @returns the DATA octets moved.
   */
  flush(budget: number = Number.POSITIVE_INFINITY): number {
    let moved = 0;
    const conn = this.conn;
    // a connection that failed (our GOAWAY after a ConnectionError) or closed takes no more DATA
    if (conn.state === ConnectionState.CLOSED) return 0;
    while (moved < budget && !conn.outboundBufferFull) {
      const id = this.scheduler.peek();
      if (id === null) break;
      const st = this.streams.get(id);
      if (st === undefined || st.done) {
        this.scheduler.remove(id);
        continue;
      }
      const s = conn.streams.get(id);
      if (s === undefined || !canSend(s)) {
        // the engine closed it without an event reaching us: never send on it again
        this.drop(id, `stream ${id} is closed`);
        continue;
      }
      const src = st.src;
      if (st.queued === 0) {
        if (src === undefined) {
          if (st.ending) this.finish(st);
          else this.setReady(st, false);
          continue;
        }
        const remaining = this.count(st, src, 'remaining');
        if (st.src !== src) continue; // its getter threw: the send failed
        if (remaining <= 0) {
          this.sourceDone(st, src); // an empty source: the end goes out on the next turn
          continue;
        }
        const available = this.count(st, src, 'available');
        if (st.src !== src) continue;
        if (available <= 0) {
          this.setReady(st, false); // its read-ahead is late: `available()` puts it back
          continue;
        }
      }
      const window = Math.min(conn.sendWindow.size, s.send.size);
      if (window <= 0) {
        if (conn.sendWindow.size <= 0) break; // the connection is blocked: everyone waits for stream 0
        this.setReady(st, false);
        continue;
      }
      let data: Uint8Array;
      if (st.queued > 0) data = this.take(st, Math.min(window, conn.maxOutboundFrameSize, st.queued, budget - moved));
      else {
        const available = this.count(st, src!, 'available');
        if (st.src !== src) continue;
        const max = Math.min(window, conn.maxOutboundFrameSize, available, budget - moved);
        try {
          data = src!.source.read(max);
          if (!(data instanceof Uint8Array) || data.length === 0 || data.length > max) {
            throw new UsageError(`the pull source handed over ${data instanceof Uint8Array ? `${data.length} octets` : 'no bytes'} when asked for 1 to ${max}`);
          }
        } catch (e) {
          this.failSource(st, e);
          continue;
        }
      }
      const n = data.length;
      const left = src === undefined ? 0 : this.count(st, src, 'remaining');
      if (src !== undefined && st.src !== src) continue; // failed: the owner resets the stream
      const last = st.ending && st.trailers === undefined && st.queued === 0 && left === 0;
      conn.sendData(id, data, { endStream: last });
      st.sent += n;
      this.totalSent += n;
      this.scheduler.charge(id, n);
      moved += n;
      if (src !== undefined && st.src === src) {
        if (left <= 0) this.sourceDone(st, src);
        else this.prefetch(st);
      }
      if (last) {
        this.close(st);
        this.onStreamDone?.(id);
      } else this.reevaluate(st);
      if (st.full && st.queued < this.highWaterMark) {
        st.full = false;
        this.onDrain?.(id);
        const w = st.pipe?.wake;
        if (w !== undefined) {
          st.pipe!.wake = undefined;
          queueMicrotask(w); // the source's code runs after this flush, not inside it
        }
      }
    }
    this.openPending();
    return moved;
  }

  private track(id: number, signal: PrioritySignal | undefined): OutStream {
    let st = this.streams.get(id);
    if (st === undefined) {
      st = { id, chunks: [], queued: 0, ending: false, trailers: undefined, done: false, ready: false, full: false, pipe: undefined, src: undefined, slabs: undefined, sent: 0 };
      this.streams.set(id, st);
      this.scheduler.add(id, signal);
    }
    return st;
  }

  /**
   * The record of a stream we may still send body on, created on first use — but only while the
   * engine can send on the stream: a stream that closed is never brought back.
   */
  private writable(id: number): OutStream {
    const st = this.streams.get(id);
    if (st !== undefined) {
      if (st.ending) throw new UsageError(`stream ${id} was already ended`);
      return st;
    }
    const s = this.conn.streams.get(id);
    if (s === undefined || !canSend(s)) throw new UsageError(`stream ${id} is closed for sending`);
    return this.track(id, undefined);
  }

  /**
   * Ready = has octets on hand (queued, or a pull source's) and stream window, or only its end
   * left to send (a pull source with nothing left counts: flush completes it).
   */
  private reevaluate(st: OutStream | undefined): void {
    if (st === undefined || st.done) return;
    const p = st.src;
    const remaining = p === undefined ? 0 : this.count(st, p, 'remaining');
    if (p !== undefined && st.src !== p) return; // its getter threw: the send failed
    let ready = st.ending && st.queued === 0 && remaining <= 0;
    if (!ready && (st.queued > 0 || (p !== undefined && this.count(st, p, 'available') > 0 && st.src === p))) {
      // the stream's own window decides; a spent connection window only pauses flush()
      const s = this.conn.streams.get(st.id);
      ready = s !== undefined && s.send.size > 0;
    }
    this.setReady(st, ready);
  }

  /** A pull source's count; a getter that throws fails the send (and counts as 0). */
  private count(st: OutStream, p: Pulled, key: 'available' | 'remaining'): number {
    try {
      const n = p.source[key];
      return typeof n === 'number' && n > 0 ? n : 0;
    } catch (e) {
      if (st.src === p) this.failSource(st, e);
      return 0;
    }
  }

  /** Asks the stream's pull source to have its window and a frame on hand. */
  private prefetch(st: OutStream): void {
    const src = st.src;
    const s = this.conn.streams.get(st.id);
    if (src === undefined || s === undefined) return;
    try {
      // a stream the peer gives no window reads nothing ahead (it could not send it anyway)
      src.source.prefetch(s.send.size > 0 ? Math.max(s.send.size, this.conn.remoteSettings.initialWindowSize) + this.conn.maxOutboundFrameSize : 0);
    } catch (e) {
      this.failSource(st, e);
    }
  }

  /** The pull source handed over its last octet: close it and settle its send. */
  private sourceDone(st: OutStream, p: Pulled): void {
    st.src = undefined;
    closeSource(p.source);
    p.resolve();
    this.reevaluate(st);
  }

  /**
   * The pull source failed: the body cannot complete, so the stream must not end as if it had.
   * The sender forgets the stream (nothing more goes out on it) and the send rejects — the owner
   * resets the stream.
   */
  private failSource(st: OutStream, e: unknown): void {
    const p = st.src;
    if (p === undefined || p.failed !== undefined) return;
    p.failed = e instanceof Error ? e : new UsageError(`the pull source failed: ${String(e)}`);
    st.src = undefined;
    st.chunks = [];
    st.queued = 0;
    if (!st.done) this.close(st);
    closeSource(p.source);
    p.reject(p.failed);
  }

  private setReady(st: OutStream, ready: boolean): void {
    if (st.ready === ready) return;
    st.ready = ready;
    if (ready) this.scheduler.unblock(st.id);
    else this.scheduler.block(st.id);
  }

  /** Removes `n` octets from the head of the queue: a view when they lie in one chunk. */
  private take(st: OutStream, n: number): Uint8Array {
    st.queued -= n;
    return takeFront(st.chunks, n);
  }

  private finish(st: OutStream): void {
    if (st.trailers !== undefined) this.conn.sendHeaders(st.id, st.trailers, { endStream: true });
    else this.conn.endStream(st.id);
    this.close(st);
    this.onStreamDone?.(st.id);
  }

  private close(st: OutStream): void {
    st.done = true;
    this.streams.delete(st.id);
    this.scheduler.remove(st.id);
  }

  private drop(id: number, reason: string): void {
    const st = this.streams.get(id);
    if (st === undefined) return;
    st.chunks = [];
    st.queued = 0;
    this.close(st);
    const p = st.pipe;
    if (p !== undefined) {
      st.pipe = undefined;
      p.error = new StreamClosedError(reason);
      destroySource(p.source, p.iterator);
      p.stop(p.error);
    }
    const q = st.src;
    if (q !== undefined) {
      st.src = undefined;
      q.failed = new StreamClosedError(reason);
      closeSource(q.source);
      q.reject(q.failed);
    }
  }

  private openPending(): void {
    while (this.pending.length > 0 && this.conn.openOutboundStreams < this.conn.remoteSettings.maxConcurrentStreams) {
      const p = this.pending.shift()!;
      try {
        const id = this.conn.getNextAvailableStreamId();
        this.conn.sendHeaders(id, p.headers, p.options);
        if (p.options.endStream !== true) this.track(id, p.signal ?? fieldsSignal(p.options.priority));
        p.resolve(id);
      } catch (e) {
        p.reject(e as Error);
      }
    }
  }
}

/** Our side may still send body on the stream (open, or half-closed by the peer). */
function canSend(s: H2Stream): boolean {
  return s.state === StreamState.OPEN || s.state === StreamState.HALF_CLOSED_REMOTE;
}

/**
 * Stops a body source we will not read to its end (a Readable's `destroy()` closes its file; any
 * other iterator gets `return()`); whatever it throws stays here.
 */
export function destroySource(source: AsyncIterable<unknown>, iterator: AsyncIterator<unknown> | undefined): void {
  try {
    const d = (source as { destroy?: unknown }).destroy;
    if (typeof d === 'function') {
      d.call(source);
      return;
    }
    const r = iterator?.return?.();
    if (r !== undefined) r.then(undefined, () => undefined);
  } catch {
    /* a source that fails to stop has nothing more we can do */
  }
}

/** A pull source's count for statistics: 0 when its getter throws (the flush fails the send). */
function peekCount(source: PullSource, key: 'available' | 'remaining' | 'buffered'): number {
  try {
    const n = key === 'buffered' ? source.buffered ?? source.available : source[key];
    return typeof n === 'number' && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** Closes a pull source; whatever it throws stays here. */
export function closeSource(source: PullSource): void {
  try {
    source.close();
  } catch {
    /* nothing more we can do */
  }
}

function fieldsSignal(p: SendHeadersOptions['priority']): PrioritySignal | undefined {
  if (p === undefined) return undefined;
  return { scheme: 'rfc7540', dependsOn: p.dependsOn ?? 0, weight: p.weight ?? 16, exclusive: p.exclusive === true };
}
