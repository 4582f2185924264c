/**
 * The send side's rules: what H2Connection's API checks before anything is queued, so that no
 * call produces a frame the peer must reject. Each check throws UsageError before any state
 * changes; `recv.ts` holds the other direction. Streams the peer may count, windows it may
 * overflow, frames it may find too large, settings it may see change, and header blocks a
 * stream's state no longer allows are decided here, with the RFC sentence that makes the peer
 * reject them.
 */
import { MAX_INT31, SettingId } from '../constants.js';
import { UsageError } from '../errors.js';
import type { PriorityFields, Setting } from '../frame/types.js';
import type { BlockKind } from '../headers.js';
import type { HeaderInput } from '../hpack/types.js';
import { ClosedBy, cell, StreamInput, StreamState } from '../stream/state.js';
import { H2Stream, Phase } from '../stream/stream.js';
import type { H2Connection } from './connection.js';
import { ConnectionInput, nextConnectionState } from './state.js';

export function checkPriority(streamId: number, p: PriorityFields): void {
  if (!Number.isInteger(p.weight) || p.weight < 1 || p.weight > 256) throw new UsageError(`weight ${p.weight} outside 1..256`);
  if (!Number.isInteger(p.dependsOn) || p.dependsOn < 0 || p.dependsOn > MAX_INT31) throw new UsageError(`bad dependency ${p.dependsOn}`);
  if (p.dependsOn === streamId) throw new UsageError(`stream ${streamId} cannot depend on itself`);
}

export function checkPad(pad: number | undefined): void {
  if (pad !== undefined && (!Number.isInteger(pad) || pad < 0 || pad > 255)) throw new UsageError(`padding ${pad} outside 0..255`);
}

/** The UsageError for a call naming a stream that is not open, saying what became of it. */
export function notOpen(c: H2Connection, id: number, what: string): UsageError {
  const by = Number.isInteger(id) && id > 0 ? c.streams.closedBy(id) : undefined;
  const abandoned = by !== undefined && c.goawaySent !== undefined && id > c.goawaySent && !c.streams.isLocal(id);
  const why = by === undefined ? 'is not open (idle: never opened)'
    : abandoned ? `is above the last stream id of our GOAWAY (${c.goawaySent}): the peer was told it was not processed`
      : by === ClosedBy.SEND_RST ? 'was reset by us (RST_STREAM sent, maybe because the peer\'s frames on it were malformed)'
        : by === ClosedBy.RECV_RST ? 'was reset by the peer (RST_STREAM received)' : 'is closed';
  return new UsageError(`${what}: stream ${id} ${why}`);
}

/** A stream we open: checks id and limits; not stored until the send succeeds. */
export function newLocalStream(c: H2Connection, id: number): H2Stream {
  if (!Number.isInteger(id) || id < 1 || id > MAX_INT31) throw new UsageError(`bad stream id ${id}`);
  if (!c.streams.isLocal(id)) throw new UsageError(`stream ${id} has the peer's parity`);
  // > An endpoint that receives an unexpected stream identifier MUST respond with a connection
  // > error ... PROTOCOL_ERROR.   RFC 9113 §5.1.1 — a server's stream exists only once promised
  if (!c.clientSide) throw new UsageError(`stream ${id} was never promised: a server opens streams only with pushStream (PUSH_PROMISE)`);
  if (id <= c.streams.highestLocal) throw new UsageError(`stream ${id} is not above the highest id used (${c.streams.highestLocal})`);
  if (nextConnectionState(c.state, ConnectionInput.OPEN_STREAM) === undefined) {
    throw new UsageError('the connection is draining or closed (GOAWAY): no new streams on it');
  }
  // > Endpoints MUST NOT exceed the limit set by their peer.   RFC 9113 §5.1.2
  if (c.streams.openLocal + 1 > c.remoteSettings.maxConcurrentStreams) {
    throw new UsageError(`the peer allows ${c.remoteSettings.maxConcurrentStreams} concurrent streams`);
  }
  return new H2Stream(id, c.remoteSettings.initialWindowSize, c.localSettings.initialWindowSize);
}

/** What a header block we send on `s` is, from what we sent on it before. */
export function outboundKind(c: H2Connection, s: H2Stream, headers: readonly HeaderInput[]): BlockKind {
  // > Frame types other than DATA or stream management frames (RST_STREAM, WINDOW_UPDATE, and
  // > PRIORITY) MUST NOT be sent on a connected stream ...   RFC 9113 §8.5
  if (s.sentPhase === Phase.TUNNEL) throw new UsageError(`stream ${s.id} is an established CONNECT tunnel: only DATA, RST_STREAM, WINDOW_UPDATE and PRIORITY (RFC 9113 §8.5)`);
  if (c.clientSide) return s.sentPhase === Phase.NONE ? 'request' : 'trailers';
  if (s.sentPhase === Phase.FINAL) return 'trailers';
  if (s.sentPhase === Phase.TRAILERS) throw new UsageError('trailers were already sent');
  const status = headers.find((h) => String(h[0]) === ':status');
  return status !== undefined && /^1\d\d$/.test(String(status[1])) ? 'informational' : 'response';
}

/**
 * The response HEADERS of a push opens the promised stream, which counts from then on; the
 * promise itself did not (reserved streams do not count, RFC 9113 §5.1.2).
 * > Endpoints MUST NOT exceed the limit set by their peer.   RFC 9113 §5.1.2
 */
export function checkPushedResponse(c: H2Connection, s: H2Stream): void {
  if (s.state === StreamState.RESERVED_LOCAL && c.streams.openLocal + 1 > c.remoteSettings.maxConcurrentStreams) {
    throw new UsageError(`the peer allows ${c.remoteSettings.maxConcurrentStreams} concurrent streams: the pushed response on ${s.id} waits until one closes (or reset it)`);
  }
}

/**
 * GOAWAY debug data cut to what fits in one frame the peer accepts (the opaque data is only a
 * diagnostic; the GOAWAY itself must get through).
 * > An endpoint MUST send an error code of FRAME_SIZE_ERROR if a frame exceeds the size defined
 * > in SETTINGS_MAX_FRAME_SIZE ... A frame size error in a frame that could alter the state of
 * > the entire connection MUST be treated as a connection error ... any frame with a stream
 * > identifier of 0.   RFC 9113 §4.2
 */
export function fitDebugData(c: H2Connection, d: Uint8Array): Uint8Array {
  const room = c.maxOutboundFrameSize - 8;
  return d.length > room ? d.subarray(0, room) : d;
}

/** An ALTSVC frame must fit in one frame the peer accepts (RFC 7838 §4; RFC 9113 §4.2, above). */
export function checkAltsvc(c: H2Connection, origin: string, fieldValue: string): void {
  const size = 2 + Buffer.byteLength(origin, 'latin1') + Buffer.byteLength(fieldValue, 'latin1');
  if (origin.length > 0xffff || size > c.maxOutboundFrameSize) {
    throw new UsageError(`an ALTSVC frame of ${size} octets exceeds the peer's MAX_FRAME_SIZE ${c.maxOutboundFrameSize}`);
  }
}

/**
 * How far a stream window of the peer may be above ours: a raised SETTINGS_INITIAL_WINDOW_SIZE
 * it may have applied while its ACK has not reached us. (Its window is otherwise at most ours:
 * data in flight only lowers it.)
 */
function pendingWindowRaise(c: H2Connection): number {
  return c.localSettings.upperBound(SettingId.INITIAL_WINDOW_SIZE)! - c.localSettings.initialWindowSize;
}

/**
 * SETTINGS we are about to send must not take a peer stream window past 2^31-1.
 * > An endpoint MUST treat a change to SETTINGS_INITIAL_WINDOW_SIZE that causes any flow-control
 * > window to exceed the maximum size as a connection error (Section 5.4.1) of type
 * > FLOW_CONTROL_ERROR.   RFC 9113 §6.9.2
 */
export function checkWindowRaise(c: H2Connection, settings: readonly Setting[]): void {
  let window: number | undefined;
  for (const [id, value] of settings) if (id === SettingId.INITIAL_WINDOW_SIZE) window = value;
  if (window === undefined || !Number.isInteger(window)) return; // LocalSettings.send rejects bad values
  const raise = Math.max(window, c.localSettings.upperBound(SettingId.INITIAL_WINDOW_SIZE)!) - c.localSettings.initialWindowSize;
  for (const s of c.streams.live.values()) {
    if (Math.max(s.recv.current, s.recv.max) + raise > MAX_INT31) {
      throw new UsageError(`SETTINGS_INITIAL_WINDOW_SIZE ${window} would take the peer's window of stream ${s.id} above 2^31-1 (RFC 9113 §6.9.2)`);
    }
  }
}

/** A WINDOW_UPDATE we are about to send on stream `s`. */
export function checkStreamWindowUpdate(c: H2Connection, s: H2Stream, increment: number): void {
  // > [reserved (remote), the peer's side of our reserved (local):] Receiving any type of frame
  // > other than HEADERS, RST_STREAM, or PRIORITY on a stream in this state MUST be treated as a
  // > connection error (Section 5.4.1) of type PROTOCOL_ERROR.   RFC 9113 §5.1
  if (cell(s.state, s.closedBy, StreamInput.SEND_WINDOW_UPDATE) === undefined) {
    throw new UsageError(`cannot send WINDOW_UPDATE on stream ${s.id} in state ${s.state} (a promised stream before its response: the peer must reject it)`);
  }
  // > A sender MUST NOT allow a flow-control window to exceed 2^31-1 octets.   RFC 9113 §6.9.1
  if (s.recv.current + increment + pendingWindowRaise(c) > MAX_INT31) throw new UsageError(`window of ${s.id} would exceed 2^31-1`);
}
