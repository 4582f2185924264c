/**
 * H2Connection: the sans-IO HTTP/2 connection (python h2's H2Connection, camelCase). Bytes go in
 * through `receiveData`, which returns events; frames to send pile up in an outbound buffer that
 * `dataToSend` drains. Nothing here does I/O or keeps time. This file holds the state and the
 * local API (the send side); `send.ts` the checks the API makes before it queues anything, and
 * `recv.ts` handles the peer's frames.
 */
import { AbuseGuard } from './guard.js';
import { CLIENT_PREFACE, ErrorCode, FrameType, MAX_INT31, SettingId } from '../constants.js';
import { concat, EMPTY } from '../bytes.js';
import { ConnectionError, StreamError, UsageError } from '../errors.js';
import type { H2Event } from '../events.js';
import { FrameDecoder } from '../frame/decoder.js';
import { encodeFrame, encodeHeaders, encodePushPromise } from '../frame/encoder.js';
import { FrameSink } from '../frame/sink.js';
import type { PriorityFields, Setting } from '../frame/types.js';
import { prepareOutbound, promiseProblem } from '../headers.js';
import { HeaderCodec } from '../hpack/index.js';
import type { HeaderInput } from '../hpack/types.js';
import { RecvWindow, SendWindow } from '../flow/window.js';
import { LocalSettings, RemoteSettings } from '../settings.js';
import { ClosedBy, StreamInput, StreamState } from '../stream/state.js';
import { Phase } from '../stream/stream.js';
import { StreamStore } from '../stream/store.js';
import { type H2ConnectionOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { applyRemoteSettings, receiveFrame, streamError } from './recv.js';
import {
  checkAltsvc, checkPad, checkPriority, checkPushedResponse, checkStreamWindowUpdate, checkWindowRaise, fitDebugData, newLocalStream,
  notOpen, outboundKind,
} from './send.js';
import { ConnectionInput, ConnectionState, nextConnectionState } from './state.js';
import { decodeSettings, encodeSettings } from '../frame/settings.js';

export type { H2ConnectionOptions, LocalSettingsInput } from './options.js';

/** Options of {@link H2Connection.sendHeaders}. */
export interface SendHeadersOptions {
  endStream?: boolean;
  /** RFC 7540 priority fields on the HEADERS frame (clients). */
  priority?: Partial<PriorityFields>;
  padLength?: number;
}

/** Options of {@link H2Connection.sendData}. */
export interface SendDataOptions {
  endStream?: boolean;
  /** Padding octets (0..255); they count against flow control. */
  padLength?: number;
}

export { ConnectionState } from './state.js';
export { DEFAULT_ABUSE_LIMITS, type AbuseLimitsInput, type RateLimit } from './guard.js';

export class H2Connection {
  /** @internal */ readonly o: ResolvedOptions;
  /** @internal */ readonly decoder: FrameDecoder;
  /** @internal */ readonly hpack: HeaderCodec;
  /** @internal */ readonly out: FrameSink;
  /** @internal */ readonly streams: StreamStore;
  /** @internal */ readonly sendWindow: SendWindow;
  /** @internal */ readonly recvWindow: RecvWindow;
  readonly localSettings: LocalSettings;
  readonly remoteSettings: RemoteSettings;
  /** @internal */ state: ConnectionState;
  /** @internal Idle client streams a PRIORITY_UPDATE named (RFC 9218 §7.1 cap). */
  readonly prioritizedIdle: Set<number>;
  /** Abuse budgets of this connection (see {@link AbuseLimitsInput}). */
  readonly guard: AbuseGuard;
  /** Last stream id of the GOAWAY we sent (streams above it are not processed), or undefined. */
  goawaySent: number | undefined;
  /** Last stream id of the GOAWAY we received (our streams above it were not processed), or undefined. */
  goawayReceived: number | undefined;
  /**
   * @internal Highest id the peer opened (HEADERS) or promised (PUSH_PROMISE) above the last
   * stream id of our GOAWAY: such streams are never created, and frames on them (and on any id of
   * the peer's between our last id and this one) are discarded (RFC 9113 §6.8). 0 until then.
   */
  goawayIgnoredUpTo: number;

  /**
   * @param options roles, header policies, our SETTINGS and limits; every default is documented
   *   on {@link H2ConnectionOptions}.
   */
  constructor(options: H2ConnectionOptions = {}) {
    const o = resolveOptions(options);
    this.o = o;
    this.localSettings = new LocalSettings(!o.clientSide);
    this.remoteSettings = new RemoteSettings(o.clientSide);
    this.decoder = new FrameDecoder({
      expectPreface: !o.clientSide,
      expectSettingsFirst: true,
      maxContinuationFrames: o.maxContinuationFrames,
      maxHeaderBlockSize: o.maxHeaderBlockSize,
    });
    this.hpack = new HeaderCodec({ encoder: { maxTableSize: o.maxEncoderTableSize } });
    this.out = new FrameSink();
    this.streams = new StreamStore(o.clientSide, o.maxClosedStreams);
    this.sendWindow = new SendWindow(65535);
    this.recvWindow = new RecvWindow(65535);
    this.state = ConnectionState.IDLE;
    this.goawaySent = undefined;
    this.goawayReceived = undefined;
    this.goawayIgnoredUpTo = 0;
    this.prioritizedIdle = new Set();
    this.guard = new AbuseGuard(options.limits, options.clock);
  }

  private readonly isLive = (id: number): boolean => this.streams.live.has(id);

  get clientSide(): boolean {
    return this.o.clientSide;
  }

  /**
   * Starts the connection: a client queues the preface and its SETTINGS, a server its SETTINGS.
   * Both sides must call it first.
   */
  initiateConnection(): void {
    this.advance(ConnectionInput.INITIATE, 'the connection was already initiated');
    if (this.o.clientSide) this.out.copy(CLIENT_PREFACE); // a copy: see dataToSend
    this.sendSettings(this.o.settings);
  }

  /** @internal Applies a connection-table input; a local action that is illegal throws UsageError. */
  advance(input: ConnectionInput, why?: string): void {
    const next = nextConnectionState(this.state, input);
    if (next === undefined) {
      throw new UsageError(why ?? (this.state === ConnectionState.IDLE ? 'call initiateConnection() first' : 'the connection is closed'));
    }
    this.state = next;
  }

  /**
   * Starts a connection that was upgraded from HTTP/1.1 (h2c, RFC 7540 §3.2). Stream 1 is the
   * upgraded request: half-closed (local) for the client, half-closed (remote) for the server.
   * - Client: returns the value of the `HTTP2-Settings` header to send with the Upgrade request
   *   (our SETTINGS payload, base64url); after the 101 the preface and SETTINGS go out as usual.
   * - Server: pass the request's `HTTP2-Settings` value; it is applied as the client's SETTINGS
   *   (the 101 is its acknowledgement, so no ACK is sent).
   * @throws ConnectionError PROTOCOL_ERROR (server) for an undecodable HTTP2-Settings value: do
   *   not upgrade then.
   */
  initiateUpgradeConnection(settingsHeader?: string): string | undefined {
    if (this.state !== ConnectionState.IDLE) throw new UsageError('the connection was already initiated');
    if (this.o.clientSide) {
      this.initiateConnection();
      this.openUpgradeStream(StreamInput.UPGRADE_CLIENT);
      const sink = new FrameSink();
      encodeSettings(sink, { ack: false, settings: this.o.settings });
      const frame = concat(sink.take());
      return Buffer.from(frame.subarray(9)).toString('base64url');
    }
    if (settingsHeader === undefined) throw new UsageError('a server needs the HTTP2-Settings header value');
    // RFC 7540 §3.2.1: token68 base64url, padding omitted.
    if (!/^[A-Za-z0-9_-]*$/.test(settingsHeader.trim())) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'HTTP2-Settings is not base64url');
    const payload = Buffer.from(settingsHeader.trim(), 'base64url');
    const frame = decodeSettings({ length: payload.length, type: FrameType.SETTINGS, flags: 0, streamId: 0 }, payload);
    applyRemoteSettings(this, frame.settings);
    this.initiateConnection();
    this.openUpgradeStream(StreamInput.UPGRADE_SERVER);
    return undefined;
  }

  private openUpgradeStream(input: StreamInput): void {
    const s = this.streams.create(1, this.remoteSettings.initialWindowSize, this.localSettings.initialWindowSize);
    this.streams.apply(s, input);
    s.sentPhase = this.o.clientSide ? Phase.FINAL : Phase.NONE;
    s.recvPhase = this.o.clientSide ? Phase.NONE : Phase.FINAL;
  }

  /**
   * Feeds received bytes; returns the events they produced, in wire order.
   * @throws ConnectionError after queueing GOAWAY; its `events` holds what the call produced first.
   */
  receiveData(data: Uint8Array): H2Event[] {
    const events: H2Event[] = [];
    if (this.state === ConnectionState.CLOSED) return events;
    try {
      this.decoder.push(data);
      for (;;) {
        // a GOAWAY with an error earlier in this chunk closed the connection: the rest is not processed
        if ((this.state as ConnectionState) === ConnectionState.CLOSED) break; // (receiveFrame may change it)
        let frame;
        try {
          frame = this.decoder.next();
        } catch (e) {
          if (e instanceof StreamError) {
            streamError(this, e, events);
            continue;
          }
          throw e;
        }
        if (frame === null) break;
        this.guard.inspect(frame, this.isLive);
        try {
          receiveFrame(this, frame, events);
        } catch (e) {
          if (e instanceof StreamError) streamError(this, e, events);
          else throw e;
        }
      }
    } catch (e) {
      if (!(e instanceof ConnectionError)) throw e;
      this.fail(e, events);
      throw e;
    }
    return events;
  }

  /**
   * Up to `amount` octets (all by default) of frames to send, in order; the rest stays queued.
   * The bytes are the caller's: no other connection and no later call returns the same memory,
   * so an I/O layer may transform them in place.
   */
  dataToSend(amount?: number): Uint8Array {
    const total = this.out.length;
    this.guard.drained(); // the caller is reading: queued automatic replies are on their way
    if (total === 0) return EMPTY;
    if (amount === undefined || amount >= total) return this.own(this.out.take(), total);
    if (amount <= 0) return EMPTY;
    const pieces = this.out.take();
    const head: Uint8Array[] = [];
    let n = 0;
    let i = 0;
    for (; i < pieces.length && n < amount; i++) {
      const p = pieces[i]!;
      if (n + p.length <= amount) {
        head.push(p);
        n += p.length;
      } else {
        head.push(p.subarray(0, amount - n));
        pieces[i] = p.subarray(amount - n);
        n = amount;
        break;
      }
    }
    for (; i < pieces.length; i++) this.out.push(pieces[i]!);
    return this.own(head, n);
  }

  /**
   * Pieces joined into bytes nobody else holds. Several are copied into a new buffer anyway; a
   * single one is returned as it is only when it lies in our own slab (written once, never handed
   * out again) — not when it is a view of a caller's DATA payload, which the caller may have
   * given to other connections too.
   */
  private own(pieces: Uint8Array[], n: number): Uint8Array {
    if (pieces.length > 1 || this.out.owns(pieces[0]!)) return concat(pieces, n);
    const out = Buffer.allocUnsafe(n);
    out.set(pieces[0]!);
    return out;
  }

  /**
   * Everything queued, as the pieces it is made of (frame headers and small frames share slab
   * views; DATA payloads are the caller's own views) — no copy. For vectored writes
   * (`socket.cork()`, one `write` per piece, `uncork()`); `dataToSend()` joins them instead.
   */
  dataToSendPieces(): Uint8Array[] {
    this.guard.drained();
    if (this.out.length === 0) return [];
    return this.out.take();
  }

  /** Drops everything queued for sending. */
  clearOutboundDataBuffer(): void {
    this.out.take();
  }

  /** Octets queued for sending. Automatic replies (ACKs) count too. */
  get outboundBufferSize(): number {
    return this.out.length;
  }

  /** True when the outbound buffer is at or above the high-water mark: stop producing, drain first. */
  get outboundBufferFull(): boolean {
    return this.out.length >= this.o.highWaterMark;
  }

  /** The next stream id we may open (not reserved until used). */
  getNextAvailableStreamId(): number {
    const next = this.streams.highestLocal === 0 ? (this.o.clientSide ? 1 : 2) : this.streams.highestLocal + 2;
    if (next > MAX_INT31) throw new UsageError('stream ids are exhausted: open a new connection');
    return next;
  }

  /** Streams we opened that are open or half-closed. */
  get openOutboundStreams(): number {
    return this.streams.openLocal;
  }

  /** Streams the peer opened that are open or half-closed. */
  get openInboundStreams(): number {
    return this.streams.openRemote;
  }

  /** The peer's SETTINGS_MAX_FRAME_SIZE: the largest frame we may send. */
  get maxOutboundFrameSize(): number {
    return this.remoteSettings.maxFrameSize;
  }

  /** Our acknowledged SETTINGS_MAX_FRAME_SIZE: the largest frame the peer may send. */
  get maxInboundFrameSize(): number {
    return this.localSettings.maxFrameSize;
  }

  /**
   * Sends a header block: a request (client), a response or 1xx (server), or trailers.
   * Opens the stream when it is new. Blocks above the peer's MAX_FRAME_SIZE go out as HEADERS +
   * CONTINUATION. A 2xx response to CONNECT makes the stream a tunnel (RFC 9113 §8.5): no header
   * block goes on it after that.
   * @throws UsageError for an illegal id or state, a malformed block, too many streams (a pushed
   *   response counts from its HEADERS, RFC 9113 §5.1.2), a header block on an established
   *   CONNECT tunnel, or content-length on a 2xx response to CONNECT (RFC 9110 §9.3.6).
   */
  sendHeaders(streamId: number, headers: readonly HeaderInput[], options: SendHeadersOptions = {}): void {
    this.assertOpen();
    const endStream = options.endStream === true;
    let s = this.streams.get(streamId);
    const isNew = s === undefined;
    if (s === undefined) {
      if (this.streams.closedBy(streamId) !== undefined) throw notOpen(this, streamId, 'cannot send headers');
      s = newLocalStream(this, streamId);
    }
    const kind = outboundKind(this, s, headers);
    if (kind === 'informational' && endStream) throw new UsageError('a 1xx response cannot end the stream');
    if (kind === 'trailers' && !endStream) throw new UsageError('trailers must end the stream');
    const { fields, info } = prepareOutbound(headers, kind, {
      normalize: this.o.normalizeOutbound, validate: this.o.validateOutbound, splitCookies: this.o.splitCookies,
      connectProtocol: this.remoteSettings.enableConnectProtocol,
    });
    // a 2xx answer to CONNECT (extended CONNECT too, RFC 8441 §4) makes the stream a tunnel
    const tunnel = kind === 'response' && s.method === 'CONNECT' && info.status !== undefined && info.status < 300;
    // > A server MUST NOT send any Transfer-Encoding or Content-Length header fields in a 2xx
    // > (Successful) response to CONNECT.   RFC 9110 §9.3.6
    if (tunnel && this.o.validateOutbound && info.contentLength !== undefined) throw new UsageError('a 2xx response to CONNECT cannot carry content-length (RFC 9110 §9.3.6)');
    // > A CONNECT request message does not have content.   RFC 9110 §9.3.6
    if (kind === 'request' && info.method === 'CONNECT' && info.contentLength !== undefined && this.o.validateOutbound) {
      throw new UsageError('a CONNECT request has no content: no content-length (RFC 9110 §9.3.6)');
    }
    let priority: PriorityFields | undefined;
    if (options.priority !== undefined) {
      priority = { dependsOn: options.priority.dependsOn ?? 0, weight: options.priority.weight ?? 16, exclusive: options.priority.exclusive === true };
      checkPriority(streamId, priority);
    }
    checkPad(options.padLength);
    checkPushedResponse(this, s);
    if (isNew) this.streams.add(s); // built above, stored only once everything is valid
    if (this.streams.apply(s, StreamInput.SEND_HEADERS) === undefined) {
      throw new UsageError(`cannot send headers on stream ${streamId} in state ${s.state}`);
    }
    if (kind === 'request') {
      s.method = info.method;
      s.authority = fields.find(([n]) => n === ':authority')?.[1];
    }
    s.sentPhase = kind === 'informational' ? Phase.INFORMATIONAL : kind === 'trailers' ? Phase.TRAILERS : Phase.FINAL;
    if (tunnel) {
      s.sentPhase = Phase.TUNNEL;
      s.recvPhase = Phase.TUNNEL;
      // > A CONNECT request message does not have content.   RFC 9110 §9.3.6 — what follows the
      // > 2xx is tunnel data (RFC 9113 §8.5), never measured against a content-length
      s.expectedLength = undefined;
    }
    const block = this.hpack.encodeByteStrings(fields);
    encodeHeaders(this.out, { streamId, headerBlock: block, endStream, padLength: options.padLength, priority }, this.maxOutboundFrameSize);
    if (endStream) this.streams.apply(s, StreamInput.SEND_END_STREAM);
  }

  /**
   * Sends one DATA frame. Nothing is split or buffered (the sender in `lib/sender` does that).
   * @throws UsageError beyond min(connection window, stream window), above the peer's
   *   MAX_FRAME_SIZE, or in a state that cannot send DATA.
   */
  sendData(streamId: number, data: Uint8Array, options: SendDataOptions = {}): void {
    this.assertOpen();
    if (!(data instanceof Uint8Array)) throw new UsageError('DATA is a Uint8Array (or a Buffer)');
    const s = this.streams.get(streamId);
    if (s === undefined) throw notOpen(this, streamId, 'cannot send DATA');
    checkPad(options.padLength);
    const size = data.length + (options.padLength === undefined ? 0 : options.padLength + 1);
    if (size > this.maxOutboundFrameSize) throw new UsageError(`DATA of ${size} octets exceeds the peer's MAX_FRAME_SIZE ${this.maxOutboundFrameSize}`);
    if (size > 0 && size > this.localFlowControlWindow(streamId)) {
      throw new UsageError(`DATA of ${size} octets exceeds the flow-control window ${this.localFlowControlWindow(streamId)}`);
    }
    if (this.streams.apply(s, StreamInput.SEND_DATA) === undefined) throw new UsageError(`cannot send DATA on stream ${streamId} in state ${s.state}`);
    s.send.consume(size);
    this.sendWindow.consume(size);
    encodeFrame(this.out, { type: FrameType.DATA, streamId, data, endStream: options.endStream === true, padLength: options.padLength, flowControlledLength: size });
    if (options.endStream) this.streams.apply(s, StreamInput.SEND_END_STREAM);
  }

  /** Ends our side of a stream with an empty DATA frame carrying END_STREAM. */
  endStream(streamId: number): void {
    this.sendData(streamId, EMPTY, { endStream: true });
  }

  /** Resets a stream (RST_STREAM). */
  resetStream(streamId: number, errorCode: number = ErrorCode.NO_ERROR): void {
    this.assertOpen();
    const s = this.streams.get(streamId);
    if (s === undefined) throw notOpen(this, streamId, 'cannot reset it');
    if (this.streams.apply(s, StreamInput.SEND_RST_STREAM) === undefined) throw new UsageError(`stream ${streamId} cannot be reset in state ${s.state}`);
    encodeFrame(this.out, { type: FrameType.RST_STREAM, streamId, errorCode });
  }

  /**
   * Sends GOAWAY. With NO_ERROR the connection drains: streams up to `lastStreamId` (default: the
   * highest the peer opened) finish normally and newer ones are refused; with an error code it
   * closes at once. Streams the peer already opened above `lastStreamId` are closed at once,
   * without RST_STREAM: the GOAWAY tells the peer they were not processed (it may retry them
   * elsewhere), so their frames are ignored from now on. Give a `lastStreamId` at or above every
   * request the application has acted on (RFC 9113 §8.7); it never rises above an earlier one.
   */
  closeConnection(errorCode: number = ErrorCode.NO_ERROR, options: { lastStreamId?: number; debugData?: Uint8Array } = {}): void {
    if (this.state === ConnectionState.CLOSED) return;
    if (this.state === ConnectionState.IDLE) throw new UsageError('call initiateConnection() first');
    if (!Number.isInteger(errorCode) || errorCode < 0 || errorCode > 0xffffffff) throw new UsageError(`bad error code ${errorCode}`);
    if (options.debugData !== undefined && !(options.debugData instanceof Uint8Array)) throw new UsageError('GOAWAY debug data is a Uint8Array');
    const lastStreamId = options.lastStreamId ?? this.streams.highestRemote;
    if (!Number.isInteger(lastStreamId) || lastStreamId < 0 || lastStreamId > MAX_INT31) throw new UsageError(`bad lastStreamId ${lastStreamId}`);
    // > Endpoints MUST NOT increase the value they send in the last stream identifier.   RFC 9113 §6.8
    const last = this.goawaySent === undefined ? lastStreamId : Math.min(this.goawaySent, lastStreamId);
    this.advance(errorCode === ErrorCode.NO_ERROR ? ConnectionInput.SEND_GOAWAY : ConnectionInput.SEND_GOAWAY_ERROR);
    encodeFrame(this.out, { type: FrameType.GOAWAY, streamId: 0, lastStreamId: last, errorCode, debugData: fitDebugData(this, options.debugData ?? EMPTY) });
    this.goawaySent = last;
    // > Once the GOAWAY is sent, the sender will ignore frames sent on streams initiated by the
    // > receiver if the stream has an identifier higher than the included last stream
    // > identifier.   RFC 9113 §6.8
    // The peer closes them on receipt as unprocessed; kept open here, they would still take
    // its frames, and a SETTINGS_INITIAL_WINDOW_SIZE change would be applied to windows the
    // peer no longer counts (a FLOW_CONTROL_ERROR found by the API property).
    if (this.streams.highestRemote > last) {
      for (const s of [...this.streams.live.values()]) {
        if (s.id > last && !this.streams.isLocal(s.id)) {
          s.closedBy = ClosedBy.NONE;
          this.streams.apply(s, StreamInput.SEND_RST_STREAM);
        }
      }
    }
  }

  /** Sends a PING with 8 octets of opaque data. */
  ping(opaqueData: Uint8Array): void {
    this.assertOpen();
    if (!(opaqueData instanceof Uint8Array) || opaqueData.length !== 8) throw new UsageError('PING data must be exactly 8 octets (a Uint8Array)');
    encodeFrame(this.out, { type: FrameType.PING, streamId: 0, ack: false, opaqueData });
  }

  /**
   * Sends new SETTINGS; they apply when the peer acknowledges them.
   * @throws UsageError for a value RFC 9113 §6.5.2 forbids, SETTINGS_INITIAL_WINDOW_SIZE that
   *   would take a peer stream window past 2^31-1 (§6.9.2), SETTINGS_NO_RFC7540_PRIORITIES not
   *   as the first SETTINGS frame set it (RFC 9218 §2.1), or SETTINGS_ENABLE_CONNECT_PROTOCOL back
   *   to 0 (RFC 8441 §3). Nothing is sent then.
   */
  updateSettings(settings: ReadonlyMap<number, number> | readonly Setting[]): void {
    this.assertOpen();
    const list = settings instanceof Map ? [...settings.entries()] : (settings as readonly Setting[]);
    checkWindowRaise(this, list);
    this.sendSettings(list);
  }

  /**
   * Opens a receive window by `increment` (WINDOW_UPDATE): the connection's, or a stream's.
   * @throws UsageError for an increment outside 1..2^31-1, a window that would overflow (counting
   *   a raised SETTINGS_INITIAL_WINDOW_SIZE the peer has not acknowledged yet), or a promised
   *   stream we have not answered yet (reserved (local): the peer must reject it, RFC 9113 §5.1).
   */
  incrementFlowControlWindow(increment: number, streamId?: number): void {
    this.assertOpen();
    if (!Number.isInteger(increment) || increment < 1 || increment > MAX_INT31) throw new UsageError(`window increment ${increment} outside 1..2^31-1`);
    let w = this.recvWindow;
    if (streamId !== undefined && streamId !== 0) {
      const s = this.streams.get(streamId);
      if (s === undefined) throw notOpen(this, streamId, 'cannot open its window');
      checkStreamWindowUpdate(this, s, increment);
      w = s.recv;
    }
    if (!w.open(increment)) throw new UsageError(`window of ${streamId ?? 0} would exceed 2^31-1`);
    encodeFrame(this.out, { type: FrameType.WINDOW_UPDATE, streamId: streamId ?? 0, increment });
  }

  /**
   * The application consumed `size` flow-controlled octets (use DataReceived.flowControlledLength)
   * of `streamId`: WINDOW_UPDATEs go out, coalesced, when worth it (see RecvWindow's policy).
   * A closed stream credits the connection window only.
   */
  acknowledgeReceivedData(size: number, streamId: number): void {
    if (!Number.isInteger(size) || size < 0) throw new UsageError(`acknowledged size ${size} is not a non-negative integer`);
    if (!Number.isInteger(streamId) || streamId <= 0) throw new UsageError(`stream id ${streamId} must be positive`);
    if (this.state === ConnectionState.CLOSED) return;
    const s = this.streams.get(streamId);
    // checked before the connection window is touched: a UsageError changes nothing
    if (s === undefined && this.streams.closedBy(streamId) === undefined) throw new UsageError(`stream ${streamId} was never opened`);
    const c = this.recvWindow.acknowledge(size);
    if (c > 0) encodeFrame(this.out, { type: FrameType.WINDOW_UPDATE, streamId: 0, increment: c });
    if (s === undefined) return;
    if (s.state === StreamState.OPEN || s.state === StreamState.HALF_CLOSED_LOCAL) {
      const inc = s.recv.acknowledge(size);
      if (inc > 0) encodeFrame(this.out, { type: FrameType.WINDOW_UPDATE, streamId, increment: inc });
    }
  }

  /** Octets we may send on the stream now: min(connection window, stream window). */
  localFlowControlWindow(streamId: number): number {
    const s = this.streams.get(streamId);
    if (s === undefined) throw notOpen(this, streamId, 'no window');
    return Math.min(this.sendWindow.size, s.send.size);
  }

  /** Octets the peer may send on the stream now. */
  remoteFlowControlWindow(streamId: number): number {
    const s = this.streams.get(streamId);
    if (s === undefined) throw notOpen(this, streamId, 'no window');
    return Math.min(this.recvWindow.current, s.recv.current);
  }

  /**
   * Sends a PRIORITY frame (a client's RFC 7540 signal; the stream need not be open).
   * @throws UsageError for a server, a self-dependency or a weight outside 1..256.
   */
  prioritize(streamId: number, priority: Partial<PriorityFields> = {}): void {
    this.assertOpen();
    if (!this.o.clientSide) throw new UsageError('only a client sends priority signals');
    const p = { dependsOn: priority.dependsOn ?? 0, weight: priority.weight ?? 16, exclusive: priority.exclusive === true };
    if (!Number.isInteger(streamId) || streamId < 1 || streamId > MAX_INT31) throw new UsageError(`bad stream id ${streamId}`);
    checkPriority(streamId, p);
    encodeFrame(this.out, { type: FrameType.PRIORITY, streamId, priority: p });
  }

  /**
   * A server promises a stream (PUSH_PROMISE on `streamId`, the request it answers); send the
   * response later with sendHeaders on `promisedStreamId` (it waits while the client's
   * MAX_CONCURRENT_STREAMS is reached: promises do not count, responses do).
   * @throws UsageError for a client, when the peer disabled push, on a bad parent (not a client
   *   stream that is open or half-closed (remote), or a CONNECT tunnel) or id, or for a request
   *   that may not be promised: not GET or HEAD, with content, or without :authority (RFC 9113 §8.4).
   */
  pushStream(streamId: number, promisedStreamId: number, requestHeaders: readonly HeaderInput[]): void {
    this.assertOpen();
    if (this.o.clientSide) throw new UsageError('only a server pushes');
    if (nextConnectionState(this.state, ConnectionInput.OPEN_STREAM) === undefined) throw new UsageError('no new streams on a draining connection');
    if (!this.remoteSettings.enablePush) throw new UsageError('the peer disabled server push');
    const parent = this.streams.get(streamId);
    if (this.streams.isLocal(streamId)) throw new UsageError(`stream ${streamId} is not a client stream: pushes answer a client's request (RFC 9113 §8.4)`);
    if (parent === undefined) throw notOpen(this, streamId, 'cannot push on it');
    // > Frame types other than DATA or stream management frames (RST_STREAM, WINDOW_UPDATE, and
    // > PRIORITY) MUST NOT be sent on a connected stream ...   RFC 9113 §8.5
    if (parent.sentPhase === Phase.TUNNEL) throw new UsageError(`stream ${streamId} is an established CONNECT tunnel: no PUSH_PROMISE on it (RFC 9113 §8.5)`);
    if (!Number.isInteger(promisedStreamId) || !this.streams.isLocal(promisedStreamId) || promisedStreamId <= this.streams.highestLocal || promisedStreamId > MAX_INT31) {
      throw new UsageError(`promised stream id ${promisedStreamId} must be a new even id`);
    }
    const { fields } = prepareOutbound(requestHeaders, 'request', {
      normalize: this.o.normalizeOutbound, validate: this.o.validateOutbound, splitCookies: this.o.splitCookies, connectProtocol: false,
    });
    // the client must reset such a promise (RFC 9113 §8.4; quoted at promiseProblem)
    const problem = promiseProblem(fields);
    if (problem !== undefined) throw new UsageError(problem);
    if (this.streams.apply(parent, StreamInput.SEND_PUSH_PROMISE) === undefined) throw new UsageError(`cannot push on stream ${streamId} in state ${parent.state}`);
    const promised = this.streams.create(promisedStreamId, this.remoteSettings.initialWindowSize, this.localSettings.initialWindowSize);
    this.streams.apply(promised, StreamInput.SEND_PROMISED);
    promised.method = fields.find(([n]) => n === ':method')?.[1];
    encodePushPromise(this.out, { streamId, promisedStreamId, headerBlock: this.hpack.encodeByteStrings(fields), padLength: undefined }, this.maxOutboundFrameSize);
  }

  /**
   * A server advertises an alternative service (RFC 7838): for `origin` on stream 0, or for the
   * origin of the request on `streamId`.
   * @throws UsageError for a client, an empty origin, a stream that is not open, or a frame larger
   *   than the peer's MAX_FRAME_SIZE.
   */
  advertiseAlternativeService(fieldValue: string, target: { origin: string } | { streamId: number }): void {
    this.assertOpen();
    if (this.o.clientSide) throw new UsageError('only a server advertises alternative services');
    checkAltsvc(this, 'origin' in target ? target.origin : '', fieldValue);
    if ('origin' in target) {
      if (target.origin.length === 0) throw new UsageError('an origin is required on stream 0');
      encodeFrame(this.out, { type: FrameType.ALTSVC, streamId: 0, origin: target.origin, fieldValue });
    } else {
      if (this.streams.get(target.streamId) === undefined) throw notOpen(this, target.streamId, 'cannot advertise on it');
      encodeFrame(this.out, { type: FrameType.ALTSVC, streamId: target.streamId, origin: '', fieldValue });
    }
  }

  // ---- internals shared with recv.ts --------------------------------------------------------

  /** @internal Queues our SETTINGS and lets the decoder accept raised limits at once. */
  sendSettings(settings: readonly Setting[]): void {
    this.localSettings.send(settings);
    encodeFrame(this.out, { type: FrameType.SETTINGS, streamId: 0, ack: false, settings });
    this.decoder.maxFrameSize = this.localSettings.upperBound(SettingId.MAX_FRAME_SIZE)!;
    this.hpack.setDecoderMaxTableSize(this.localSettings.upperBound(SettingId.HEADER_TABLE_SIZE)!);
  }

  private fail(e: ConnectionError, events: H2Event[]): void {
    e.events = events;
    if (this.state !== ConnectionState.CLOSED) {
      // > Endpoints MUST NOT increase the value they send in the last stream identifier.   RFC 9113 §6.8
      // (after a graceful GOAWAY, streams may exist above its last id: they stay unprocessed)
      const highest = this.streams.highestRemote;
      const last = this.goawaySent === undefined ? highest : Math.min(this.goawaySent, highest);
      encodeFrame(this.out, {
        type: FrameType.GOAWAY, streamId: 0, lastStreamId: last, errorCode: e.errorCode,
        debugData: fitDebugData(this, Buffer.from(e.message.slice(0, 256), 'latin1')),
      });
      this.goawaySent = last;
    }
    this.state = nextConnectionState(this.state, ConnectionInput.FAIL)!;
  }

  private assertOpen(): void {
    if (nextConnectionState(this.state, ConnectionInput.SEND_FRAME) === undefined) this.advance(ConnectionInput.SEND_FRAME);
  }
}
