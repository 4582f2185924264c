/**
 * node:http2's compatibility API (`Http2ServerRequest` / `Http2ServerResponse`, the `(req, res)`
 * of `http.createServer`) on h2sched, so that Fastify (`serverFactory`), Koa (`app.callback()`)
 * and plain `(req, res)` handlers run on our engine and scheduler.
 *
 * Built on `createH2Server`: each request is one Exchange, the single owner of its stream's life,
 * and these objects only wrap it. `req` is a Readable that reads the exchange's body when (and
 * only when) the Readable wants more, so flow-control credit goes back as the application reads;
 * `res` is a Writable whose chunks go to the Sender (the client's priorities decide the send
 * order) and whose write callbacks wait while the stream's queue is above the sender's mark.
 * When the exchange is released (response complete, reset either way, connection gone) `res`
 * finishes or is destroyed, `req` is marked aborted when the response did not complete, and both
 * emit 'close' once.
 *
 * Containment: an exception from the 'request' listener, an async listener's rejection, a throwing
 * listener of any event of `req`, `res` or `req.socket`, an 'error' nobody listens to, a throwing
 * write/end callback, and a header block the engine refuses when `write`/`end` sends it (bad
 * values are refused earlier, at `setHeader`) end only that stream: a 500 when nothing was sent
 * yet, else RST_STREAM INTERNAL_ERROR — never the process. Nothing throws out of `write`/`end`
 * but a mistake in their own arguments.
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable, Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { ErrorCode } from '../constants.js';
import { UsageError } from '../errors.js';
import { prepareOutbound } from '../headers.js';
import type { HeaderInput } from '../hpack/types.js';
import { createH2Server, type H2Server, type H2ServerOptions, type ServerStats } from './server.js';
import { type ExchangeWatcher, type H2Request, type H2Response, watchExchange } from './session.js';

/** Options of {@link createCompatServer}: those of `createH2Server` (TLS, scheduler, deadlines, limits). */
export type CompatServerOptions = H2ServerOptions;

/** A `'request'` listener. An async one's rejection fails only its stream. */
export type CompatListener = (req: CompatRequest, res: CompatResponse) => void;

/** A header value as `setHeader` takes it. */
export type CompatHeaderValue = string | number | readonly string[];

/** An error with a node-style `code` (the one node:http2 uses for the same mistake); still a UsageError. */
export interface CodedUsageError extends UsageError {
  readonly code: string;
}

function coded(code: string, message: string): CodedUsageError {
  const e = new UsageError(message) as UsageError & { code: string };
  e.code = code;
  return e;
}

/** RFC 9110 §5.6.2 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Octets a field value cannot hold (RFC 9110 §5.5: CR, LF, NUL and the other controls but HTAB). */
const BAD_VALUE = /[\0-\x08\x0a-\x1f\x7f]/;
/**
 * Connection-specific fields (RFC 9113 §8.2.2): node:http2 refuses them with
 * ERR_HTTP2_INVALID_CONNECTION_HEADERS when the headers are sent; we refuse them at `setHeader`.
 */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(['keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']);
const PSEUDO: ReadonlySet<string> = new Set([':status', ':method', ':path', ':authority', ':scheme', ':protocol']);

let connectionWarned = false;

/** The `date` header, formatted at most once a second. */
let dateSecond = 0;
let dateText = '';
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** A lower-case field name, checked as node:http2 checks it. */
function fieldName(name: unknown): string {
  if (typeof name !== 'string') throw coded('ERR_INVALID_ARG_TYPE', `a header name is a string, not ${typeof name}`);
  const n = name.trim().toLowerCase();
  if (PSEUDO.has(n)) throw coded('ERR_HTTP2_PSEUDOHEADER_NOT_ALLOWED', `cannot set the pseudo-header ${n}`);
  if (!TOKEN.test(n)) throw coded('ERR_INVALID_HTTP_TOKEN', `header name must be a valid HTTP token ["${n}"]`);
  return n;
}

/** How the engine checks the blocks it sends (`prepareOutbound`), applied here field by field. */
const OUTBOUND = { normalize: true, validate: true, splitCookies: false, connectProtocol: false } as const;
/**
 * Fields with rules of their own in the engine's check (`prepareOutbound`) beyond the syntax
 * `fieldName` and `checkValue` enforce (stricter than the engine's: a token name, no control
 * character): content-length must be a number, and neither may appear twice (node:http2 refuses an
 * array for them too). Only these go through the engine's check at `setHeader`: it costs ~0.4 us a
 * field, and for any other field it cannot refuse what passed `checkValue`.
 */
const ENGINE_CHECKED: ReadonlySet<string> = new Set(['content-length', 'host']);

/**
 * Checks a value for `name`. @returns false for `connection`, which is dropped (with one process
 * warning, as node:http2 does): HTTP/1 middleware sets it freely.
 * @throws UsageError with node's code for what the engine would refuse when the headers (or the
 * trailers) are sent: a content-length that is not a number, two values of a one-value field.
 */
function checkValue(name: string, value: unknown): boolean {
  if (value === undefined || value === null) throw coded('ERR_HTTP2_INVALID_HEADER_VALUE', `invalid value "${String(value)}" for header "${name}"`);
  if (name === 'connection') {
    if (!connectionWarned) {
      connectionWarned = true;
      process.emitWarning('The connection header is not valid in HTTP/2; it is dropped.', 'UnsupportedWarning');
    }
    return false;
  }
  const values = Array.isArray(value) ? value as unknown[] : [value];
  for (const v of values) {
    const s = typeof v === 'string' ? v : String(v);
    if (BAD_VALUE.test(s)) throw coded('ERR_INVALID_CHAR', `invalid character in header content ["${name}"]`);
    if (name === 'te' && s.trim().toLowerCase() !== 'trailers') throw coded('ERR_HTTP2_INVALID_CONNECTION_HEADERS', 'HTTP/1 connection-specific headers are forbidden: "te" other than "trailers"');
  }
  if (CONNECTION_SPECIFIC.has(name)) throw coded('ERR_HTTP2_INVALID_CONNECTION_HEADERS', `HTTP/1 connection-specific headers are forbidden: "${name}"`);
  if (ENGINE_CHECKED.has(name)) {
    if (values.length > 1) throw coded('ERR_HTTP2_HEADER_SINGLE_VALUE', `header field "${name}" must only have a single value`);
    // the engine's own check of a block we send, now rather than at the first write (where it
    // would throw out of a pipe's 'data' callback)
    const fields: HeaderInput[] = [];
    for (const v of values) fields.push([name, typeof v === 'string' ? v : String(v)]);
    try {
      prepareOutbound(fields, 'trailers', OUTBOUND);
    } catch (e) {
      throw coded('ERR_HTTP2_INVALID_HEADER_VALUE', `invalid value for header "${name}": ${(e as Error).message}`);
    }
  }
  return true;
}

/** A request aborted by the client (or the connection): what node's http1 gives readers of an aborted body. */
function abortedError(): Error {
  const e = new Error('aborted') as Error & { code: string };
  e.code = 'ECONNRESET';
  return e;
}

const REQUEST_OPTIONS = { autoDestroy: false } as const;

/**
 * Request fields of which node:http2 keeps the first when one comes several times (its
 * `kSingleValueHeaders`, as Node 20-24 have it: checked against node:http2's compatibility server
 * in `spec/interop/compat-review.spec.ts`); the others are joined.
 */
const SINGLE_VALUE: ReadonlySet<string> = new Set([
  'access-control-allow-credentials', 'access-control-max-age', 'access-control-request-method', 'age', 'authorization',
  'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5', 'content-range',
  'content-type', 'date', 'dnt', 'etag', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match',
  'if-range', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'range',
  'referer', 'retry-after', 'tk', 'upgrade-insecure-requests', 'user-agent', 'x-content-type-options',
]);

/** Fields as node:http2's `req.headers` / `req.trailers` has them: the first of a single-value field, `cookie` joined with '; ', `set-cookie` an array, others joined with ', '. */
function headerObject(list: Iterable<readonly [string, string, ...unknown[]]>): IncomingHttpHeaders {
  const t = Object.create(null) as Record<string, string | string[] | undefined>;
  for (const [k, v] of list) {
    const prev = t[k];
    if (prev === undefined) t[k] = k === 'set-cookie' ? [v] : v;
    else if (typeof prev !== 'string') prev.push(v);
    else if (k.charCodeAt(0) !== 58 /* ':' */ && !SINGLE_VALUE.has(k)) t[k] = `${prev}${k === 'cookie' ? '; ' : ', '}${v}`;
  }
  return t as IncomingHttpHeaders;
}

/**
 * The `req` of a compat handler: node:http2's `Http2ServerRequest`, a Readable of the request body.
 * Reading it returns flow-control credit to the client; a body nobody reads holds the client back
 * (up to its stream window) until the response is complete, then its credit goes back at once.
 */
export class CompatRequest extends Readable {
  /** True once the stream ended before the response was complete (client reset, connection lost). */
  aborted = false;
  /** @internal */
  res: CompatResponse | undefined = undefined;
  /** @internal The connection's socket. */
  transport: Socket | undefined = undefined;
  private fields: IncomingHttpHeaders | undefined = undefined;
  private rawFields: string[] | undefined = undefined;
  private urlSet: string | undefined = undefined;
  private methodSet: string | undefined = undefined;
  private iter: AsyncIterator<Uint8Array> | undefined = undefined;
  private pulling = false;
  private gone = false;
  private closeSent = false;
  /** @internal The socket stand-in, made on first use (shared with the response). */
  sock: CompatSocket | undefined = undefined;

  /** @internal */
  constructor(readonly h2: H2Request) {
    super(REQUEST_OPTIONS);
  }

  /**
   * Request fields, names in lower case, pseudo-headers included (`:path`, `:authority`…); a
   * repeated field as node:http2 has it: the first value of a single-value field (`content-type`,
   * `authorization`, `user-agent`… node's list), `cookie` crumbs joined with '; ', `set-cookie` an
   * array, others joined with ', '.
   */
  get headers(): IncomingHttpHeaders {
    return (this.fields ??= headerObject(this.h2.headers));
  }

  set headers(h: IncomingHttpHeaders) {
    this.fields = h;
  }

  /** Names and values as they came, flattened: `[name, value, name, value, …]`. */
  get rawHeaders(): string[] {
    if (this.rawFields === undefined) {
      const r: string[] = [];
      for (const [k, v] of this.h2.headers) r.push(k, v);
      this.rawFields = r;
    }
    return this.rawFields;
  }

  get method(): string {
    return this.methodSet ?? this.h2.method;
  }

  set method(m: string) {
    this.methodSet = m;
  }

  /** The `:path` (frameworks may rewrite it). */
  get url(): string {
    return this.urlSet ?? this.h2.path;
  }

  set url(u: string) {
    this.urlSet = u;
  }

  get authority(): string {
    return this.h2.authority;
  }

  get scheme(): string {
    return this.h2.scheme;
  }

  get httpVersion(): string {
    return '2.0';
  }

  get httpVersionMajor(): number {
    return 2;
  }

  get httpVersionMinor(): number {
    return 0;
  }

  /** The stream id. */
  get streamId(): number {
    return this.h2.streamId;
  }

  /** Trailers the client sent, once the body has been read to its end (`{}` before, or when there were none). */
  get trailers(): IncomingHttpHeaders {
    return headerObject(this.h2.trailers ?? []);
  }

  get rawTrailers(): string[] {
    const r: string[] = [];
    for (const [k, v] of this.h2.trailers ?? []) r.push(k, v);
    return r;
  }

  /** True once the body was read to its end, or the stream is gone. */
  get complete(): boolean {
    return this.aborted || this.readableEnded || this.gone;
  }

  /**
   * A stand-in for the connection's socket: its addresses and TLS state; its events are this
   * stream's ('close' when the stream is released). Writing, reading or pausing it throws
   * (ERR_HTTP2_NO_SOCKET_MANIPULATION), as with node:http2: other streams share the connection.
   */
  get socket(): CompatSocket {
    return (this.sock ??= new CompatSocket(this));
  }

  get connection(): CompatSocket {
    return this.socket;
  }

  /** Emits 'timeout' on `req` and `res` after `ms` without body octets moving either way (0 turns it off). */
  setTimeout(ms: number, callback?: () => void): this {
    if (callback !== undefined) this.once('timeout', callback);
    this.res?.armTimer(ms);
    return this;
  }

  override _read(): void {
    if (this.pulling || this.destroyed) return;
    this.pull();
  }

  private pull(): void {
    this.pulling = true;
    let it = this.iter;
    if (it === undefined) {
      try {
        it = this.iter = this.h2.body[Symbol.asyncIterator]();
      } catch (e) {
        this.pulling = false;
        this.destroy(e as Error);
        return;
      }
    }
    it.next().then((r) => this.took(r), () => this.bodyFailed());
  }

  private took(r: IteratorResult<Uint8Array>): void {
    this.pulling = false;
    if (this.destroyed) return;
    if (r.done === true) {
      this.push(null);
      return;
    }
    this.res?.touchTimer();
    const v = r.value;
    if (this.push(Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength))) this.pull();
  }

  private bodyFailed(): void {
    this.pulling = false;
    if (!this.destroyed) this.destroy(abortedError());
  }

  /** @internal The stream was released; `complete` when the response went out whole. */
  streamGone(complete: boolean): void {
    this.gone = true;
    if (!complete && !this.aborted) {
      this.aborted = true;
      this.emit('aborted');
    }
    if (this.destroyed) return;
    if (!complete) this.destroy(this.readableEnded ? undefined : abortedError());
    else if (this.iter === undefined || this.readableEnded) this.destroy();
    else {
      this.once('end', destroyAfterEnd); // still being read: the body is complete, let it end
      // a reader that paused may never resume: 'close' now, as node:http2 emits it when the
      // stream closes (the rest of the body can still be read; no second 'close' then). A reader
      // that is flowing or pulls with 'readable' (`for await`) gets to the end first.
      if (this.readableFlowing !== true && this.listenerCount('readable') === 0) this.emit('close');
    }
  }

  /** @internal The stream was released. */
  get released(): boolean {
    return this.gone;
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    // the application destroyed the request: node:http2 destroys the stream with it
    if (!this.gone) this.res?.resetStream(err);
    // as node's http1: an error is emitted only when someone listens for it
    cb(this.listenerCount('error') > 0 ? err : null);
  }

  /** Events run under the stream's guard: a listener that throws fails this stream, not the process. 'close' is emitted once. */
  override emit(event: string | symbol, ...args: any[]): boolean {
    if (event === 'close') {
      if (this.closeSent) return false;
      this.closeSent = true;
    }
    try {
      return super.emit(event, ...args);
    } catch (e) {
      this.res?.fail(e);
      return true;
    }
  }
}

function destroyAfterEnd(this: CompatRequest): void {
  this.destroy();
}

/** What `writeHead` takes as headers: an object, `[[name, value], …]`, or `[name, value, name, value, …]`. */
export type CompatHeaders = OutgoingHttpHeaders | ReadonlyArray<readonly [string, CompatHeaderValue]> | readonly string[];

type WriteCallback = (error?: Error | null) => void;

/**
 * The `res` of a compat handler: node:http2's `Http2ServerResponse`, a Writable. The body goes
 * through the Sender, so the client's priorities decide what is sent first; `write` returns
 * false once chunks wait behind the stream's queue (above the sender's high-water mark), and
 * 'drain' follows when the queue has room again.
 */
export class CompatResponse extends Writable implements ExchangeWatcher {
  /** Add a `date` header unless one is set (default true). */
  sendDate = true;
  private status = 200;
  private fields: Record<string, CompatHeaderValue> = Object.create(null) as Record<string, CompatHeaderValue>;
  private trailerFields: Record<string, CompatHeaderValue> | undefined = undefined;
  private sent = false;
  /** The response was handed over whole (end() reached the exchange, or the server answered for it). */
  private handedOver = false;
  /** The server answered for the application (a 500 after a throw): destroying `res` must not reset it. */
  private answered = false;
  /** The exchange was released. */
  private gone = false;
  private noBody = false;
  /** content-length as announced (-1: none), and body octets written. */
  private expected = -1;
  private written = 0;
  private finalCallback: WriteCallback | undefined = undefined;
  private waitingWrite: WriteCallback | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;

  /** @internal */
  constructor(private readonly h2: H2Response, readonly req: CompatRequest) {
    super();
  }

  get statusCode(): number {
    return this.status;
  }

  /** @throws UsageError (ERR_HTTP2_INFO_STATUS_NOT_ALLOWED, ERR_HTTP2_STATUS_INVALID) as node:http2: 1xx or outside 100–599. */
  set statusCode(code: number) {
    const c = Number(code) | 0;
    if (c >= 100 && c < 200) throw coded('ERR_HTTP2_INFO_STATUS_NOT_ALLOWED', 'informational status codes cannot be used');
    if (c < 100 || c > 599) throw coded('ERR_HTTP2_STATUS_INVALID', `invalid status code: ${String(code)}`);
    this.status = c;
  }

  /** HTTP/2 has no reason phrase: always '' (setting it does nothing). */
  get statusMessage(): string {
    return '';
  }

  set statusMessage(_m: string) {
    /* ignored: RFC 9113 §8.3.2 has only :status */
  }

  get headersSent(): boolean {
    return this.sent;
  }

  /** For modules that test `res._header` (finalhandler). */
  get _header(): boolean {
    return this.sent;
  }

  /** `end()` was called (as `writableEnded`). */
  get finished(): boolean {
    return this.writableEnded;
  }

  /** The socket stand-in of the request; undefined once the stream is gone (as node's http1 does). */
  get socket(): CompatSocket | undefined {
    return this.gone ? undefined : this.req.socket;
  }

  get connection(): CompatSocket | undefined {
    return this.socket;
  }

  /** The stream id. */
  get streamId(): number {
    return this.req.streamId;
  }

  /**
   * Sets a response header (name case-insensitive).
   * @throws UsageError with node's codes: after the headers were sent (ERR_HTTP2_HEADERS_SENT), a bad
   * name (ERR_INVALID_HTTP_TOKEN), a pseudo-header, an undefined value, a control character in the
   * value (ERR_INVALID_CHAR), a connection-specific field (ERR_HTTP2_INVALID_CONNECTION_HEADERS;
   * `connection` itself is dropped with a warning, as node:http2 does), what the engine would
   * refuse when it sends the headers: a content-length that is not a number
   * (ERR_HTTP2_INVALID_HEADER_VALUE), several values of content-length or host
   * (ERR_HTTP2_HEADER_SINGLE_VALUE). `appendHeader`, `writeHead` and `addTrailers` check the same.
   */
  setHeader(name: string, value: CompatHeaderValue): this {
    if (this.sent) throw coded('ERR_HTTP2_HEADERS_SENT', 'response has already been initiated');
    const n = fieldName(name);
    if (checkValue(n, value)) this.fields[n] = Array.isArray(value) ? [...(value as string[])] : value;
    return this;
  }

  /** Adds values to a header (an array when it has several). */
  appendHeader(name: string, value: CompatHeaderValue): this {
    if (this.sent) throw coded('ERR_HTTP2_HEADERS_SENT', 'response has already been initiated');
    const n = fieldName(name);
    if (!checkValue(n, value)) return this;
    const prev = this.fields[n];
    const add = Array.isArray(value) ? value as string[] : [String(value)];
    const merged = prev === undefined ? [...add] : [...(Array.isArray(prev) ? prev as string[] : [String(prev)]), ...add];
    if (prev !== undefined && ENGINE_CHECKED.has(n)) checkValue(n, merged); // a second content-length
    this.fields[n] = merged;
    return this;
  }

  getHeader(name: string): CompatHeaderValue | undefined {
    if (typeof name !== 'string') throw coded('ERR_INVALID_ARG_TYPE', 'a header name is a string');
    return this.fields[name.trim().toLowerCase()];
  }

  getHeaders(): OutgoingHttpHeaders {
    return Object.assign(Object.create(null) as OutgoingHttpHeaders, this.fields);
  }

  getHeaderNames(): string[] {
    return Object.keys(this.fields);
  }

  hasHeader(name: string): boolean {
    if (typeof name !== 'string') throw coded('ERR_INVALID_ARG_TYPE', 'a header name is a string');
    return this.fields[name.trim().toLowerCase()] !== undefined;
  }

  removeHeader(name: string): void {
    if (typeof name !== 'string') throw coded('ERR_INVALID_ARG_TYPE', 'a header name is a string');
    if (this.sent) throw coded('ERR_HTTP2_HEADERS_SENT', 'response has already been initiated');
    delete this.fields[name.trim().toLowerCase()];
  }

  /**
   * Sends the status and headers now: `writeHead(status)`, `writeHead(status, headers)`,
   * `writeHead(status, statusMessage, headers)` (the message is ignored); headers as an object,
   * `[[name, value], …]` or a flat `[name, value, …]`, merged over those of `setHeader`.
   * A no-op once the stream is gone.
   * @throws UsageError (ERR_HTTP2_HEADERS_SENT) when headers were already sent; as `setHeader` for bad fields.
   */
  writeHead(statusCode: number, statusMessage?: string | CompatHeaders, headers?: CompatHeaders): this {
    if (this.gone || this.destroyed) return this;
    if (this.sent) throw coded('ERR_HTTP2_HEADERS_SENT', 'response has already been initiated');
    // as node:http2: `headers` when given, else the second argument when it is not a message
    // (`writeHead(201, null, headers)` uses `headers`)
    const h = headers === undefined && typeof statusMessage === 'object' ? statusMessage : headers;
    this.statusCode = statusCode;
    if (h !== undefined && h !== null) {
      if (Array.isArray(h)) {
        if (h.length > 0 && Array.isArray(h[0])) {
          for (const pair of h as ReadonlyArray<readonly [string, CompatHeaderValue]>) this.setHeader(pair[0], pair[1]);
        } else {
          if (h.length % 2 !== 0) throw coded('ERR_INVALID_ARG_VALUE', 'a flat header array has an even length');
          for (let i = 0; i < h.length; i += 2) this.setHeader(h[i] as string, h[i + 1] as string);
        }
      } else {
        const o = h as OutgoingHttpHeaders;
        for (const k in o) {
          const v = o[k];
          if (v !== undefined) this.setHeader(k, v);
        }
      }
    }
    this.sendHeaders();
    return this;
  }

  /** Sends the headers now if they were not (with the current `statusCode`). */
  flushHeaders(): void {
    if (!this.sent && !this.gone && !this.destroyed) this.sendHeaders();
  }

  /** Sends `100 Continue` (before the final headers). */
  writeContinue(): boolean {
    if (this.sent || this.gone) return false;
    return this.h2.respond(100);
  }

  /** Sends `103 Early Hints` with `hints` (e.g. `{ link: '</style.css>; rel=preload; as=style' }`). */
  writeEarlyHints(hints: Record<string, CompatHeaderValue>, callback?: () => void): void {
    if (!this.sent && !this.gone) {
      const fields: HeaderInput[] = [];
      for (const k in hints) {
        const n = fieldName(k);
        const v = hints[k]!;
        if (!checkValue(n, v)) continue;
        if (Array.isArray(v)) for (const one of v as string[]) fields.push([n, String(one)]);
        else fields.push([n, String(v)]);
      }
      this.h2.respond(103, fields);
    }
    if (callback !== undefined) process.nextTick(this.guard(callback));
  }

  /** Sets trailers sent after the body (an object, or `[[name, value], …]`). */
  addTrailers(headers: OutgoingHttpHeaders | ReadonlyArray<readonly [string, CompatHeaderValue]>): void {
    if (Array.isArray(headers)) for (const [k, v] of headers as ReadonlyArray<readonly [string, CompatHeaderValue]>) this.setTrailer(k, v);
    else {
      const o = headers as OutgoingHttpHeaders;
      for (const k in o) {
        const v = o[k];
        if (v !== undefined) this.setTrailer(k, v);
      }
    }
  }

  setTrailer(name: string, value: CompatHeaderValue): void {
    const n = fieldName(name);
    if (!checkValue(n, value)) return;
    (this.trailerFields ??= Object.create(null) as Record<string, CompatHeaderValue>)[n] = value;
  }

  /** Emits 'timeout' on `req` and `res` after `ms` without body octets moving (0 turns it off). */
  setTimeout(ms: number, callback?: () => void): this {
    if (callback !== undefined) this.once('timeout', callback);
    this.armTimer(ms);
    return this;
  }

  override write(chunk: any, encoding?: any, callback?: any): boolean {
    const cb: unknown = typeof encoding === 'function' ? encoding : callback;
    const enc: unknown = typeof encoding === 'function' ? undefined : encoding;
    if (this.writableEnded && !this.destroyed) {
      // as node's http1: the callback and an 'error' event get ERR_STREAM_WRITE_AFTER_END; the
      // response that was ended goes on
      const err = coded('ERR_STREAM_WRITE_AFTER_END', 'write after end');
      process.nextTick(() => {
        if (typeof cb === 'function') this.guard(cb as WriteCallback)(err);
        this.emit('error', err);
      });
      return false;
    }
    if (!this.sent && !this.gone && !this.destroyed) this.sendHeaders();
    const ok = super.write(chunk, enc as BufferEncoding, typeof cb === 'function' ? this.guard(cb as WriteCallback) : undefined);
    // HEAD, 204, 304: the body is over with the headers — false stops a write loop or a pipe (as
    // node:http2); 'finish' and 'close' follow once the stream is released
    return ok && !this.noBody;
  }

  override end(chunk?: any, encoding?: any, callback?: any): this {
    let cb: unknown = callback;
    let c: unknown = chunk;
    let enc: unknown = encoding;
    if (typeof chunk === 'function') {
      cb = chunk;
      c = undefined;
      enc = undefined;
    } else if (typeof encoding === 'function') {
      cb = encoding;
      enc = undefined;
    }
    const guarded = typeof cb === 'function' ? this.guard(cb as WriteCallback) : undefined;
    if (this.writableEnded || this.destroyed) {
      // a second end() is harmless (http1 and node:http2 agree)
      if (guarded !== undefined) process.nextTick(guarded);
      return this;
    }
    if (!this.sent && !this.gone) this.sendHeaders();
    if (c !== undefined && c !== null) super.end(c, (enc ?? undefined) as BufferEncoding, guarded);
    else super.end(guarded);
    return this;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: WriteCallback): void {
    if (this.gone || this.noBody) {
      cb(); // gone, or a response without a body (already ended): the octets are dropped
      return;
    }
    if (this.timer !== undefined) this.timer.refresh();
    this.written += chunk.length;
    if (this.expected >= 0 && this.written > this.expected) {
      cb(coded('ERR_HTTP_CONTENT_LENGTH_MISMATCH', `response body longer than its content-length (${this.expected})`));
      return;
    }
    let queued: boolean;
    try {
      queued = this.h2.write(chunk);
    } catch (e) {
      cb(e as Error); // not expected; if it happens, the stream is reset (INTERNAL_ERROR), nothing thrown
      return;
    }
    if (queued) cb();
    else this.waitingWrite = cb; // the sender's queue is full: the callback waits for its drain
  }

  override _final(cb: WriteCallback): void {
    if (this.gone) {
      cb();
      return;
    }
    if (!this.sent) this.sendHeaders();
    if (this.destroyed) {
      cb(); // the headers failed: the server answered for it (fail)
      return;
    }
    if (this.noBody) {
      this.finalCallback = cb; // ended with its headers: 'finish' once the exchange is released
      return;
    }
    if (this.expected >= 0 && this.written !== this.expected) {
      cb(coded('ERR_HTTP_CONTENT_LENGTH_MISMATCH', `response body of ${this.written} octets, content-length ${this.expected}`));
      return;
    }
    let trailers: HeaderInput[] | undefined;
    const t = this.trailerFields;
    if (t !== undefined) {
      trailers = [];
      for (const k in t) {
        const v = t[k]!;
        if (Array.isArray(v)) for (const one of v as string[]) trailers.push([k, String(one)]);
        else trailers.push([k, String(v)]);
      }
    }
    try {
      this.h2.end(undefined, trailers);
    } catch (e) {
      cb(e as Error); // not expected (trailers are checked at addTrailers); reset, nothing thrown
      return;
    }
    this.handedOver = true;
    this.finalCallback = cb; // 'finish' once the end went to the engine (the exchange is released)
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.resetStream(err);
    cb(err);
  }

  /** Events run under the stream's guard: a listener that throws fails this stream, not the process. */
  override emit(event: string | symbol, ...args: any[]): boolean {
    try {
      return super.emit(event, ...args);
    } catch (e) {
      this.fail(e);
      return true;
    }
  }

  /**
   * @internal `destroy()` of `res`, `req` or the socket stand-in: resets the stream (as node:http2
   * does) unless it is gone or the server answered for it. Not named `abort`: Node's stream
   * helpers take an object with `setHeader` and `abort()` for a ClientRequest, and `pipeline`
   * would call `res.abort()` (CANCEL) instead of `res.destroy(err)` (INTERNAL_ERROR).
   */
  resetStream(err: Error | null | undefined): void {
    if (this.gone || this.answered) return;
    this.gone = true;
    try {
      this.h2.reset(err ? ErrorCode.INTERNAL_ERROR : ErrorCode.CANCEL);
    } catch {
      /* released meanwhile */
    }
  }

  /**
   * @internal Something the application runs for this stream threw: a 500 when nothing was sent,
   * else RST_STREAM INTERNAL_ERROR; a response already handed over whole is left to complete. The
   * error itself goes nowhere, as with `createH2Server`'s handlers (it is the application's).
   */
  fail(_e: unknown): void {
    if (this.gone || this.handedOver) return;
    try {
      if (!this.sent && !this.h2.closed) {
        this.sent = true;
        this.handedOver = true;
        this.answered = true;
        const text = 'internal server error\n';
        this.h2.respond(500, [['content-type', 'text/plain; charset=utf-8'], ['content-length', String(text.length)]]);
        this.h2.end(this.req.method === 'HEAD' ? undefined : text);
      } else {
        this.gone = true;
        this.h2.reset(ErrorCode.INTERNAL_ERROR);
      }
    } catch {
      this.h2.reset(ErrorCode.INTERNAL_ERROR);
    }
    if (!this.destroyed) this.destroy();
  }

  /** @internal A user callback that cannot throw into Node's stream machinery (it fails this stream instead). */
  guard<A extends unknown[]>(fn: (...a: A) => void): (...a: A) => void {
    return (...a: A) => {
      try {
        fn(...a);
      } catch (e) {
        this.fail(e);
      }
    };
  }

  /** @internal ExchangeWatcher: the sender's queue for this stream has room again. */
  drained(): void {
    const cb = this.waitingWrite;
    if (cb !== undefined) {
      this.waitingWrite = undefined;
      cb();
    }
  }

  /** @internal ExchangeWatcher: the exchange was released. */
  released(complete: boolean): void {
    this.gone = true;
    this.clearTimer();
    if (complete) {
      const cb = this.finalCallback;
      if (cb !== undefined) {
        this.finalCallback = undefined;
        cb(); // 'finish', then 'close'
      } else if (this.noBody && !this.answered && !this.destroyed && !this.writableEnded) {
        this.end(); // ended with its headers (HEAD, 204, 304) and the app never called end(): 'finish', 'close'
      } else if (!this.destroyed) this.destroy(); // the server answered for it (a 500): 'close' only
    } else if (!this.destroyed) this.destroy(); // reset or connection lost: 'close' without 'finish'
    const w = this.waitingWrite;
    if (w !== undefined) {
      this.waitingWrite = undefined;
      w(coded('ERR_STREAM_DESTROYED', 'the stream was closed'));
    }
    this.req.streamGone(complete);
    this.req.sock?.streamGone();
  }

  /** @internal */
  armTimer(ms: number): void {
    this.clearTimer();
    if (!(ms > 0) || this.gone) return;
    this.timer = setTimeout(() => this.timedOut(), ms);
    this.timer.unref();
  }

  /** @internal Body octets moved: the inactivity timer starts again. */
  touchTimer(): void {
    if (this.timer !== undefined) this.timer.refresh();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private timedOut(): void {
    this.timer = undefined;
    if (this.gone) return;
    this.req.emit('timeout');
    this.emit('timeout');
    this.req.sock?.emit('timeout');
  }

  private sendHeaders(): void {
    const status = this.status;
    const fields: HeaderInput[] = [];
    const f = this.fields;
    let hasDate = false;
    for (const name in f) {
      const v = f[name]!;
      if (name === 'content-length') {
        if (status === 204) continue; // RFC 9110 §8.6: never in a 204
        const n = Number(v);
        this.expected = Number.isSafeInteger(n) && n >= 0 ? n : -1;
      } else if (name === 'date') hasDate = true;
      if (Array.isArray(v)) for (const one of v as string[]) fields.push([name, String(one)]);
      else fields.push([name, typeof v === 'string' ? v : String(v)]);
    }
    if (this.sendDate && !hasDate) fields.push(['date', httpDate()]);
    const noBody = this.req.method === 'HEAD' || status === 204 || status === 304;
    try {
      this.h2.respond(status, fields);
    } catch (e) {
      // what setHeader could not see (content-length on a 2xx to CONNECT): nothing went out, and
      // this runs inside write()/end() — maybe a pipe's 'data' callback — so it throws nowhere:
      // the stream fails (a 500) as for any other throw of the application
      this.expected = -1;
      this.fail(e);
      return;
    }
    this.sent = true;
    if (noBody) {
      // as node:http2: a response to HEAD, a 204 or a 304 ends with its headers, so write()
      // returns false and a source piped in stops (the octets written are dropped)
      this.noBody = true;
      this.handedOver = true;
      this.h2.end();
    }
  }
}

/**
 * `req.socket` / `res.socket`: node:http2 gives a proxy whose addresses are the connection's
 * socket and whose events are the stream's; so does this. Reading, writing, pausing or resuming
 * throws ERR_HTTP2_NO_SOCKET_MANIPULATION (the socket carries other streams); `destroy()` resets
 * this stream only; `setTimeout` is the request's.
 */
export class CompatSocket extends EventEmitter {
  /** Frameworks hang their own state here (Fastify's `_meta`). */
  [key: string]: unknown;
  private streamClosed = false;

  /** @internal */
  constructor(private readonly owner: CompatRequest) {
    super();
    this.setMaxListeners(0);
    if (owner.released) {
      // first asked for after the stream was released: closed, and its 'close' still comes (to
      // listeners added in this turn), as for a stand-in made earlier
      this.streamClosed = true;
      process.nextTick(() => this.emit('close', false));
    }
  }

  private get real(): Socket | undefined {
    return this.owner.transport;
  }

  get remoteAddress(): string | undefined {
    return this.real?.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.real?.remotePort;
  }

  get remoteFamily(): string | undefined {
    return this.real?.remoteFamily;
  }

  get localAddress(): string | undefined {
    return this.real?.localAddress;
  }

  get localPort(): number | undefined {
    return this.real?.localPort;
  }

  /** True on TLS connections. */
  get encrypted(): boolean {
    return (this.real as Partial<TLSSocket> | undefined)?.encrypted === true;
  }

  /** `'h2'` on TLS connections, false on h2c. */
  get alpnProtocol(): string | false {
    const p = (this.real as Partial<TLSSocket> | undefined)?.alpnProtocol;
    return typeof p === 'string' ? p : false;
  }

  get servername(): string | false | null | undefined {
    return (this.real as Partial<TLSSocket> | undefined)?.servername;
  }

  get authorized(): boolean {
    return (this.real as Partial<TLSSocket> | undefined)?.authorized === true;
  }

  getPeerCertificate(detailed?: boolean): object | null {
    const s = this.real as Partial<TLSSocket> | undefined;
    return typeof s?.getPeerCertificate === 'function' ? s.getPeerCertificate(detailed === true) : null;
  }

  getCipher(): object | null {
    const s = this.real as Partial<TLSSocket> | undefined;
    return typeof s?.getCipher === 'function' ? s.getCipher() : null;
  }

  getProtocol(): string | null {
    const s = this.real as Partial<TLSSocket> | undefined;
    return typeof s?.getProtocol === 'function' ? s.getProtocol() : null;
  }

  address(): AddressInfo | Record<string, never> {
    const a = this.real?.address();
    return a !== undefined && 'port' in a ? a : {};
  }

  /** True while the stream is alive. */
  get writable(): boolean {
    return !this.streamClosed;
  }

  get readable(): boolean {
    return !this.streamClosed && !this.owner.readableEnded;
  }

  get destroyed(): boolean {
    return this.streamClosed;
  }

  setTimeout(ms: number, callback?: () => void): this {
    this.owner.setTimeout(ms, callback);
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  /** Resets this stream (the connection and its other streams go on). */
  destroy(err?: Error): this {
    this.owner.destroy(err);
    return this;
  }

  /** Ends the response. */
  end(): this {
    this.owner.res?.end();
    return this;
  }

  write(): never {
    throw noManipulation();
  }

  read(): never {
    throw noManipulation();
  }

  pause(): never {
    throw noManipulation();
  }

  resume(): never {
    throw noManipulation();
  }

  /** @internal */
  streamGone(): void {
    if (this.streamClosed) return;
    this.streamClosed = true;
    this.emit('close', false);
  }

  override emit(event: string | symbol, ...args: any[]): boolean {
    try {
      return super.emit(event, ...args);
    } catch (e) {
      this.owner.res?.fail(e);
      return true;
    }
  }
}

function noManipulation(): CodedUsageError {
  return coded('ERR_HTTP2_NO_SOCKET_MANIPULATION', 'HTTP/2 sockets should not be directly manipulated (e.g. read and written)');
}

const NOT_RUNNING = 'ERR_SERVER_NOT_RUNNING';

/**
 * What frameworks see of a server: `listen` in all of net.Server's forms, `close(cb)`, `address()`,
 * `listening`, `ref`/`unref`, events 'request', 'listening', 'close', 'error' (and 'connect',
 * 'checkContinue' as node:http2 has them), plus `closeAllConnections()` and
 * `closeIdleConnections()` (Fastify calls the latter before `close`). `setTimeout`,
 * `keepAliveTimeout`, `requestTimeout`, `headersTimeout` are accepted and inert: this server's
 * deadlines are its options (`idleTimeout`, `headerTimeout`, `bodyTimeout`, `sendTimeout`…).
 */
export class CompatServer extends EventEmitter {
  /** The h2sched server underneath (sessions, `stats()`). */
  readonly h2: H2Server;
  /** Accepted and inert (see the class comment). */
  timeout = 0;
  keepAliveTimeout = 5000;
  requestTimeout = 300000;
  headersTimeout = 60000;
  maxHeadersCount: number | null = null;
  maxRequestsPerSocket = 0;
  private closing = false;
  /** close() has finished ('close' was emitted). */
  private closed = false;

  constructor(options: CompatServerOptions = {}, listener?: CompatListener) {
    super({ captureRejections: true });
    this.h2 = createH2Server((req, res) => this.dispatch(req, res), options);
    const server = this.h2.server;
    server.on('listening', () => this.emit('listening'));
    server.on('error', (e: Error) => this.emit('error', e));
    // closed by close(): 'close' once every session has ended (below); closed some other way (an
    // AbortSignal given to listen): when the listener is
    server.on('close', () => { if (!this.closing) this.emit('close'); });
    if (listener !== undefined) this.on('request', listener);
  }

  get listening(): boolean {
    return this.h2.server.listening;
  }

  /** As `net.Server.listen`: `(port?, host?, backlog?, cb?)`, `(options, cb?)`, `(path, cb?)`. */
  listen(...args: unknown[]): this {
    (this.h2.server.listen as (...a: unknown[]) => unknown).apply(this.h2.server, args);
    return this;
  }

  address(): AddressInfo | string | null {
    return this.h2.server.address();
  }

  /**
   * Stops accepting connections and drains the open ones gracefully (GOAWAY, the streams in
   * flight finish); 'close' and `callback` once every connection is closed. As net.Server, the
   * callback gets ERR_SERVER_NOT_RUNNING when the server was not listening.
   */
  close(callback?: (err?: Error) => void): this {
    if (callback !== undefined) {
      if (this.listening) this.once('close', () => callback());
      else if (this.closed) process.nextTick(callback, coded(NOT_RUNNING, 'Server is not running.')); // closed already: no 'close' to wait for
      else this.once('close', () => callback(coded(NOT_RUNNING, 'Server is not running.')));
    }
    if (!this.closing) {
      this.closing = true;
      void this.h2.close().then(() => {
        this.closed = true;
        this.emit('close');
      });
    }
    return this;
  }

  /** Ends every connection now (GOAWAY; streams in flight are cut). */
  closeAllConnections(): void {
    for (const s of [...this.h2.sessions]) s.abort(ErrorCode.NO_ERROR, 'server closing all connections');
  }

  /** Gracefully closes the connections that have no stream open (GOAWAY). */
  closeIdleConnections(): void {
    for (const s of [...this.h2.sessions]) if (s.counts().exchanges === 0) s.shutdown();
  }

  /** Accepted and inert: a `callback` becomes a 'timeout' listener, which this server never emits. */
  setTimeout(ms?: number, callback?: () => void): this {
    if (typeof ms === 'number') this.timeout = ms;
    if (callback !== undefined) this.on('timeout', callback);
    return this;
  }

  ref(): this {
    this.h2.server.ref();
    return this;
  }

  unref(): this {
    this.h2.server.unref();
    return this;
  }

  getConnections(callback: (err: Error | null, count: number) => void): this {
    this.h2.server.getConnections(callback);
    return this;
  }

  /** What the open connections hold (see `createH2Server`). */
  stats(): ServerStats {
    return this.h2.stats();
  }

  private dispatch(h2req: H2Request, h2res: H2Response): void {
    if (repeatedContentLength(h2req.headers)) {
      // as node:http2 (nghttp2): a request with content-length more than once is malformed, even
      // with equal values (RFC 9110 §8.6 lets a recipient reject it); the engine has checked that
      // they agree — the application never sees it
      h2res.reset(ErrorCode.PROTOCOL_ERROR);
      return;
    }
    const req = new CompatRequest(h2req);
    const res = new CompatResponse(h2res, req);
    req.res = res;
    req.transport = watchExchange(h2req, res);
    try {
      if (req.method === 'CONNECT') {
        if (!this.emit('connect', req, res)) {
          res.statusCode = 405;
          res.end();
        }
        return;
      }
      const expect = h2req.header('expect');
      if (expect !== undefined) {
        if (expect.toLowerCase() === '100-continue') {
          if (this.listenerCount('checkContinue') > 0) {
            this.emit('checkContinue', req, res);
            return;
          }
          res.writeContinue();
        } else if (this.listenerCount('checkExpectation') > 0) {
          this.emit('checkExpectation', req, res);
          return;
        } else {
          res.statusCode = 417;
          res.end();
          return;
        }
      }
      this.emit('request', req, res);
    } catch (e) {
      res.fail(e);
    }
  }
}

function repeatedContentLength(headers: readonly (readonly [string, string, ...unknown[]])[]): boolean {
  let seen = false;
  for (let i = 0; i < headers.length; i++) {
    if (headers[i]![0] === 'content-length') {
      if (seen) return true;
      seen = true;
    }
  }
  return false;
}

// An async listener rejected (EventEmitter's captureRejections): a request listener's stream fails
// (500 or RST_STREAM); the rejection of any other listener becomes 'error'.
Object.defineProperty(CompatServer.prototype, EventEmitter.captureRejectionSymbol, {
  value(this: CompatServer, err: unknown, _event: string | symbol, ...args: unknown[]): void {
    const res = args[1];
    if (res instanceof CompatResponse) res.fail(err);
    else this.emit('error', err);
  },
});

/**
 * A server for `(req, res)` handlers — Fastify's `serverFactory`, Koa's `app.callback()`, plain
 * node:http2 compatibility code — on h2sched's engine and scheduler. `options` are those of
 * `createH2Server` (`tls` for TLS with ALPN h2, else h2c; `scheduler`; deadlines and limits).
 */
export function createCompatServer(listener?: CompatListener): CompatServer;
export function createCompatServer(options: CompatServerOptions, listener?: CompatListener): CompatServer;
export function createCompatServer(a?: CompatServerOptions | CompatListener, b?: CompatListener): CompatServer {
  return typeof a === 'function' ? new CompatServer({}, a) : new CompatServer(a ?? {}, b);
}
