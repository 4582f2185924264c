/**
 * Session: one HTTP/2 server connection on a Node socket. Reads feed the engine, the sender
 * schedules response bodies, writes respect the socket's back-pressure ('drain'). Requests reach
 * the handler as H2Request/H2Response pairs (request bodies are async iterables whose consumption
 * opens the peer's flow-control window). Timeouts close an idle connection and one whose peer
 * never acknowledges our SETTINGS; `shutdown()` drains gracefully (GOAWAY, then close once the
 * last stream ends). Errors stay inside the connection.
 */
import type { Socket } from 'node:net';
import { ErrorCode } from '../constants.js';
import { H2SchedError } from '../errors.js';
import type { H2Event } from '../events.js';
import type { PriorityFields } from '../frame/types.js';
import type { HeaderField, HeaderInput } from '../hpack/types.js';
import { Body } from './body.js';
import { Endpoint, type EndpointOptions, type EndpointStats } from './endpoint.js';

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
  /** The request body; reading it returns flow-control credit to the client. */
  readonly body: AsyncIterable<Uint8Array>;
  /** Trailers, once the body has been read to its end (if the client sent any). */
  readonly trailers: readonly HeaderField[] | undefined;
  /** RFC 7540 priority fields the HEADERS frame carried, if any (the `priority` header is in `headers`). */
  readonly priorityFields: PriorityFields | undefined;
}

/** The response side, in the spirit of node:http2's `stream.respond()`. */
export interface H2Response {
  /** Sends the status and headers (once). */
  respond(status: number, headers?: readonly HeaderInput[]): void;
  /** Queues body bytes; false above the high-water mark (wait for `drained()`). */
  write(chunk: Uint8Array | string): boolean;
  /** Ends the body, optionally with a last chunk and trailers. */
  end(chunk?: Uint8Array | string, trailers?: readonly HeaderInput[]): void;
  /** Sends a whole body from a Readable or async iterable, with back-pressure. */
  pipe(source: AsyncIterable<Uint8Array | string>, trailers?: readonly HeaderInput[]): Promise<void>;
  /** Resets the stream. */
  reset(errorCode?: number): void;
  /** True once the stream is finished or reset. */
  readonly closed: boolean;
}

export type Handler = (req: H2Request, res: H2Response) => void | Promise<void>;

/** Options of a server session. */
export interface SessionOptions extends EndpointOptions {
  /** Called once when the session ends, with counts for a log line. */
  onClose?: (info: EndpointStats) => void;
  /** Sees every engine event as it happens (logging, tests, priority studies). */
  onEvents?: (events: readonly H2Event[]) => void;
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
  closed = false;
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

  /** The peer ended its side. */
  endInbound(): void {
    this.inboundEnded = true;
    this.inbound?.end();
  }

  failInbound(e: Error): void {
    if (!this.inboundEnded) this.inboundError = e;
    this.inbound?.fail(e);
  }

  respond(status: number, headers: readonly HeaderInput[] = []): void {
    if (this.responded) throw new H2SchedError('respond() was already called');
    this.responded = true;
    this.session.conn.sendHeaders(this.streamId, [[':status', String(status)], ...headers]);
    this.session.wake();
  }

  write(chunk: Uint8Array | string): boolean {
    if (!this.responded) this.respond(200);
    return this.session.sender.write(this.streamId, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }

  end(chunk?: Uint8Array | string, trailers?: readonly HeaderInput[]): void {
    if (!this.responded) this.respond(200);
    if (chunk !== undefined && chunk.length > 0) this.session.sender.write(this.streamId, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    this.session.sender.end(this.streamId, trailers);
    this.closed = true;
    this.session.done(this);
  }

  async pipe(source: AsyncIterable<Uint8Array | string>, trailers?: readonly HeaderInput[]): Promise<void> {
    if (!this.responded) this.respond(200);
    await this.session.sender.pipe(this.streamId, source, trailers);
    this.closed = true;
    this.session.done(this);
  }

  reset(errorCode: number = ErrorCode.CANCEL): void {
    this.session.resetExchange(this, errorCode);
  }
}

export class Session extends Endpoint {
  private readonly exchanges = new Map<number, Exchange>();

  constructor(socket: Socket, private readonly handler: Handler, private readonly options: SessionOptions = {}) {
    super(socket, false, options, 120000);
  }

  /** Starts with the client preface expected (prior knowledge, or TLS with ALPN h2). */
  start(initial?: Uint8Array): void {
    this.conn.initiateConnection();
    this.flush();
    this.touch();
    if (initial && initial.length > 0) this.onData(initial);
  }

  /** Starts after an HTTP/1.1 `Upgrade: h2c` (the 101 was written): stream 1 is that request. */
  startUpgraded(settingsHeader: string, request: { method: string; path: string; headers: HeaderField[] }, rest?: Uint8Array): void {
    this.conn.initiateUpgradeConnection(settingsHeader);
    this.flush();
    this.touch();
    this.dispatch(1, [[':method', request.method], [':scheme', 'http'], [':path', request.path], ...request.headers], true);
    if (rest && rest.length > 0) this.onData(rest);
  }

  protected handleEvents(events: H2Event[]): void {
    this.options.onEvents?.(events);
    for (const e of events) {
      switch (e.type) {
        case 'RequestReceived':
          this.dispatch(e.streamId, e.headers, e.endStream, e.priority);
          break;
        case 'DataReceived': {
          const x = this.exchanges.get(e.streamId);
          if (x) x.body.push(e.data, e.flowControlledLength);
          else this.conn.acknowledgeReceivedData(e.flowControlledLength, e.streamId); // nobody reads it: credit at once
          break;
        }
        case 'TrailersReceived': {
          const x = this.exchanges.get(e.streamId);
          if (x) x.trailers = e.headers;
          break;
        }
        case 'StreamEnded':
          this.exchanges.get(e.streamId)?.endInbound();
          break;
        case 'StreamReset': {
          const x = this.exchanges.get(e.streamId);
          if (x) {
            x.closed = true;
            x.failInbound(new H2SchedError(`stream ${e.streamId} was reset (${e.errorCode})`));
            this.exchanges.delete(e.streamId);
          }
          break;
        }
        case 'ConnectionTerminated':
          if (e.errorCode !== ErrorCode.NO_ERROR) this.socket.end();
          break;
        default:
          break;
      }
    }
  }

  private dispatch(streamId: number, headers: readonly HeaderField[], endStream: boolean, priorityFields?: PriorityFields): void {
    this.stats.requests++;
    const x = new Exchange(this, streamId, headers, endStream, priorityFields);
    this.exchanges.set(streamId, x);
    try {
      const r = this.handler(x, x);
      if (r instanceof Promise) r.catch(() => this.failStream(streamId, x));
    } catch {
      this.failStream(streamId, x);
    }
  }

  /** @internal Something was queued: flush soon. */
  wake(): void {
    this.schedule();
  }

  /** @internal The response is complete on our side. */
  done(x: Exchange): void {
    if (this.exchanges.get(x.streamId) === x) this.exchanges.delete(x.streamId);
  }

  /** @internal `res.reset()`. */
  resetExchange(x: Exchange, code: number): void {
    this.resetStream(x.streamId, x, code);
  }

  private failStream(streamId: number, x: Exchange): void {
    if (x.closed) return;
    if (!x.responded) {
      try {
        this.conn.sendHeaders(streamId, [[':status', '500']], { endStream: true });
        x.closed = true;
      } catch {
        /* the stream is gone */
      }
    } else {
      this.resetStream(streamId, x, ErrorCode.INTERNAL_ERROR);
    }
    this.schedule();
  }

  private resetStream(streamId: number, x: Exchange, code: number): void {
    if (x.closed) return;
    x.closed = true;
    this.exchanges.delete(streamId);
    this.resetLocal(streamId, code);
  }

  protected onFinish(): void {
    for (const x of this.exchanges.values()) x.failInbound(new H2SchedError('connection closed'));
    this.exchanges.clear();
    this.options.onClose?.({ ...this.stats });
  }
}
