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

interface Exchange {
  readonly req: H2Request & { trailersRef: { value: readonly HeaderField[] | undefined } };
  readonly body: Body;
  responded: boolean;
  closed: boolean;
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
        case 'DataReceived':
          this.exchanges.get(e.streamId)?.body.push(e.data, e.flowControlledLength);
          if (!this.exchanges.has(e.streamId)) this.conn.acknowledgeReceivedData(e.flowControlledLength, e.streamId);
          break;
        case 'TrailersReceived': {
          const x = this.exchanges.get(e.streamId);
          if (x) x.req.trailersRef.value = e.headers;
          break;
        }
        case 'StreamEnded':
          this.exchanges.get(e.streamId)?.body.end();
          break;
        case 'StreamReset': {
          const x = this.exchanges.get(e.streamId);
          if (x) {
            x.closed = true;
            x.body.fail(new H2SchedError(`stream ${e.streamId} was reset (${e.errorCode})`));
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
    const get = (n: string) => headers.find(([k]) => k === n)?.[1];
    const body = new Body((n) => {
      if (this.closed) return;
      try {
        this.conn.acknowledgeReceivedData(n, streamId);
      } catch {
        // the connection went away meanwhile
      }
      this.schedule();
    });
    if (endStream) body.end();
    const trailersRef = { value: undefined as readonly HeaderField[] | undefined };
    const req = {
      streamId, trailersRef, headers, body, priorityFields,
      method: get(':method') ?? '', path: get(':path') ?? '', scheme: get(':scheme') ?? '', authority: get(':authority') ?? get('host') ?? '',
      header: (n: string) => get(n.toLowerCase()),
      get trailers() { return trailersRef.value; },
    };
    const x: Exchange = { req, body, responded: false, closed: false };
    this.exchanges.set(streamId, x);
    const res = this.response(streamId, x);
    try {
      const r = this.handler(req, res);
      if (r instanceof Promise) r.catch(() => this.failStream(streamId, x));
    } catch {
      this.failStream(streamId, x);
    }
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
    try {
      this.conn.resetStream(streamId, code);
      this.sender.handle([{ type: 'StreamReset', streamId, errorCode: code, initiator: 'local' }]);
    } catch {
      /* already closed */
    }
    this.schedule();
  }

  private response(streamId: number, x: Exchange): H2Response {
    const session = this;
    const bytes = (c: Uint8Array | string) => (typeof c === 'string' ? Buffer.from(c) : c);
    return {
      get closed() { return x.closed; },
      respond(status, headers = []) {
        if (x.responded) throw new H2SchedError('respond() was already called');
        x.responded = true;
        session.conn.sendHeaders(streamId, [[':status', String(status)], ...headers]);
        session.schedule();
      },
      write(chunk) {
        if (!x.responded) this.respond(200);
        return session.sender.write(streamId, bytes(chunk));
      },
      end(chunk, trailers) {
        if (!x.responded) this.respond(200);
        if (chunk !== undefined && (typeof chunk === 'string' ? chunk.length : chunk.length) > 0) session.sender.write(streamId, bytes(chunk));
        session.sender.end(streamId, trailers);
        x.closed = true;
        session.exchanges.delete(streamId);
      },
      async pipe(source, trailers) {
        if (!x.responded) this.respond(200);
        await session.sender.pipe(streamId, source, trailers);
        x.closed = true;
        session.exchanges.delete(streamId);
      },
      reset(code = ErrorCode.CANCEL) {
        session.resetStream(streamId, x, code);
      },
    };
  }

  protected onFinish(): void {
    for (const x of this.exchanges.values()) x.body.fail(new H2SchedError('connection closed'));
    this.exchanges.clear();
    this.options.onClose?.({ ...this.stats });
  }
}
