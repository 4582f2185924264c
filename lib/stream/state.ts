/**
 * The stream state machine of RFC 9113 §5.1 as tables. `SEND` inputs are the local API: a
 * missing cell is the caller's mistake (UsageError). `RECV` inputs are the peer's frames: every
 * cell is present and says what the frame gets — accepted, ignored, a stream error, or a
 * connection error — with the RFC's code. Only {@link transition} assigns a stream's state.
 *
 *                              +--------+
 *                      send PP |        | recv PP
 *                     ,--------+  idle  +--------.
 *                    /         |        |         \
 *                   v          +--------+          v
 *            +----------+          |           +----------+
 *            |          |          | send H /  |          |
 *     ,------+ reserved |          | recv H    | reserved +------.
 *     |      | (local)  |          |           | (remote) |      |
 *     |      +---+------+          v           +------+---+      |
 *     |          |             +--------+             |          |
 *     |          |     recv ES |        | send ES     |          |
 *     |   send H |     ,-------+  open  +-------.     | recv H   |
 *     |          |    /        |        |        \    |          |
 *     |          v   v         +---+----+         v   v          |
 *     |      +----------+          |           +----------+      |
 *     |      |   half-  |          |           |   half-  |      |
 *     |      |  closed  |          | send R /  |  closed  |      |
 *     |      | (remote) |          | recv R    | (local)  |      |
 *     |      +----+-----+          |           +-----+----+      |
 *     |           |                |                 |           |
 *     |           | send ES /      |       recv ES / |           |
 *     |           |  send R /      v        send R / |           |
 *     |           |  recv R    +--------+   recv R   |           |
 *     | send R /  `----------->|        |<-----------'  send R / |
 *     | recv R                 | closed |               recv R   |
 *     `----------------------->|        |<-----------------------'
 *                              +--------+
 *
 *   send: endpoint sends this frame; recv: endpoint receives this frame
 *   H: HEADERS frame (with implied CONTINUATION frames); ES: END_STREAM flag
 *   R: RST_STREAM frame; PP: PUSH_PROMISE frame (with implied CONTINUATION frames)
 *   (PP state transitions are for the promised stream only.)          RFC 9113 §5.1, Figure 2
 */
import { ErrorCode } from '../constants.js';

export const StreamState = {
  IDLE: 0,
  RESERVED_LOCAL: 1,
  RESERVED_REMOTE: 2,
  OPEN: 3,
  HALF_CLOSED_LOCAL: 4,
  HALF_CLOSED_REMOTE: 5,
  CLOSED: 6,
} as const;
export type StreamState = (typeof StreamState)[keyof typeof StreamState];

export const StreamInput = {
  SEND_HEADERS: 0,
  RECV_HEADERS: 1,
  SEND_DATA: 2,
  RECV_DATA: 3,
  SEND_END_STREAM: 4,
  RECV_END_STREAM: 5,
  SEND_RST_STREAM: 6,
  RECV_RST_STREAM: 7,
  SEND_WINDOW_UPDATE: 8,
  RECV_WINDOW_UPDATE: 9,
  SEND_PRIORITY: 10,
  RECV_PRIORITY: 11,
  /** PUSH_PROMISE on this (parent) stream. */
  SEND_PUSH_PROMISE: 12,
  RECV_PUSH_PROMISE: 13,
  /** This stream is the one a PUSH_PROMISE promises. */
  SEND_PROMISED: 14,
  RECV_PROMISED: 15,
  /** Stream 1 of an h2c upgrade (RFC 7540 §3.2). */
  UPGRADE_CLIENT: 16,
  UPGRADE_SERVER: 17,
} as const;
export type StreamInput = (typeof StreamInput)[keyof typeof StreamInput];

/** How a closed stream got closed: decides what late frames get. */
export const ClosedBy = { NONE: 0, END_STREAM: 1, SEND_RST: 2, RECV_RST: 3 } as const;
export type ClosedBy = (typeof ClosedBy)[keyof typeof ClosedBy];

/** What a received frame gets. */
export const Verdict = {
  /** Process it. */
  ACCEPT: 0,
  /** Drop it silently (DATA still counts against the connection window). */
  IGNORE: 1,
  /** RST_STREAM with `code`; the stream is closed. */
  STREAM_ERROR: 2,
  /** GOAWAY with `code`; the connection is closed. */
  CONNECTION_ERROR: 3,
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export interface Cell {
  readonly to: StreamState;
  readonly verdict: Verdict;
  readonly code?: number;
}

const S = StreamState;
const I = StreamInput;
const ok = (to: StreamState): Cell => ({ to, verdict: Verdict.ACCEPT });
const ignore = (to: StreamState): Cell => ({ to, verdict: Verdict.IGNORE });
const streamClosed: Cell = { to: S.CLOSED, verdict: Verdict.STREAM_ERROR, code: ErrorCode.STREAM_CLOSED };
const protocol = (to: StreamState): Cell => ({ to, verdict: Verdict.CONNECTION_ERROR, code: ErrorCode.PROTOCOL_ERROR });
const streamClosedConnection: Cell = { to: S.CLOSED, verdict: Verdict.CONNECTION_ERROR, code: ErrorCode.STREAM_CLOSED };

// > A receiver MUST treat the receipt of a PUSH_PROMISE on a stream that is neither "open" nor
// > "half-closed (local)" as a connection error (Section 5.4.1) of type PROTOCOL_ERROR. However,
// > an endpoint that has sent RST_STREAM on the associated stream MUST handle PUSH_PROMISE
// > frames that might have been created before the RST_STREAM frame is received and processed.
// >                                                                          RFC 9113 §6.6
// (the parent's cell; the idle and reserved rows get it from their PROTOCOL_ERROR default, and
// the row of a stream closed by our RST_STREAM ignores it: the promised stream is refused)
const pushOnWrongParent: Cell = { to: S.CLOSED, verdict: Verdict.CONNECTION_ERROR, code: ErrorCode.PROTOCOL_ERROR };

type Row = { readonly [input: number]: Cell | undefined };

/** Local actions: a missing cell is a UsageError. */
export const SEND: { readonly [state: number]: Row } = {
  [S.IDLE]: {
    [I.SEND_HEADERS]: ok(S.OPEN),
    [I.SEND_PRIORITY]: ok(S.IDLE),
    [I.SEND_PROMISED]: ok(S.RESERVED_LOCAL),
    [I.UPGRADE_CLIENT]: ok(S.HALF_CLOSED_LOCAL),
    [I.UPGRADE_SERVER]: ok(S.HALF_CLOSED_REMOTE),
  },
  // > reserved (local): ... the endpoint can send a HEADERS frame ... [and] RST_STREAM ... PRIORITY
  [S.RESERVED_LOCAL]: {
    [I.SEND_HEADERS]: ok(S.HALF_CLOSED_REMOTE),
    [I.SEND_RST_STREAM]: ok(S.CLOSED),
    [I.SEND_PRIORITY]: ok(S.RESERVED_LOCAL),
  },
  [S.RESERVED_REMOTE]: {
    [I.SEND_RST_STREAM]: ok(S.CLOSED),
    [I.SEND_WINDOW_UPDATE]: ok(S.RESERVED_REMOTE),
    [I.SEND_PRIORITY]: ok(S.RESERVED_REMOTE),
  },
  [S.OPEN]: {
    [I.SEND_HEADERS]: ok(S.OPEN),
    [I.SEND_DATA]: ok(S.OPEN),
    [I.SEND_END_STREAM]: ok(S.HALF_CLOSED_LOCAL),
    [I.SEND_RST_STREAM]: ok(S.CLOSED),
    [I.SEND_WINDOW_UPDATE]: ok(S.OPEN),
    [I.SEND_PRIORITY]: ok(S.OPEN),
    [I.SEND_PUSH_PROMISE]: ok(S.OPEN),
  },
  // > half-closed (local): A stream that is in the "half-closed (local)" state cannot be used for
  // > sending frames other than WINDOW_UPDATE, PRIORITY, and RST_STREAM.
  [S.HALF_CLOSED_LOCAL]: {
    [I.SEND_RST_STREAM]: ok(S.CLOSED),
    [I.SEND_WINDOW_UPDATE]: ok(S.HALF_CLOSED_LOCAL),
    [I.SEND_PRIORITY]: ok(S.HALF_CLOSED_LOCAL),
  },
  [S.HALF_CLOSED_REMOTE]: {
    [I.SEND_HEADERS]: ok(S.HALF_CLOSED_REMOTE),
    [I.SEND_DATA]: ok(S.HALF_CLOSED_REMOTE),
    [I.SEND_END_STREAM]: ok(S.CLOSED),
    [I.SEND_RST_STREAM]: ok(S.CLOSED),
    [I.SEND_WINDOW_UPDATE]: ok(S.HALF_CLOSED_REMOTE),
    [I.SEND_PRIORITY]: ok(S.HALF_CLOSED_REMOTE),
    [I.SEND_PUSH_PROMISE]: ok(S.HALF_CLOSED_REMOTE),
  },
  // > An endpoint MUST NOT send frames other than PRIORITY on a closed stream.
  [S.CLOSED]: {
    [I.SEND_PRIORITY]: ok(S.CLOSED),
  },
};

const RECV_INPUTS = [
  I.RECV_HEADERS, I.RECV_DATA, I.RECV_END_STREAM, I.RECV_RST_STREAM, I.RECV_WINDOW_UPDATE, I.RECV_PRIORITY,
  I.RECV_PUSH_PROMISE, I.RECV_PROMISED,
] as const;

/** Fills every receive input a row does not name with `fallback`. */
function total(row: Row, fallback: Cell): Row {
  const out: { [input: number]: Cell } = {};
  for (const i of RECV_INPUTS) out[i] = row[i] ?? fallback;
  return out;
}

/** Peer frames: every cell present. The CLOSED row is chosen by how the stream closed. */
export const RECV: { readonly [state: number]: Row } = {
  // > Receiving any frame other than HEADERS or PRIORITY on a stream in this state MUST be treated
  // > as a connection error (Section 5.4.1) of type PROTOCOL_ERROR.   (idle)
  [S.IDLE]: total({
    [I.RECV_HEADERS]: ok(S.OPEN),
    [I.RECV_PRIORITY]: ok(S.IDLE),
    [I.RECV_PROMISED]: ok(S.RESERVED_REMOTE),
  }, protocol(S.CLOSED)),
  // > Receiving any type of frame other than RST_STREAM, PRIORITY, or WINDOW_UPDATE on a stream in
  // > this state MUST be treated as a connection error (Section 5.4.1) of type PROTOCOL_ERROR.
  [S.RESERVED_LOCAL]: total({
    [I.RECV_RST_STREAM]: ok(S.CLOSED),
    [I.RECV_PRIORITY]: ok(S.RESERVED_LOCAL),
    [I.RECV_WINDOW_UPDATE]: ok(S.RESERVED_LOCAL),
  }, protocol(S.CLOSED)),
  // > Receiving any type of frame other than HEADERS, RST_STREAM, or PRIORITY on a stream in this
  // > state MUST be treated as a connection error (Section 5.4.1) of type PROTOCOL_ERROR.
  [S.RESERVED_REMOTE]: total({
    [I.RECV_HEADERS]: ok(S.HALF_CLOSED_LOCAL),
    [I.RECV_RST_STREAM]: ok(S.CLOSED),
    [I.RECV_PRIORITY]: ok(S.RESERVED_REMOTE),
  }, protocol(S.CLOSED)),
  [S.OPEN]: total({
    [I.RECV_HEADERS]: ok(S.OPEN),
    [I.RECV_DATA]: ok(S.OPEN),
    [I.RECV_END_STREAM]: ok(S.HALF_CLOSED_REMOTE),
    [I.RECV_RST_STREAM]: ok(S.CLOSED),
    [I.RECV_WINDOW_UPDATE]: ok(S.OPEN),
    [I.RECV_PRIORITY]: ok(S.OPEN),
    [I.RECV_PUSH_PROMISE]: ok(S.OPEN),
  }, protocol(S.CLOSED)),
  [S.HALF_CLOSED_LOCAL]: total({
    [I.RECV_HEADERS]: ok(S.HALF_CLOSED_LOCAL),
    [I.RECV_DATA]: ok(S.HALF_CLOSED_LOCAL),
    [I.RECV_END_STREAM]: ok(S.CLOSED),
    [I.RECV_RST_STREAM]: ok(S.CLOSED),
    [I.RECV_WINDOW_UPDATE]: ok(S.HALF_CLOSED_LOCAL),
    [I.RECV_PRIORITY]: ok(S.HALF_CLOSED_LOCAL),
    [I.RECV_PUSH_PROMISE]: ok(S.HALF_CLOSED_LOCAL),
  }, protocol(S.CLOSED)),
  // > If an endpoint receives additional frames, other than WINDOW_UPDATE, PRIORITY, or
  // > RST_STREAM, for a stream that is in this state, it MUST respond with a stream error
  // > (Section 5.4.2) of type STREAM_CLOSED.   (half-closed (remote))
  [S.HALF_CLOSED_REMOTE]: total({
    [I.RECV_RST_STREAM]: ok(S.CLOSED),
    [I.RECV_WINDOW_UPDATE]: ok(S.HALF_CLOSED_REMOTE),
    [I.RECV_PRIORITY]: ok(S.HALF_CLOSED_REMOTE),
    [I.RECV_PUSH_PROMISE]: pushOnWrongParent,
  }, streamClosed),
};

/**
 * Closed streams, by how they closed. WINDOW_UPDATE, RST_STREAM and PRIORITY are always ignored
 * (they can cross the frame that closed the stream, RFC 9113 §5.1).
 */
export const RECV_CLOSED: { readonly [by: number]: Row } = {
  // > An endpoint MUST ignore frames that it receives on closed streams after it has sent a
  // > RST_STREAM frame.   RFC 9113 §5.4.2
  [ClosedBy.SEND_RST]: total({}, ignore(S.CLOSED)),
  // > An endpoint that receives any frame other than PRIORITY after receiving a RST_STREAM MUST
  // > treat that as a stream error (Section 5.4.2) of type STREAM_CLOSED.   RFC 9113 §5.1
  [ClosedBy.RECV_RST]: total({
    [I.RECV_WINDOW_UPDATE]: ignore(S.CLOSED),
    [I.RECV_RST_STREAM]: ignore(S.CLOSED),
    [I.RECV_PRIORITY]: ignore(S.CLOSED),
    [I.RECV_PUSH_PROMISE]: pushOnWrongParent,
  }, streamClosed),
  // > If a DATA frame is received whose stream is not in the "open" or "half-closed (local)"
  // > state, the recipient MUST respond with a stream error (Section 5.4.2) of type
  // > STREAM_CLOSED.   RFC 9113 §6.1
  [ClosedBy.END_STREAM]: total({
    [I.RECV_WINDOW_UPDATE]: ignore(S.CLOSED),
    [I.RECV_RST_STREAM]: ignore(S.CLOSED),
    [I.RECV_PRIORITY]: ignore(S.CLOSED),
    // > ... an endpoint that receives any frames after receiving a frame with the END_STREAM
    // > flag set MUST treat that as a connection error (Section 5.4.1) of type STREAM_CLOSED,
    // > unless the frame is permitted as described below.   RFC 7540 §5.1 (closed)
    // > An endpoint MAY treat receipt of any other type of frame on a closed stream as a
    // > connection error (Section 5.4.1) of type STREAM_CLOSED, except as noted below.
    // >                                                      RFC 9113 §5.1 (closed)
    // Both directions ended, so no frame of ours can have crossed this one: a header block here
    // is a peer that lost track of its streams, not a race.
    [I.RECV_HEADERS]: streamClosedConnection,
    // the peer ended its side of the parent before promising on it (RFC 9113 §6.6, above)
    [I.RECV_PUSH_PROMISE]: pushOnWrongParent,
  }, streamClosed),
};

/** True for inputs that are the peer's frames (RECV_*); false for local actions. */
export function isPeerInput(input: StreamInput): boolean {
  return input % 2 === 1 && input !== I.UPGRADE_SERVER;
}

/** The cell for `input` in `state` (with `closedBy` for CLOSED); undefined: an illegal local action. */
export function cell(state: StreamState, closedBy: ClosedBy, input: StreamInput): Cell | undefined {
  if (!isPeerInput(input)) return SEND[state]![input];
  if (state === S.CLOSED) return RECV_CLOSED[closedBy === ClosedBy.NONE ? ClosedBy.END_STREAM : closedBy]![input];
  return RECV[state]![input];
}

/** What the state machine needs on a stream record. */
export interface StateHolder {
  state: StreamState;
  closedBy: ClosedBy;
}

const CLOSING: { readonly [input: number]: ClosedBy } = {
  [I.SEND_RST_STREAM]: ClosedBy.SEND_RST,
  [I.RECV_RST_STREAM]: ClosedBy.RECV_RST,
  [I.SEND_END_STREAM]: ClosedBy.END_STREAM,
  [I.RECV_END_STREAM]: ClosedBy.END_STREAM,
};

/**
 * Applies `input` to the stream: returns the cell (verdict and error code), or undefined for an
 * illegal local action (the stream is then unchanged). Errors close the stream; a stream closed
 * by a stream error counts as reset by us.
 */
export function transition(s: StateHolder, input: StreamInput): Cell | undefined {
  const c = cell(s.state, s.closedBy, input);
  if (c === undefined) return undefined;
  // A stream error on a stream that is not closed yet changes nothing here: the caller answers
  // it with RST_STREAM, and sending that RST is what closes the stream (closed by us). Closing it
  // now would retire it before the RST is sent — and a stream we think we reset gets no RST.
  if (c.verdict === Verdict.STREAM_ERROR && s.state !== S.CLOSED) return c;
  if (c.to === S.CLOSED && s.state !== S.CLOSED) {
    s.closedBy = c.verdict === Verdict.STREAM_ERROR ? ClosedBy.SEND_RST : (CLOSING[input] ?? ClosedBy.SEND_RST);
  }
  if (c.verdict === Verdict.STREAM_ERROR && s.state === S.CLOSED) s.closedBy = ClosedBy.SEND_RST;
  s.state = c.to;
  return c;
}

/** "Open" for MAX_CONCURRENT_STREAMS: open or half-closed (RFC 9113 §5.1.2). */
export function countsAsOpen(state: StreamState): boolean {
  return state === S.OPEN || state === S.HALF_CLOSED_LOCAL || state === S.HALF_CLOSED_REMOTE;
}
