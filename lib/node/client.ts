/**
 * Client entry on Node sockets: `connect(url)` opens h2c with prior knowledge (`http:`) or TLS
 * with ALPN h2 (`https:`); `request()` sends a request with an optional priority signal (RFC 7540
 * fields on HEADERS, or an RFC 9218 `priority` header) and resolves with the response once its
 * headers arrive. Request bodies go through the sender (scheduled, flow-controlled, with
 * back-pressure); response bodies are async iterables that return flow-control credit as they are
 * read. Used by the interop tests and the benches.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ErrorCode } from '../constants.js';
import { H2SchedError, StreamClosedError, UsageError } from '../errors.js';
import type { H2Event } from '../events.js';
import type { PriorityFields } from '../frame/types.js';
import type { HeaderField, HeaderInput } from '../hpack/types.js';
import { formatPriorityField, type PrioritySignal } from '../priority/signal.js';
import { Body } from './body.js';
import { connectionWindowOf, Endpoint, type EndpointOptions } from './endpoint.js';

/** Options of {@link connect}. */
export interface H2ClientOptions extends EndpointOptions {
  /** Extra TLS options for `https:` URLs (e.g. `ca`, or `rejectUnauthorized: false` for self-signed test servers). ALPN is always `h2`. */
  tls?: tls.ConnectionOptions;
  /** Give up connecting after this long (ms). Default 10000. */
  connectTimeout?: number;
}

/** What to request. */
export interface H2RequestInit {
  /** Default `GET`. */
  method?: string;
  /** Path and query. Default `/`. */
  path?: string;
  /** Regular header fields (lower-case names). */
  headers?: readonly HeaderInput[];
  /** The request body; none means END_STREAM on HEADERS. */
  body?: Uint8Array | string | AsyncIterable<Uint8Array | string>;
  /** Trailers after the body. */
  trailers?: readonly HeaderInput[];
  /**
   * Priority signal: RFC 7540 fields go on the HEADERS frame; RFC 9218 parameters go in a
   * `priority` header field. Our own scheduler uses it for the request body too.
   */
  priority?: PrioritySignal;
}

/** A response whose headers arrived; the body streams. */
export interface H2ClientResponse {
  readonly streamId: number;
  readonly status: number;
  readonly headers: readonly HeaderField[];
  /** The first value of a header field, or undefined. */
  header(name: string): string | undefined;
  /** Informational (1xx) responses that came first. */
  readonly informational: ReadonlyArray<readonly HeaderField[]>;
  /** The body; reading it returns flow-control credit to the server. */
  readonly body: AsyncIterable<Uint8Array>;
  /** The whole body. */
  bytes(): Promise<Buffer>;
  /** The whole body as UTF-8. */
  text(): Promise<string>;
  /** Trailers, once the body has been read to its end (if the server sent any). */
  readonly trailers: readonly HeaderField[] | undefined;
  /** Cancels the stream (RST_STREAM, CANCEL by default). */
  cancel(errorCode?: number): void;
}

interface Pending {
  resolve: (r: H2ClientResponse) => void;
  reject: (e: Error) => void;
  body: Body;
  informational: HeaderField[][];
  trailers: readonly HeaderField[] | undefined;
  response: H2ClientResponse | undefined;
}

/** Opens a connection and waits until the socket is ready (TLS handshake done, ALPN h2 agreed). */
export async function connect(url: string | URL, options: H2ClientOptions = {}): Promise<H2Client> {
  connectionWindowOf(options.connectionWindow); // a bad value fails before connecting
  const u = typeof url === 'string' ? new URL(url) : url;
  const secure = u.protocol === 'https:';
  if (!secure && u.protocol !== 'http:') throw new UsageError(`unsupported scheme ${u.protocol}`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || (secure ? 443 : 80));
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s: net.Socket = secure
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...options.tls, ALPNProtocols: ['h2'] }, () => resolve(s))
      : net.connect({ host, port }, () => resolve(s));
    s.setTimeout(options.connectTimeout ?? 10000, () => s.destroy(new H2SchedError(`connecting to ${u.host} timed out`)));
    s.once('error', (e) => reject(e instanceof H2SchedError ? e : new H2SchedError(`cannot connect to ${u.host}: ${e.message}`)));
  });
  socket.setTimeout(0);
  if (secure && (socket as tls.TLSSocket).alpnProtocol !== 'h2') {
    socket.destroy();
    throw new H2SchedError(`${u.host} did not agree to h2 in ALPN`);
  }
  socket.removeAllListeners('error');
  return new H2Client(socket, `${secure ? 'https' : 'http'}`, u.host, options);
}

/** One HTTP/2 client connection. Create it with {@link connect}. */
export class H2Client extends Endpoint {
  private readonly exchanges = new Map<number, Pending>();
  private readonly pings = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  private pingCount = 0;
  private readonly closedWaiters: Array<() => void> = [];
  private error: string | undefined;

  constructor(socket: net.Socket, private readonly scheme: string, private readonly authority: string, options: H2ClientOptions = {}) {
    super(socket, true, { ...options, connection: { ...options.connection, localSettings: { enablePush: false, ...options.connection?.localSettings } } }, 0);
    this.conn.initiateConnection();
    this.openConnectionWindow();
    this.flush();
  }

  /** Sends a request; resolves when the final response headers arrive. */
  async request(init: H2RequestInit = {}): Promise<H2ClientResponse> {
    if (this.closed) throw new H2SchedError('the connection is closed');
    const headers: HeaderInput[] = [
      [':method', init.method ?? 'GET'], [':scheme', this.scheme], [':authority', this.authority], [':path', init.path ?? '/'],
      ...(init.headers ?? []),
    ];
    const p = init.priority;
    let fields: Partial<PriorityFields> | undefined;
    if (p?.scheme === 'rfc7540') fields = { dependsOn: p.dependsOn, weight: p.weight, exclusive: p.exclusive };
    else if (p?.scheme === 'rfc9218') {
      const value = formatPriorityField(p);
      if (value !== '') headers.push(['priority', value]);
    }
    const body = init.body;
    const endStream = body === undefined && init.trailers === undefined;
    const id = await this.sender.request(headers, { endStream, priority: fields, signal: p });
    if (this.closed) throw new StreamClosedError('the connection closed before the request went out');
    this.stats.requests++;
    const x: Pending = {
      resolve: () => undefined, reject: () => undefined, informational: [], trailers: undefined, response: undefined,
      body: new Body((n) => this.credit(id, n)),
    };
    const answer = new Promise<H2ClientResponse>((resolve, reject) => {
      x.resolve = resolve;
      x.reject = reject;
    });
    answer.catch(() => undefined); // a failure before anyone awaits is not unhandled
    this.exchanges.set(id, x);
    if (!endStream) {
      if (body === undefined) this.sender.end(id, init.trailers);
      else if (typeof body === 'string' || body instanceof Uint8Array) {
        const bytes = typeof body === 'string' ? Buffer.from(body) : body;
        if (bytes.length > 0) this.sender.write(id, bytes);
        this.sender.end(id, init.trailers);
      } else {
        this.sender.pipe(id, body, init.trailers).catch((e: Error) => {
          this.resetLocal(id, ErrorCode.CANCEL);
          this.fail(id, e);
        });
      }
    }
    this.schedule();
    return answer;
  }

  protected get exchangeCount(): number {
    return this.exchanges.size;
  }

  protected watchStreams(): boolean {
    return false; // a client's deadlines are its caller's (it can cancel); only the socket is watched
  }

  protected onOutboundDone(): void {
    // the request body is sent; the exchange lives until its response ends
  }

  /** Sends a PRIORITY frame for a stream (RFC 7540 §6.3), e.g. for idle streams as anchors. */
  prioritize(streamId: number, fields: Partial<PriorityFields>): void {
    this.conn.prioritize(streamId, fields);
    this.schedule();
  }

  /** Measures one round trip with PING (ms). */
  ping(): Promise<number> {
    const data = Buffer.alloc(8);
    data.writeUInt32BE(++this.pingCount, 4);
    const start = performance.now();
    this.conn.ping(data);
    this.schedule();
    return new Promise((resolve, reject) => this.pings.set(data.toString('hex'), { resolve: () => resolve(performance.now() - start), reject }));
  }

  /** Graceful close: GOAWAY, let the open streams finish, then close the socket. */
  close(): Promise<void> {
    const done = new Promise<void>((r) => {
      if (this.closed) r();
      else this.closedWaiters.push(r);
    });
    this.shutdown();
    return done;
  }

  /** Closes the socket at once; open requests fail. */
  destroy(): void {
    this.socket.destroy();
  }

  protected handleEvents(events: H2Event[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'ResponseReceived': {
          const x = this.exchanges.get(e.streamId);
          if (x) x.resolve(this.response(e.streamId, x, e.headers));
          break;
        }
        case 'InformationalResponseReceived':
          this.exchanges.get(e.streamId)?.informational.push([...e.headers]);
          break;
        case 'DataReceived': {
          const x = this.exchanges.get(e.streamId);
          if (x) x.body.push(e.data, e.flowControlledLength);
          else this.credit(e.streamId, e.flowControlledLength);
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
            x.body.end();
            if (x.response === undefined) x.reject(new H2SchedError(`stream ${e.streamId} ended without a response`));
            this.exchanges.delete(e.streamId);
            // the body may be read later or never: its octets go back to the connection window now
            const unread = x.body.releaseCredit();
            if (unread > 0) this.credit(e.streamId, unread);
          }
          break;
        }
        case 'StreamReset':
          this.fail(e.streamId, new StreamClosedError(`stream ${e.streamId} was reset (${e.errorCode === ErrorCode.REFUSED_STREAM ? 'REFUSED_STREAM: safe to retry' : `error code ${e.errorCode}`})`));
          break;
        case 'PingAckReceived': {
          const key = Buffer.from(e.pingData).toString('hex');
          this.pings.get(key)?.resolve();
          this.pings.delete(key);
          break;
        }
        case 'ConnectionTerminated':
          if (e.errorCode !== ErrorCode.NO_ERROR) {
            this.error = `GOAWAY with error code ${e.errorCode}`;
            this.terminate(this.error);
          }
          break;
        default:
          break;
      }
    }
  }

  protected onFinish(error?: string): void {
    const why = new StreamClosedError(`connection closed${error ?? this.error ? `: ${error ?? this.error}` : ''}`);
    for (const id of [...this.exchanges.keys()]) this.fail(id, why);
    for (const p of this.pings.values()) p.reject(why);
    this.pings.clear();
    for (const w of this.closedWaiters.splice(0)) w();
  }

  private response(streamId: number, x: Pending, headers: readonly HeaderField[]): H2ClientResponse {
    const client = this;
    const get = (n: string) => headers.find(([k]) => k === n)?.[1];
    const r: H2ClientResponse = {
      streamId, headers, informational: x.informational, body: x.body,
      status: Number(get(':status')),
      header: (n) => get(n.toLowerCase()),
      bytes: () => x.body.bytes(),
      text: async () => (await x.body.bytes()).toString('utf8'),
      get trailers() { return x.trailers; },
      cancel: (code = ErrorCode.CANCEL) => {
        client.resetLocal(streamId, code);
        client.fail(streamId, new StreamClosedError(`stream ${streamId} was cancelled`));
      },
    };
    x.response = r;
    return r;
  }

  private fail(streamId: number, e: Error): void {
    const x = this.exchanges.get(streamId);
    if (!x) return;
    this.exchanges.delete(streamId);
    if (x.response === undefined) x.reject(e);
    const unread = x.body.fail(e);
    if (unread > 0) this.credit(streamId, unread);
  }
}
