/**
 * The receive side of H2Connection: one handler per frame type. Each consults the stream state
 * table for what the frame gets, updates windows and settings, and pushes events. Stream-level
 * problems throw StreamError (the connection answers RST_STREAM and goes on); connection-level
 * ones throw ConnectionError (GOAWAY). HPACK blocks are always decoded first, even for streams
 * about to be refused, so that the shared compression context stays in step.
 */
import { ErrorCode, Flag, FrameType, SettingId } from '../constants.js';
import { writeU32 } from '../bytes.js';
import { allocFrame } from '../frame/header.js';
import { encodeRstStream } from '../frame/rst-stream.js';
import { ConnectionError, StreamError } from '../errors.js';
import type { ChangedSetting, H2Event } from '../events.js';
import type {
  AltsvcFrame, DataFrame, Frame, GoawayFrame, HeadersFrame, KnownFrame, PingFrame, PriorityFrame, PriorityUpdateFrame,
  PushPromiseFrame, RstStreamFrame, Setting, SettingsFrame, UnknownFrame, WindowUpdateFrame,
} from '../frame/types.js';
import { type BlockKind, checkReceived, joinCookies, promiseProblem } from '../headers.js';
import type { HeaderField } from '../hpack/types.js';
import { type Cell, ClosedBy, cell, StreamInput, StreamState, Verdict } from '../stream/state.js';
import { type H2Stream, Phase } from '../stream/stream.js';
import type { H2Connection } from './connection.js';
import { ConnectionInput, nextConnectionState } from './state.js';

/** Handles one frame from the peer. */
export function receiveFrame(c: H2Connection, frame: Frame, events: H2Event[]): void {
  const f = frame as KnownFrame;
  switch (f.type) {
    case FrameType.DATA: return recvData(c, f, events);
    case FrameType.HEADERS: return recvHeaders(c, f, events);
    case FrameType.PRIORITY: return recvPriority(c, f, events);
    case FrameType.RST_STREAM: return recvRstStream(c, f, events);
    case FrameType.SETTINGS: return recvSettings(c, f, events);
    case FrameType.PUSH_PROMISE: return recvPushPromise(c, f, events);
    case FrameType.PING: return recvPing(c, f, events);
    case FrameType.GOAWAY: return recvGoaway(c, f, events);
    case FrameType.WINDOW_UPDATE: return recvWindowUpdate(c, f, events);
    case FrameType.ALTSVC: return recvAltsvc(c, f, events);
    case FrameType.PRIORITY_UPDATE: return recvPriorityUpdate(c, f, events);
    case FrameType.CONTINUATION: return; // folded by the decoder; never reaches here
    default:
      events.push({ type: 'UnknownFrameReceived', frame: frame as UnknownFrame });
  }
}

/**
 * A stream error raised by the peer's frame: RST_STREAM, StreamReset(local). On a stream we reset
 * already, or one above our GOAWAY's last id, nothing happens; on an idle stream the error becomes
 * a connection error (no RST_STREAM can name an idle stream).
 */
export function streamError(c: H2Connection, e: StreamError, events: H2Event[]): void {
  const id = e.streamId;
  const s = c.streams.get(id);
  if (s === undefined) {
    const by = c.streams.closedBy(id);
    // > An endpoint MUST ignore frames that it receives on closed streams after it has sent a
    // > RST_STREAM frame.   RFC 9113 §5.4.2
    // (malformed ones too: a second RST_STREAM and a second StreamReset would report one
    // stream's end twice)
    if (by === ClosedBy.SEND_RST || discarded(c, id)) return;
    if (by === undefined) {
      // > RST_STREAM frames MUST NOT be sent for a stream in the "idle" state.   RFC 9113 §6.4
      // A stream-scoped error on an idle stream (a malformed PRIORITY) is escalated, as §5.4.1
      // allows: "an endpoint MAY choose to treat a stream error as a connection error".
      throw new ConnectionError(e.errorCode, `${e.message} (stream ${id} is idle)`);
    }
  } else if (s.state === StreamState.CLOSED) {
    return;
  }
  c.guard.provokedReset();
  c.guard.replyQueued();
  if (s !== undefined) {
    s.closedBy = ClosedBy.NONE;
    c.streams.apply(s, StreamInput.SEND_RST_STREAM);
  } else {
    c.streams.markReset(id);
  }
  encodeRstStream(c.out, { streamId: id, errorCode: e.errorCode });
  events.push({ type: 'StreamReset', streamId: id, errorCode: e.errorCode, initiator: 'local' });
}

/** Acts on a table verdict: true when the frame is to be processed. */
function verdict(c: Cell | undefined, streamId: number): boolean {
  if (c === undefined || c.verdict === Verdict.ACCEPT) return true;
  if (c.verdict === Verdict.IGNORE) return false;
  if (c.verdict === Verdict.STREAM_ERROR) throw new StreamError(streamId, c.code!, 'frame not allowed in this stream state');
  throw new ConnectionError(c.code!, `frame not allowed on stream ${streamId} in its state`);
}

/** The verdict for a frame on a stream that is not live: idle, or closed. */
function notLive(c: H2Connection, streamId: number, input: StreamInput): boolean {
  const by = c.streams.closedBy(streamId);
  return verdict(cell(by === undefined ? StreamState.IDLE : StreamState.CLOSED, by ?? ClosedBy.NONE, input), streamId);
}

/**
 * After our GOAWAY: true for a stream of the peer's above its last stream id that is not idle —
 * opened or promised since (its HEADERS or PUSH_PROMISE was discarded), or closed. Called for
 * streams that are not live. Frames on it are discarded once what they do to the connection is
 * done: header blocks decoded (always first), DATA counted against and credited back to the
 * connection window. An id beyond every stream the peer opened keeps the idle rules: no HEADERS
 * for it ever arrived, so DATA there cannot be one of the frames in flight.
 * > Once the GOAWAY is sent, the sender will ignore frames sent on streams initiated by the
 * > receiver if the stream has an identifier higher than the included last stream identifier.
 * > ... HEADERS, PUSH_PROMISE, and CONTINUATION frames MUST be minimally processed to ensure
 * > that the state maintained for field section compression is consistent ...; similarly, DATA
 * > frames MUST be counted toward the connection flow-control window.   RFC 9113 §6.8
 */
function discarded(c: H2Connection, id: number): boolean {
  const last = c.goawaySent;
  if (last === undefined || id <= last || c.streams.isLocal(id)) return false;
  return id <= c.goawayIgnoredUpTo || id <= c.streams.highestRemote;
}

/** After our GOAWAY, a stream of the peer's above its last id that is not live: never processed. */
function beyondGoaway(c: H2Connection, id: number): boolean {
  return c.goawaySent !== undefined && id > c.goawaySent && !c.streams.isLocal(id) && c.streams.get(id) === undefined;
}

/** DATA the application will never see still reopens the connection window (python h2 #1210). */
function credit(c: H2Connection, n: number): void {
  const inc = c.recvWindow.acknowledge(n);
  if (inc > 0) {
    c.guard.replyQueued();
    writeU32(allocFrame(c.out, 4, FrameType.WINDOW_UPDATE, 0, 0), 9, inc);
  }
}

function recvData(c: H2Connection, f: DataFrame, events: H2Event[]): void {
  const n = f.flowControlledLength;
  // > A receiver MUST treat the receipt of ... [data beyond the window] as a connection error
  // > (Section 5.4.1) of type FLOW_CONTROL_ERROR.   RFC 9113 §6.9.1
  if (!c.recvWindow.consume(n)) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'DATA beyond the connection window');
  const s = c.streams.get(f.streamId);
  if (s === undefined) {
    credit(c, n);
    if (!discarded(c, f.streamId)) notLive(c, f.streamId, StreamInput.RECV_DATA);
    return;
  }
  let accepted: boolean;
  try {
    accepted = verdict(c.streams.apply(s, StreamInput.RECV_DATA), f.streamId);
  } catch (e) {
    credit(c, n);
    throw e;
  }
  if (!accepted) {
    credit(c, n);
    return;
  }
  if (s.recvPhase !== Phase.FINAL && s.recvPhase !== Phase.TUNNEL) {
    credit(c, n);
    throw new StreamError(f.streamId, ErrorCode.PROTOCOL_ERROR, 'DATA before the final header block');
  }
  if (!s.recv.consume(n)) {
    credit(c, n);
    throw new StreamError(f.streamId, ErrorCode.FLOW_CONTROL_ERROR, 'DATA beyond the stream window');
  }
  s.receivedLength += f.data.length;
  const bad = lengthProblem(s, f.endStream);
  if (bad !== undefined) {
    credit(c, n);
    throw new StreamError(f.streamId, ErrorCode.PROTOCOL_ERROR, bad);
  }
  events.push({ type: 'DataReceived', streamId: f.streamId, data: f.data, flowControlledLength: n, endStream: f.endStream });
  if (f.endStream) endRemote(c, s, events);
}

/**
 * Why the content so far disagrees with content-length, or undefined. Checked before the frame's
 * event is emitted, so that a malformed message never reaches the application as if it were
 * whole (a request ending with content missing is reset, not delivered and then reset).
 * > A request or response is also malformed if the value of a content-length header field does
 * > not equal the sum of the DATA frame payload lengths that form the content.   RFC 9113 §8.1.1
 * > Malformed requests or responses that are detected MUST be treated as a stream error
 * > (Section 5.4.2) of type PROTOCOL_ERROR.   RFC 9113 §8.1.1
 */
function lengthProblem(s: H2Stream, endStream: boolean): string | undefined {
  const expected = s.expectedLength;
  if (expected === undefined) return undefined;
  if (s.receivedLength > expected) return `content longer than content-length ${expected}`;
  if (endStream && s.receivedLength !== expected) return `content of ${s.receivedLength} octets, content-length ${expected}`;
  return undefined;
}

function endRemote(c: H2Connection, s: H2Stream, events: H2Event[]): void {
  c.streams.apply(s, StreamInput.RECV_END_STREAM);
  events.push({ type: 'StreamEnded', streamId: s.id });
}

function decodeBlock(c: H2Connection, block: Uint8Array, streamId: number): { fields: HeaderField[]; tooLarge?: StreamError } {
  try {
    return { fields: c.hpack.decode(block, streamId) };
  } catch (e) {
    if (e instanceof StreamError) return { fields: [], tooLarge: e };
    throw e;
  }
}

function recvHeaders(c: H2Connection, f: HeadersFrame, events: H2Event[]): void {
  const id = f.streamId;
  const { fields, tooLarge } = decodeBlock(c, f.headerBlock, id);
  let s = c.streams.get(id);
  let refuse = false;
  if (s === undefined) {
    if (discarded(c, id)) return;
    if (c.streams.closedBy(id) !== undefined) {
      // A closed stream we remember gets the table's answer; one below the highest id that we
      // do not remember was never opened, or reused: an unexpected stream identifier.
      if (!c.streams.remembers(id)) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `HEADERS on closed stream ${id}`);
      notLive(c, id, StreamInput.RECV_HEADERS);
      return;
    }
    // > An endpoint that receives an unexpected stream identifier MUST respond with a connection
    // > error (Section 5.4.1) of type PROTOCOL_ERROR.   RFC 9113 §5.1.1
    if (c.streams.isLocal(id) || c.clientSide) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `peer opened stream ${id} with the wrong parity`);
    // After our GOAWAY, streams above its last id are not processed (RFC 9113 §6.8): the peer may
    // have opened it before the GOAWAY reached it. Its later frames are discarded too.
    if (c.goawaySent !== undefined && id > c.goawaySent) {
      c.goawayIgnoredUpTo = id;
      c.guard.ignoredStream();
      return;
    }
    // > An endpoint that receives a HEADERS frame that causes its advertised concurrent stream
    // > limit to be exceeded MUST treat this as a stream error (Section 5.4.2) of type
    // > PROTOCOL_ERROR or REFUSED_STREAM.   RFC 9113 §5.1.2
    refuse = c.streams.openRemote >= c.localSettings.maxConcurrentStreams;
    s = c.streams.create(id, c.remoteSettings.initialWindowSize, c.localSettings.initialWindowSize);
    // streams at or below the new id are no longer idle
    if (c.prioritizedIdle.size > 0) for (const p of c.prioritizedIdle) if (p <= id) c.prioritizedIdle.delete(p);
  } else if (s.state === StreamState.RESERVED_REMOTE) {
    // The pushed response opens the promised stream, which counts from now on (§5.1.2, above).
    refuse = c.streams.openRemote >= c.localSettings.maxConcurrentStreams;
  }
  if (!verdict(c.streams.apply(s, StreamInput.RECV_HEADERS), id)) return;
  if (refuse) throw new StreamError(id, ErrorCode.REFUSED_STREAM, 'too many concurrent streams');
  if (tooLarge) throw tooLarge;
  if (f.priority !== undefined && f.priority.dependsOn === id) {
    throw new StreamError(id, ErrorCode.PROTOCOL_ERROR, 'stream depends on itself (RFC 7540 §5.3.1)');
  }
  const kind = inboundKind(c, s, fields);
  // > An endpoint that receives a HEADERS frame without the END_STREAM flag set after receiving
  // > the HEADERS frame that opens a request or after receiving a final (non-informational)
  // > status code MUST treat the corresponding request or response as malformed.   RFC 9113 §8.1
  if (kind === 'trailers' && !f.endStream) throw new StreamError(id, ErrorCode.PROTOCOL_ERROR, 'trailers without END_STREAM');
  if (kind === 'informational' && f.endStream) throw new StreamError(id, ErrorCode.PROTOCOL_ERROR, '1xx response with END_STREAM');
  let headers = fields;
  let contentLength: number | undefined;
  let status: number | undefined;
  if (c.o.validateInbound) {
    const info = checkReceived(fields, kind, c.localSettings.enableConnectProtocol);
    if ('malformed' in info) throw new StreamError(id, ErrorCode.PROTOCOL_ERROR, `malformed ${kind}: ${info.malformed}`);
    contentLength = info.contentLength;
    status = info.status;
    if (kind === 'request') s.method = info.method;
  }
  if (c.o.normalizeInbound) headers = joinCookies(headers);
  if (c.o.utf8Headers) headers = headers.map((h) => toUtf8(h));
  let phase: Phase = kind === 'informational' ? Phase.INFORMATIONAL : kind === 'trailers' ? Phase.TRAILERS : Phase.FINAL;
  if (kind === 'request' || kind === 'response') {
    // HEAD responses, 204 and 304 carry no body whatever content-length says (RFC 9110 §6.4.1).
    s.expectedLength = kind === 'response' && (s.method === 'HEAD' || status === 204 || status === 304) ? 0 : contentLength;
    if (kind === 'response' && s.method === 'CONNECT' && status !== undefined && status < 300) {
      // A 2xx answer to CONNECT (extended CONNECT too, RFC 8441 §4) makes the stream a tunnel.
      // > A client MUST ignore any Content-Length or Transfer-Encoding header fields received
      // > in a successful response to CONNECT.   RFC 9110 §9.3.6
      s.expectedLength = undefined;
      phase = Phase.TUNNEL;
      s.sentPhase = Phase.TUNNEL;
    }
  }
  const bad = lengthProblem(s, f.endStream);
  if (bad !== undefined) throw new StreamError(id, ErrorCode.PROTOCOL_ERROR, `malformed ${kind}: ${bad}`);
  s.recvPhase = phase;
  const type = kind === 'request' ? 'RequestReceived' : kind === 'response' ? 'ResponseReceived'
    : kind === 'informational' ? 'InformationalResponseReceived' : 'TrailersReceived';
  events.push({ type, streamId: id, headers, endStream: f.endStream, priority: f.priority });
  if (f.endStream) endRemote(c, s, events);
  if (f.priority !== undefined) events.push({ type: 'PriorityUpdated', streamId: id, ...f.priority });
}

function toUtf8(h: HeaderField): HeaderField {
  const v = Buffer.from(h[1], 'latin1').toString('utf8');
  return h[2] ? [h[0], v, true] : [h[0], v];
}

function inboundKind(c: H2Connection, s: H2Stream, fields: readonly HeaderField[]): BlockKind {
  if (s.recvPhase === Phase.FINAL) return 'trailers';
  // > Frame types other than DATA or stream management frames (RST_STREAM, WINDOW_UPDATE, and
  // > PRIORITY) MUST NOT be sent on a connected stream and MUST be treated as a stream error
  // > (Section 5.4.2) if received.   RFC 9113 §8.5
  if (s.recvPhase === Phase.TUNNEL) throw new StreamError(s.id, ErrorCode.PROTOCOL_ERROR, 'HEADERS on an established CONNECT tunnel');
  if (s.recvPhase === Phase.TRAILERS) throw new StreamError(s.id, ErrorCode.PROTOCOL_ERROR, 'header block after trailers');
  if (!c.clientSide) return 'request';
  const status = fields.find(([n]) => n === ':status')?.[1];
  return status !== undefined && status.length === 3 && status[0] === '1' ? 'informational' : 'response';
}

function recvPriority(c: H2Connection, f: PriorityFrame, events: H2Event[]): void {
  // PRIORITY is allowed in any stream state and creates no stream state (RFC 9113 §5.1, §6.3);
  // for a stream that will never be processed (above our GOAWAY's last id) it is discarded.
  if (beyondGoaway(c, f.streamId)) return;
  events.push({ type: 'PriorityUpdated', streamId: f.streamId, ...f.priority });
}

function recvRstStream(c: H2Connection, f: RstStreamFrame, events: H2Event[]): void {
  const s = c.streams.get(f.streamId);
  if (s === undefined) {
    if (!discarded(c, f.streamId)) notLive(c, f.streamId, StreamInput.RECV_RST_STREAM);
    return;
  }
  if (!verdict(c.streams.apply(s, StreamInput.RECV_RST_STREAM), f.streamId)) return;
  events.push({ type: 'StreamReset', streamId: f.streamId, errorCode: f.errorCode, initiator: 'remote' });
}

function recvSettings(c: H2Connection, f: SettingsFrame, events: H2Event[]): void {
  if (f.ack) {
    const changed = c.localSettings.acknowledge();
    c.decoder.maxFrameSize = c.localSettings.upperBound(SettingId.MAX_FRAME_SIZE)!;
    const table = changed.get(SettingId.HEADER_TABLE_SIZE);
    if (table !== undefined) c.hpack.setDecoderMaxTableSize(c.localSettings.upperBound(SettingId.HEADER_TABLE_SIZE)!);
    const list = changed.get(SettingId.MAX_HEADER_LIST_SIZE);
    if (list !== undefined) c.hpack.decoder.maxHeaderListSize = list.newValue;
    const win = changed.get(SettingId.INITIAL_WINDOW_SIZE);
    if (win !== undefined) {
      const delta = win.newValue - (win.originalValue ?? 65535);
      for (const s of c.streams.live.values()) s.recv.resize(delta);
    }
    events.push({ type: 'SettingsAcknowledged', changedSettings: changed });
    return;
  }
  const changed = applyRemoteSettings(c, f.settings);
  // > Upon receiving a SETTINGS frame without the ACK flag, the recipient MUST apply the updated
  // > settings as soon as possible upon receipt ... [and] MUST immediately emit a SETTINGS frame
  // > with the ACK flag set.   RFC 9113 §6.5.3
  c.guard.replyQueued();
  // written into the outbound slab: a shared constant handed out by dataToSend() would be one
  // array in every connection's output, and an I/O layer changing it in place changes them all
  allocFrame(c.out, 0, FrameType.SETTINGS, Flag.ACK, 0);
  events.push({ type: 'RemoteSettingsChanged', changedSettings: changed });
}

/** Applies the peer's settings and their effects on HPACK and the stream windows. */
export function applyRemoteSettings(c: H2Connection, settings: readonly Setting[]): Map<number, ChangedSetting> {
  const changed = c.remoteSettings.receive(settings);
  const table = changed.get(SettingId.HEADER_TABLE_SIZE);
  if (table !== undefined) c.hpack.setEncoderMaxTableSize(table.newValue);
  const win = changed.get(SettingId.INITIAL_WINDOW_SIZE);
  if (win !== undefined) {
    // > ... the receiver MUST adjust the size of all stream flow-control windows that it
    // > maintains by the difference between the new value and the old value. ... [If that]
    // > causes any flow-control window to exceed the maximum size, the receiver MUST treat this
    // > as a connection error (Section 5.4.1) of type FLOW_CONTROL_ERROR.   RFC 9113 §6.9.2
    const delta = win.newValue - (win.originalValue ?? 65535);
    for (const s of c.streams.live.values()) {
      if (!s.send.adjust(delta)) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE overflows stream ${s.id}`);
    }
  }
  return changed;
}

function recvPushPromise(c: H2Connection, f: PushPromiseFrame, events: H2Event[]): void {
  // > A client cannot push. Thus, servers MUST treat the receipt of a PUSH_PROMISE frame as a
  // > connection error (Section 5.4.1) of type PROTOCOL_ERROR.   RFC 9113 §8.4
  if (!c.clientSide) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'a client sent PUSH_PROMISE');
  // > ... SETTINGS_ENABLE_PUSH ... 0 ... receipt of a PUSH_PROMISE frame MUST be treated as a
  // > connection error (Section 5.4.1) of type PROTOCOL_ERROR.   RFC 9113 §6.6
  if (c.localSettings.upperBound(SettingId.ENABLE_PUSH) === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PUSH_PROMISE with push disabled');
  const { fields, tooLarge } = decodeBlock(c, f.headerBlock, f.promisedStreamId);
  const pid = f.promisedStreamId;
  if (pid === 0 || c.streams.isLocal(pid) || pid <= c.streams.highestRemote || pid <= c.goawayIgnoredUpTo) {
    throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `PUSH_PROMISE promising stream ${pid}`);
  }
  // The parent's state decides first (the table, RFC 9113 §6.6): open or half-closed (local) is
  // fine; after our RST_STREAM the promise is refused on its own id; anything else (idle,
  // half-closed (remote), closed by END_STREAM or by the peer's RST_STREAM) is PROTOCOL_ERROR.
  const parent = c.streams.get(f.streamId);
  let parentOk: boolean;
  if (parent === undefined) {
    parentOk = notLive(c, f.streamId, StreamInput.RECV_PUSH_PROMISE);
  } else {
    const v = cell(parent.state, parent.closedBy, StreamInput.RECV_PUSH_PROMISE)!;
    if (v.verdict === Verdict.CONNECTION_ERROR) throw new ConnectionError(v.code!, `PUSH_PROMISE on stream ${f.streamId} in its state`);
    parentOk = v.verdict === Verdict.ACCEPT;
  }
  // > Frame types other than DATA or stream management frames (RST_STREAM, WINDOW_UPDATE, and
  // > PRIORITY) MUST NOT be sent on a connected stream and MUST be treated as a stream error
  // > (Section 5.4.2) if received.   RFC 9113 §8.5
  const onTunnel = parent !== undefined && parent.recvPhase === Phase.TUNNEL;
  // After our GOAWAY a promise above its last id reserves nothing: the block was decoded, the
  // promised stream's frames are discarded from now on (RFC 9113 §6.8).
  if (c.goawaySent !== undefined && pid > c.goawaySent) {
    c.goawayIgnoredUpTo = pid;
    return;
  }
  // Reserved streams do not count towards MAX_CONCURRENT_STREAMS (RFC 9113 §5.1.2): a server
  // promising without end would grow our memory. Beyond the budget the promise is refused on its
  // id (its block was decoded above); refusals that keep coming end the connection.
  const overBudget = c.streams.reservedRemote >= c.guard.maxReservedStreams;
  if (overBudget) c.guard.refusedPush();
  const promised = c.streams.create(pid, c.remoteSettings.initialWindowSize, c.localSettings.initialWindowSize);
  c.streams.apply(promised, StreamInput.RECV_PROMISED);
  // A push on a stream we reset is refused, the promised stream reset; on a tunnel, both are.
  if (onTunnel) streamError(c, new StreamError(f.streamId, ErrorCode.PROTOCOL_ERROR, 'PUSH_PROMISE on a CONNECT tunnel'), events);
  if (!parentOk || onTunnel) throw new StreamError(pid, ErrorCode.REFUSED_STREAM, onTunnel ? `push on CONNECT tunnel ${f.streamId}` : `push on stream ${f.streamId}, which we reset`);
  if (overBudget) throw new StreamError(pid, ErrorCode.REFUSED_STREAM, `${c.guard.maxReservedStreams} promised streams wait already`);
  if (tooLarge) throw new StreamError(pid, tooLarge.errorCode, tooLarge.message);
  if (c.o.validateInbound) {
    const info = checkReceived(fields, 'request', false);
    if ('malformed' in info) throw new StreamError(pid, ErrorCode.PROTOCOL_ERROR, `malformed pushed request: ${info.malformed}`);
    promised.method = info.method;
  }
  const problem = promiseProblem(fields);
  if (problem !== undefined) throw new StreamError(pid, ErrorCode.PROTOCOL_ERROR, problem);
  events.push({ type: 'PushedStreamReceived', pushedStreamId: pid, parentStreamId: f.streamId, headers: c.o.utf8Headers ? fields.map(toUtf8) : fields });
}

function recvPing(c: H2Connection, f: PingFrame, events: H2Event[]): void {
  if (f.ack) {
    events.push({ type: 'PingAckReceived', pingData: f.opaqueData });
    return;
  }
  // > Receivers of a PING frame that does not include an ACK flag MUST send a PING frame with
  // > the ACK flag set in response, with an identical frame payload.   RFC 9113 §6.7
  c.guard.replyQueued();
  allocFrame(c.out, 8, FrameType.PING, Flag.ACK, 0).set(f.opaqueData, 9);
  events.push({ type: 'PingReceived', pingData: Uint8Array.from(f.opaqueData) });
}

function recvGoaway(c: H2Connection, f: GoawayFrame, events: H2Event[]): void {
  // Endpoints must not increase the last stream id they send (RFC 9113 §6.8); if a peer does,
  // the smallest value received stands.
  const last = c.goawayReceived === undefined ? f.lastStreamId : Math.min(c.goawayReceived, f.lastStreamId);
  c.goawayReceived = last;
  events.push({
    type: 'ConnectionTerminated', errorCode: f.errorCode, lastStreamId: f.lastStreamId,
    additionalData: f.debugData.length > 0 ? Uint8Array.from(f.debugData) : undefined,
  });
  // Our streams above the last id were not processed by the peer: they end here, retryable.
  for (const s of [...c.streams.live.values()]) {
    if (c.streams.isLocal(s.id) && s.id > last) {
      s.closedBy = ClosedBy.NONE;
      c.streams.apply(s, StreamInput.RECV_RST_STREAM);
      events.push({ type: 'StreamReset', streamId: s.id, errorCode: ErrorCode.REFUSED_STREAM, initiator: 'remote' });
    }
  }
  c.state = nextConnectionState(c.state, f.errorCode === ErrorCode.NO_ERROR ? ConnectionInput.RECV_GOAWAY : ConnectionInput.RECV_GOAWAY_ERROR)!;
}

function recvWindowUpdate(c: H2Connection, f: WindowUpdateFrame, events: H2Event[]): void {
  if (f.streamId === 0) {
    // > A sender MUST NOT allow a flow-control window to exceed 2^31-1 octets. If a sender
    // > receives a WINDOW_UPDATE that causes a flow-control window to exceed this maximum, it
    // > MUST terminate either the stream or the connection, as appropriate.   RFC 9113 §6.9.1
    if (!c.sendWindow.adjust(f.increment)) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'connection window above 2^31-1');
    events.push({ type: 'WindowUpdated', streamId: 0, delta: f.increment });
    return;
  }
  const s = c.streams.get(f.streamId);
  if (s === undefined) {
    if (!discarded(c, f.streamId)) notLive(c, f.streamId, StreamInput.RECV_WINDOW_UPDATE);
    return;
  }
  if (!verdict(c.streams.apply(s, StreamInput.RECV_WINDOW_UPDATE), f.streamId)) return;
  // > A receiver MUST treat the receipt of a WINDOW_UPDATE frame with a flow-control window
  // > increment of 0 as a stream error (Section 5.4.2) of type PROTOCOL_ERROR.   RFC 9113 §6.9
  // (after the state table: on an idle stream the frame is a connection error, §5.1, and on a
  // closed one it is ignored — the codec leaves this half of the rule to us)
  if (f.increment === 0) throw new StreamError(f.streamId, ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE increment 0');
  if (!s.send.adjust(f.increment)) throw new StreamError(f.streamId, ErrorCode.FLOW_CONTROL_ERROR, 'stream window above 2^31-1');
  events.push({ type: 'WindowUpdated', streamId: f.streamId, delta: f.increment });
}

function recvAltsvc(c: H2Connection, f: AltsvcFrame, events: H2Event[]): void {
  if (!c.clientSide) return; // RFC 7838 §4: a server ignores ALTSVC
  if (f.streamId === 0) {
    events.push({ type: 'AlternativeServiceAvailable', origin: f.origin, fieldValue: f.fieldValue });
    return;
  }
  const s = c.streams.get(f.streamId);
  if (s === undefined || s.authority === undefined || s.recvPhase !== Phase.NONE) return;
  events.push({ type: 'AlternativeServiceAvailable', origin: s.authority, fieldValue: f.fieldValue });
}

function recvPriorityUpdate(c: H2Connection, f: PriorityUpdateFrame, events: H2Event[]): void {
  // > A client MUST NOT send a PRIORITY_UPDATE frame ... [a server's] receipt ... by a client
  // > MUST be treated as a connection error of type PROTOCOL_ERROR.   RFC 9218 §7.1
  if (c.clientSide) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'a server sent PRIORITY_UPDATE');
  const id = f.prioritizedStreamId;
  if (beyondGoaway(c, id)) return; // a request we will not process (RFC 9113 §6.8)
  // > Clients MUST NOT provide a Prioritized stream ID that refers to a push stream in the
  // > "idle" state. Servers that receive a PRIORITY_UPDATE for a push stream in the "idle" state
  // > MUST respond with a connection error of type PROTOCOL_ERROR.   RFC 9218 §7.1
  if (c.streams.isLocal(id) && c.streams.get(id) === undefined && c.streams.closedBy(id) === undefined) {
    throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `PRIORITY_UPDATE for push stream ${id}, which is idle`);
  }
  if (!c.streams.isLocal(id) && c.streams.get(id) === undefined && c.streams.closedBy(id) === undefined) {
    // A signal for a request not yet open. RFC 9218 §7.1: the streams prioritized while idle,
    // plus the active ones, must not exceed our SETTINGS_MAX_CONCURRENT_STREAMS (PROTOCOL_ERROR).
    c.prioritizedIdle.add(id);
    if (c.prioritizedIdle.size + c.streams.openRemote > c.localSettings.maxConcurrentStreams) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PRIORITY_UPDATE for more idle streams than MAX_CONCURRENT_STREAMS allows');
    }
  }
  events.push({ type: 'PriorityUpdateReceived', prioritizedStreamId: id, fieldValue: f.fieldValue });
}
