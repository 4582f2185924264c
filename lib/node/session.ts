/**
 * Session: one HTTP/2 server connection on a Node socket. Requests reach the handler as
 * H2Request/H2Response pairs — one Exchange per stream, the single owner of that stream's life.
 *
 * An exchange is released exactly once, in one place ({@link Exchange.release}): when both sides
 * ended, when the stream is reset either way, when the response is complete while the request body
 * is still coming (RST_STREAM NO_ERROR, RFC 9113 §8.1), or when the connection ends. Release
 * fails the request body for its reader (returning its unread flow-control credit), destroys a
 * piped source (a file's descriptor is closed), rejects a pending `pipe`, and drops the sender's
 * record and the scheduler's entry. Every later call on the response is a no-op that returns
 * false; programming errors (bad headers or trailers, writing after `end`) throw UsageError at
 * the call, never later at flush time.
 *
 * Handlers run after the whole batch of events from one read was applied, so a request that was
 * reset in the same read never reaches its handler, and a handler never sees a stream the engine
 * has already closed. A handler that throws or rejects gets a 500 (or RST_STREAM INTERNAL_ERROR
 * once headers went out); a request whose `:path` cannot be a path gets 400 without the handler.
 */
import type { Socket } from 'node:net';
import { ErrorCode } from '../constants.js';
import { StreamClosedError, UsageError } from '../errors.js';
import type { H2Event } from '../events.js';
import type { PriorityFields } from '../frame/types.js';
import { prepareOutbound } from '../headers.js';
import type { HeaderField, HeaderInput } from '../hpack/types.js';
import { closeSource, destroySource } from '../sender/sender.js';
import type { PullSource } from '../sender/source.js';
import { Body } from './body.js';
import { Endpoint, type EndpointOptions, type EndpointStats, timerMs } from './endpoint.js';

/** A request as the handler sees it. */
export interface H2Request {
  readonly streamId: number;
  readonly method: string;
  readonly path: string;
  readonly scheme: string;
  readonly authority: string;
  readonly headers: readonly HeaderField[];
  /** The first value of a header field, or undefined. */
  header(name: string): string | undefined;
  /**
   * The request body; reading it returns flow-control credit to the client. Iterating it throws
   * StreamClosedError when the stream is reset or the connection closes first.
   */
  readonly body: AsyncIterable<Uint8Array>;
  /** Trailers, once the body has been read to its end (if the client sent any). */
  readonly trailers: readonly HeaderField[] | undefined;
  /** RFC 7540 priority fields the HEADERS frame carried, if any (the `priority` header is in `headers`). */
  readonly priorityFields: PriorityFields | undefined;
}

/**
 * The response side, in the spirit of node:http2's `stream.respond()`. Once the stream is gone
 * (reset by the client, the connection closed, or the response complete) every method is a no-op
 * returning false (`pipe` rejects with StreamClosedError and destroys its source).
 */
export interface H2Response {
  /**
   * Sends the status and headers (once). A list answered again and again is best frozen
   * (`Object.freeze` on the list and on each pair, strings only): it is then normalized and
   * checked once, and each connection reuses its HPACK coding while its table is unchanged.
   * @returns false when the stream is already gone.
   * @throws UsageError for a second call or an invalid status or header block.
   */
  respond(status: number, headers?: readonly HeaderInput[]): boolean;
  /**
   * Queues body bytes; false above the high-water mark (wait for `drained()`) or when the stream is gone.
   * @throws UsageError after `end()`.
   */
  write(chunk: Uint8Array | string): boolean;
  /**
   * Resolves once the stream's queue is below the high-water mark again (at once when it is), so
   * a handler writing by hand can wait after `write` returned false.
   * @throws StreamClosedError (rejects) when the stream is gone first.
   */
  drained(): Promise<void>;
  /**
   * Ends the body, optionally with a last chunk and trailers (validated here, at the call).
   * @returns false when the stream is already gone.
   * @throws UsageError for invalid trailers or a second `end()`.
   */
  end(chunk?: Uint8Array | string, trailers?: readonly HeaderInput[]): boolean;
  /**
   * Sends a whole body from a Readable or async iterable, with back-pressure. The source is
   * destroyed when the stream dies first.
   * @throws UsageError (synchronously) for invalid trailers or after `end()`.
   */
  pipe(source: AsyncIterable<Uint8Array | string>, trailers?: readonly HeaderInput[]): Promise<void>;
  /**
   * Sends the rest of the body from a pull source (a file's: `FileSource`, `FileCache`), which
   * hands over octets when the scheduler picks the stream — so the client's priorities hold on
   * files too. The source is closed when the body is sent or the stream dies first (then the
   * promise rejects with StreamClosedError); a source that fails resets the stream.
   * @throws UsageError (synchronously) for invalid trailers or after `end()`.
   */
  sendSource(source: PullSource, trailers?: readonly HeaderInput[]): Promise<void>;
  /** Resets the stream (CANCEL by default); a no-op once it is gone. */
  reset(errorCode?: number): void;
  /** True once the response is complete on our side, or the stream is gone. */
  readonly closed: boolean;
}

export type Handler = (req: H2Request, res: H2Response) => void | Promise<void>;

/**
 * @internal What a wrapper of an exchange (the compatibility layer, `lib/node/compat.ts`) is told
 * about it. Each call comes after the current turn (a microtask), under the connection's guard.
 */
export interface ExchangeWatcher {
  /** `write()` returned false, and the stream's queue has fallen below the sender's high-water mark. */
  drained(): void;
  /** The exchange was released; `complete` when the whole response (END_STREAM or trailers) went to the engine. */
  released(complete: boolean): void;
}

/**
 * @internal Attaches `watcher` to the exchange behind `req` (the same object as its response).
 * @returns the connection's socket (addresses, TLS state).
 * @throws UsageError when `req` is not a request of this server.
 */
export function watchExchange(req: H2Request, watcher: ExchangeWatcher): Socket {
  return Exchange.watch(req, watcher);
}

/** Options of a server session. */
export interface SessionOptions extends EndpointOptions {
  /** Called once when the session ends, with counts for a log line. */
  onClose?: (info: EndpointStats) => void;
  /** Sees every engine event as it happens (logging, tests, priority studies). */
  onEvents?: (events: readonly H2Event[]) => void;
  /**
   * From accept to the client's connection preface and SETTINGS (ms): a connection that has not
   * sent them by then is closed. With TLS the handshake has this long too (Node's
   * `handshakeTimeout`), then the preface as long again. Default 10000; 0 = no deadline.
   */
  handshakeTimeout?: number;
  /**
   * While a handler waits for request body octets and none arrive for this long (ms), the stream
   * is reset (CANCEL) and the body iterator fails with StreamClosedError. Default 30000; 0 = off.
   */
  bodyTimeout?: number;
}

/** Why a stream that ended normally was released (a constant: the common path builds no string). */
const COMPLETE = 'the stream is complete';

const OUTBOUND = { normalize: true, validate: true, splitCookies: false, connectProtocol: false } as const;

/** A body chunk as octets. @throws UsageError for anything but a string or a Uint8Array. */
function asBytes(chunk: unknown): Uint8Array {
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return chunk;
  throw new UsageError(`a body chunk is a string or a Uint8Array, not ${chunk === null ? 'null' : typeof chunk}`);
}

/**
 * A promise already rejected with StreamClosedError, handled here too: a `pipe`/`sendSource`/
 * `drained` nobody awaits must not become an unhandled rejection.
 */
function closedStream(streamId: number): Promise<void> {
  const closed = Promise.reject(new StreamClosedError(`stream ${streamId} is closed`));
  closed.catch(() => undefined);
  return closed;
}

const NO_FIELDS: readonly HeaderInput[] = Object.freeze([]);

/**
 * Response blocks made from a frozen header list, one per list (with the status last used): the
 * same frozen block each time lets the engine prepare it once (see `prepareOutbound`).
 */
const WITH_STATUS = new WeakMap<readonly HeaderInput[], { readonly status: number; readonly block: readonly HeaderInput[] }>();

function responseBlock(status: number, headers: readonly HeaderInput[]): readonly HeaderInput[] {
  // not an array (a caller's mistake): the engine's check says so with a UsageError
  if (!Array.isArray(headers) || !Object.isFrozen(headers)) return [[':status', String(status)], ...headers];
  const known = WITH_STATUS.get(headers);
  if (known !== undefined && known.status === status) return known.block;
  const block: readonly HeaderInput[] = Object.freeze([Object.freeze([':status', String(status)] as const), ...headers]);
  WITH_STATUS.set(headers, { status, block });
  return block;
}

/** A `:path` a server can route: origin-form, or `*` (OPTIONS). */
function routablePath(method: string, path: string): boolean {
  if (method === 'CONNECT') return true;
  if (path === '*') return method === 'OPTIONS';
  return path.charCodeAt(0) === 47 /* '/' */;
}

/**
 * One request and its response. A class, not closures: a busy server makes one per request, and
 * methods on the prototype keep that to a single small object (plus the body, made only when read
 * or when the request has one).
 */
class Exchange implements H2Request, H2Response {
  readonly method: string = '';
  readonly path: string = '';
  readonly scheme: string = '';
  readonly authority: string = '';
  trailers: readonly HeaderField[] | undefined = undefined;
  responded = false;
  /** `end()` or `pipe()` was called: the handler is done writing. */
  ending = false;
  /** Our END_STREAM (or trailers) went to the engine. */
  outboundDone = false;
  /** Released: nothing of the stream remains; every call is a no-op. */
  released = false;
  /** A response to HEAD, or a 204 or 304: body octets are dropped. */
  noBody = false;
  /** Send-stall watch: DATA octets sent at the last check, and since when they have not moved. */
  sentSeen = 0;
  stallSince = 0;
  /** Told of drains and of the release (the compatibility layer), if anyone watches. */
  watcher: ExchangeWatcher | undefined = undefined;
  /** Handlers waiting in `drained()`. */
  drainWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> | undefined = undefined;
  private inbound: Body | undefined;
  private inboundEnded: boolean;
  private inboundError: Error | undefined;

  constructor(private readonly session: Session, readonly streamId: number, readonly headers: readonly HeaderField[], endStream: boolean, readonly priorityFields: PriorityFields | undefined) {
    this.inboundEnded = endStream;
    let host = '';
    for (const [k, v] of headers) {
      if (k.charCodeAt(0) !== 58 /* ':' */) {
        if (k === 'host') host = v;
        continue;
      }
      if (k === ':method') this.method = v;
      else if (k === ':path') this.path = v;
      else if (k === ':scheme') this.scheme = v;
      else if (k === ':authority') this.authority = v;
    }
    if (this.authority === '') this.authority = host;
  }

  get closed(): boolean {
    return this.released || this.outboundDone;
  }

  static watch(req: H2Request, watcher: ExchangeWatcher): Socket {
    if (!(req instanceof Exchange)) throw new UsageError('not a request of an h2sched server');
    req.watcher = watcher;
    return req.session.transport;
  }

  get isInboundEnded(): boolean {
    return this.inboundEnded;
  }

  header(name: string): string | undefined {
    const n = name.toLowerCase();
    for (const [k, v] of this.headers) if (k === n) return v;
    return undefined;
  }

  get body(): Body {
    if (this.inbound === undefined) {
      this.inbound = new Body((n) => this.session.credit(this.streamId, n));
      if (this.inboundError) this.inbound.fail(this.inboundError);
      else if (this.inboundEnded) this.inbound.end();
    }
    return this.inbound;
  }

  /** Since when a reader of the body has been waiting for octets (0: nobody waits). */
  get bodyWaitingSince(): number {
    return this.inbound?.waitingSince ?? 0;
  }

  /** The body deadline counts from `now` (the client could not send until now). */
  restartBodyWait(now: number): void {
    if (this.inbound !== undefined && this.inbound.waitingSince > 0) this.inbound.waitingSince = now;
  }

  /** Request body octets arrived. */
  pushInbound(data: Uint8Array, flowLength: number): void {
    this.body.push(data, flowLength);
  }

  /** The peer ended its side. */
  endInbound(): void {
    this.inboundEnded = true;
    this.inbound?.end();
  }

  respond(status: number, headers: readonly HeaderInput[] = NO_FIELDS): boolean {
    if (this.responded) throw new UsageError('respond() was already called');
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new UsageError(`status ${String(status)} is not a 3-digit integer`);
    // > HTTP/2 removes support for the 101 (Switching Protocols) informational status code.   RFC 9113 §8.6
    if (status === 101) throw new UsageError('101 Switching Protocols does not exist in HTTP/2');
    const informational = status < 200;
    if (this.released) return false;
    this.session.conn.sendHeaders(this.streamId, responseBlock(status, headers));
    if (!informational) {
      this.responded = true;
      // RFC 9110 §9.3.2, §15.3.5, §15.4.5: no content in a response to HEAD, nor in 204 or 304
      this.noBody = this.method === 'HEAD' || status === 204 || status === 304;
    }
    this.session.wake();
    return true;
  }

  drained(): Promise<void> {
    if (this.released) {
      return closedStream(this.streamId);
    }
    const sender = this.session.sender;
    if (sender.queued(this.streamId) < sender.highWaterMark) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => (this.drainWaiters ??= []).push({ resolve, reject }));
    p.catch(() => undefined);
    return p;
  }

  write(chunk: Uint8Array | string): boolean {
    if (this.ending) throw new UsageError('write() after end() or pipe()');
    const bytes = asBytes(chunk);
    if (this.released) return false;
    if (!this.responded) this.respond(200);
    if (this.noBody) return true; // HEAD, 204, 304: the body is dropped
    return this.session.sender.write(this.streamId, bytes);
  }

  end(chunk?: Uint8Array | string, trailers?: readonly HeaderInput[]): boolean {
    if (this.ending) throw new UsageError('end() was already called');
    const bytes = chunk === undefined ? undefined : asBytes(chunk);
    if (trailers !== undefined) prepareOutbound(trailers, 'trailers', OUTBOUND); // throws UsageError now, not at flush
    if (this.released) return false;
    if (!this.responded) this.respond(200);
    this.ending = true;
    const sender = this.session.sender;
    if (bytes !== undefined && bytes.length > 0 && !this.noBody) sender.write(this.streamId, bytes);
    sender.end(this.streamId, trailers);
    return true;
  }

  pipe(source: AsyncIterable<Uint8Array | string>, trailers?: readonly HeaderInput[]): Promise<void> {
    if (typeof (source as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] !== 'function') {
      throw new UsageError('pipe() needs an async iterable: a Readable, an async generator');
    }
    try {
      if (this.ending) throw new UsageError('pipe() after end() or pipe()');
      if (trailers !== undefined) prepareOutbound(trailers, 'trailers', OUTBOUND);
    } catch (e) {
      destroySource(source, undefined); // refused: the source (a file) is not left open
      throw e;
    }
    if (this.released) {
      destroySource(source, undefined);
      return closedStream(this.streamId);
    }
    if (!this.responded) this.respond(200);
    if (this.noBody) {
      destroySource(source, undefined);
      this.end(undefined, trailers);
      return Promise.resolve();
    }
    this.ending = true;
    const piped = this.session.sender.pipe(this.streamId, source, trailers);
    // Handled here whether or not the handler awaits it (a floating pipe must not crash the
    // process): a source that fails leaves a response that cannot complete — reset it.
    piped.then(undefined, () => this.session.pipeFailed(this));
    return piped;
  }

  sendSource(source: PullSource, trailers?: readonly HeaderInput[]): Promise<void> {
    if (typeof (source as Partial<PullSource> | null)?.read !== 'function') throw new UsageError('sendSource() needs a PullSource');
    try {
      if (this.ending) throw new UsageError('sendSource() after end() or pipe()');
      if (trailers !== undefined) prepareOutbound(trailers, 'trailers', OUTBOUND);
    } catch (e) {
      closeSource(source); // refused: the source (a file's descriptor) is not left open
      throw e;
    }
    if (this.released) {
      closeSource(source);
      return closedStream(this.streamId);
    }
    if (!this.responded) this.respond(200);
    if (this.noBody) {
      closeSource(source);
      this.end(undefined, trailers);
      return Promise.resolve();
    }
    this.ending = true;
    const sent = this.session.sender.sendSource(this.streamId, source, trailers);
    sent.then(undefined, () => this.session.pipeFailed(this));
    return sent;
  }

  reset(errorCode: number = ErrorCode.CANCEL): void {
    if (this.released) return;
    this.session.resetExchange(this, errorCode);
  }

  /**
   * The one place a stream ends for the application: the request body fails for its reader and
   * its unread octets are credited back to the connection window, a piped source is destroyed,
   * and the sender forgets the stream. Idempotent.
   */
  release(reason: string): void {
    if (this.released) return;
    this.released = true;
    const waiters = this.drainWaiters;
    if (waiters !== undefined) {
      this.drainWaiters = undefined;
      const e = new StreamClosedError(reason);
      for (const w of waiters) w.reject(e);
    }
    this.session.forget(this);
    if (!this.inboundEnded) {
      this.inboundError = new StreamClosedError(reason);
      const unread = this.inbound?.fail(this.inboundError) ?? 0;
      if (unread > 0) this.session.credit(this.streamId, unread);
    } else if (this.inbound !== undefined) {
      // ended but not read to the end: its octets still hold the connection window
      const unread = this.inbound.releaseCredit();
      if (unread > 0) this.session.credit(this.streamId, unread);
    }
    this.session.sender.release(this.streamId, reason);
    if (this.watcher !== undefined) this.session.notifyReleased(this);
  }
}

function tellReleased(a: { w: ExchangeWatcher; complete: boolean }): void {
  a.w.released(a.complete);
}

/** Octets a stalled response must move within the send deadline to count as progress. */
const PROGRESS = 1024;

export class Session extends Endpoint {
  private readonly exchanges = new Map<number, Exchange>();
  /** Connection-window stall watch: total DATA octets sent at the last look, and since when. */
  private connSentSeen = 0;
  private connStallSince = 0;
  /** Exchanges of the current read, dispatched once the whole batch was applied. */
  private readonly arrived: Exchange[] = [];

  constructor(socket: Socket, private readonly handler: Handler, private readonly options: SessionOptions = {}) {
    super(socket, false, options, 120000);
    this.deadlines.body = timerMs(options.bodyTimeout, 30000);
  }

  /**
   * Starts with the client preface expected (prior knowledge, or TLS with ALPN h2). `acceptedAt`
   * (ms since the epoch, default now) starts the handshake deadline.
   */
  start(initial?: Uint8Array, acceptedAt: number = Date.now()): void {
    const ms = timerMs(this.options.handshakeTimeout, 10000);
    if (ms > 0) this.startDeadline(acceptedAt + ms);
    this.guarded(this.begin, initial);
  }

  private begin(initial: Uint8Array | undefined): void {
    this.conn.initiateConnection();
    this.openConnectionWindow();
    this.flush();
    this.touch();
    if (initial && initial.length > 0) this.receive(initial);
  }

  /** Starts after an HTTP/1.1 `Upgrade: h2c` (the 101 was written): stream 1 is that request. */
  startUpgraded(settingsHeader: string, request: { method: string; path: string; headers: HeaderField[] }, rest?: Uint8Array, acceptedAt: number = Date.now()): void {
    this.conn.initiateUpgradeConnection(settingsHeader);
    const ms = timerMs(this.options.handshakeTimeout, 10000);
    if (ms > 0) this.startDeadline(acceptedAt + ms); // the preface and SETTINGS still have to come
    this.guarded(this.beginUpgraded, { request, rest });
  }

  private beginUpgraded(a: { request: { method: string; path: string; headers: HeaderField[] }; rest: Uint8Array | undefined }): void {
    this.openConnectionWindow();
    this.flush();
    this.touch();
    this.arrive(1, [[':method', a.request.method], [':scheme', 'http'], [':path', a.request.path], ...a.request.headers], true);
    this.dispatchArrived();
    if (a.rest && a.rest.length > 0) this.receive(a.rest);
  }

  protected get exchangeCount(): number {
    return this.exchanges.size;
  }

  protected handleEvents(events: H2Event[]): void {
    if (this.options.onEvents !== undefined) this.options.onEvents(events);
    for (const e of events) {
      switch (e.type) {
        case 'RequestReceived':
          this.arrive(e.streamId, e.headers, e.endStream, e.priority);
          break;
        case 'DataReceived': {
          const x = this.exchanges.get(e.streamId);
          if (x) x.pushInbound(e.data, e.flowControlledLength);
          else this.credit(e.streamId, e.flowControlledLength); // nobody reads it: credit at once
          break;
        }
        case 'TrailersReceived': {
          const x = this.exchanges.get(e.streamId);
          if (x) x.trailers = e.headers;
          break;
        }
        case 'StreamEnded': {
          const x = this.exchanges.get(e.streamId);
          if (x) {
            x.endInbound();
            if (x.outboundDone) x.release(COMPLETE);
          }
          break;
        }
        case 'StreamReset':
          this.exchanges.get(e.streamId)?.release(`stream ${e.streamId} was reset (error code ${e.errorCode})`);
          break;
        case 'ConnectionTerminated':
          if (e.errorCode !== ErrorCode.NO_ERROR) this.terminate(`the client sent GOAWAY with error code ${e.errorCode}`);
          break;
        case 'RemoteSettingsChanged':
          if (this.deadlines.handshakeAt > 0) this.handshakeDone(); // the client's preface and SETTINGS are in
          break;
        default:
          break;
      }
    }
    if (this.arrived.length > 0) this.dispatchArrived();
  }

  private arrive(streamId: number, headers: readonly HeaderField[], endStream: boolean, priorityFields?: PriorityFields): void {
    this.stats.requests++;
    const x = new Exchange(this, streamId, headers, endStream, priorityFields);
    this.exchanges.set(streamId, x);
    this.arrived.push(x);
  }

  /** Runs the handlers of this read's requests that are still alive. */
  private dispatchArrived(): void {
    const batch = this.arrived;
    for (let i = 0; i < batch.length; i++) {
      const x = batch[i]!;
      if (x.released) continue; // reset in the same read: its handler never runs
      if (!routablePath(x.method, x.path)) {
        this.answer(x, 400, 'bad request: :path is not a path\n');
        continue;
      }
      try {
        const r = this.handler(x, x);
        if (r instanceof Promise) r.then(undefined, (e: unknown) => this.guarded(this.handlerFailed, { x, e }));
      } catch (e) {
        this.handlerFailed({ x, e });
      }
    }
    batch.length = 0; // handlers never add to it: requests arrive only while events are handled
    this.watch();
  }

  /** A handler threw or rejected: 500 if nothing went out yet, else RST_STREAM INTERNAL_ERROR. */
  private handlerFailed(a: { x: Exchange; e: unknown }): void {
    const x = a.x;
    if (x.released || x.outboundDone) return;
    if (!x.responded && !x.ending) this.answer(x, 500, 'internal server error\n');
    else this.resetExchange(x, ErrorCode.INTERNAL_ERROR);
  }

  /** A short plain-text answer from the server itself. */
  private answer(x: Exchange, status: number, text: string): void {
    try {
      x.respond(status, [['content-type', 'text/plain; charset=utf-8'], ['content-length', String(text.length)]]);
      x.end(x.method === 'HEAD' ? undefined : text);
    } catch {
      this.resetExchange(x, ErrorCode.INTERNAL_ERROR);
    }
  }

  /** @internal The connection's socket. */
  get transport(): Socket {
    return this.socket;
  }

  protected override onStreamDrain(streamId: number): void {
    const x = this.exchanges.get(streamId);
    if (x === undefined) return;
    const waiters = x.drainWaiters;
    if (waiters !== undefined) {
      x.drainWaiters = undefined;
      for (const w of waiters) w.resolve(); // their code runs after this turn
    }
    if (x.watcher !== undefined) queueMicrotask(() => this.guarded(this.tellDrained, x));
  }

  private tellDrained(x: Exchange): void {
    x.watcher?.drained();
  }

  /** @internal A watched exchange was released: its watcher hears it after this turn, once. */
  notifyReleased(x: Exchange): void {
    const w = x.watcher!;
    x.watcher = undefined;
    const complete = x.outboundDone;
    queueMicrotask(() => this.guarded(tellReleased, { w, complete }));
  }

  /** @internal Something was queued: flush soon. */
  wake(): void {
    this.schedule();
  }

  /** @internal The exchange was released: the session no longer holds it. */
  forget(x: Exchange): void {
    if (this.exchanges.get(x.streamId) === x) this.exchanges.delete(x.streamId);
  }

  /**
   * The per-stream deadlines, checked by the connection's one coarse timer (nothing per frame):
   * a body reader waiting for octets that do not come, a response whose windows the peer keeps
   * at 0. True while any stream is open (a reader may start waiting at any time).
   */
  protected watchStreams(now: number): boolean {
    const { body, send } = this.deadlines;
    if (this.exchanges.size === 0) return false;
    if (body === 0 && send === 0) return false;
    const conn = this.conn;
    const sender = this.sender;
    // The connection window: stalled only while it stays at 0 and no DATA at all moves — when it
    // is 0 because the scheduler gave it to other streams, those streams are moving.
    let connStalled = false;
    if (send > 0) {
      const total = sender.sentTotal;
      if (conn.sendWindow.size > 0 || total - this.connSentSeen >= PROGRESS || this.connStallSince === 0) {
        this.connStallSince = now;
        this.connSentSeen = total;
      } else connStalled = now - this.connStallSince >= send;
    }
    for (const x of [...this.exchanges.values()]) {
      const id = x.streamId;
      const waiting = x.bodyWaitingSince;
      if (body > 0 && waiting > 0) {
        // time counts only while the client may send: our own windows closed is not its stall
        if (conn.recvWindow.current <= 0 || (conn.streams.get(id)?.recv.current ?? 1) <= 0) x.restartBodyWait(now);
        else if (now - waiting >= body) {
          this.resetExchange(x, ErrorCode.CANCEL, `no request body octets for ${body} ms`);
          continue;
        }
      }
      if (send === 0) continue;
      const queued = sender.queued(id);
      if (queued === 0) {
        x.stallSince = 0;
        continue;
      }
      if (connStalled) {
        this.resetExchange(x, ErrorCode.CANCEL, `the connection window stayed at 0 for ${send} ms`);
        continue;
      }
      // progress is at least PROGRESS octets (or what was left): a peer that opens its window an
      // octet at a time to keep a stream (and its file) alive is not making progress
      // An open window with octets on hand is a stream waiting its turn (not stalled); an open
      // window with nothing on hand is our own body source giving nothing (a pull source that
      // never becomes available): that is cut too, with its own reason.
      const sent = sender.sentOctets(id);
      const s = conn.streams.get(id);
      const windowOpen = s !== undefined && s.send.size >= Math.min(PROGRESS, queued);
      if (x.stallSince === 0 || sent - x.sentSeen >= Math.min(PROGRESS, queued) || (windowOpen && sender.onHand(id) > 0)) {
        x.sentSeen = sent;
        x.stallSince = now;
      } else if (now - x.stallSince >= send) {
        this.resetExchange(x, ErrorCode.CANCEL, windowOpen ? `the response body source gave nothing for ${send} ms` : `no flow-control window for ${send} ms`);
      }
    }
    return this.exchanges.size > 0;
  }

  /** @internal A piped body failed on its source's side (not because the stream died): reset it. */
  pipeFailed(x: Exchange): void {
    if (x.released || x.outboundDone) return;
    this.guarded(this.resetInternal, x);
  }

  private resetInternal(x: Exchange): void {
    this.resetExchange(x, ErrorCode.INTERNAL_ERROR);
  }

  /** @internal `res.reset()`, a failure after headers went out, or a deadline (`why`). */
  resetExchange(x: Exchange, code: number, why?: string): void {
    if (x.released) return;
    this.resetLocal(x.streamId, code);
    x.release(`stream ${x.streamId} was reset by the server (error code ${code})${why === undefined ? '' : `: ${why}`}`);
  }

  protected onOutboundDone(streamId: number): void {
    const x = this.exchanges.get(streamId);
    if (x === undefined) return;
    x.outboundDone = true;
    if (x.isInboundEnded) {
      x.release(COMPLETE);
      return;
    }
    // > A server can send a complete response prior to the client sending an entire request ...
    // > a server MAY request that the client abort transmission of a request without error by
    // > sending a RST_STREAM with an error code of NO_ERROR after sending a complete response.
    // RFC 9113 §8.1 — the stream's life is bounded by its response.
    this.resetExchange(x, ErrorCode.NO_ERROR);
  }

  protected onFinish(error?: string): void {
    const reason = `connection closed${error !== undefined ? `: ${error}` : ''}`;
    for (const x of [...this.exchanges.values()]) x.release(reason);
    this.arrived.length = 0;
    this.options.onClose?.({ ...this.stats });
  }
}
