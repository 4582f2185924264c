/**
 * The connection's own state machine, as a table. IDLE until `initiateConnection`; OPEN; DRAINING
 * once a GOAWAY with NO_ERROR was sent or received (streams up to the last stream id finish, no
 * new ones start — RFC 9113 §6.8); CLOSED after a GOAWAY with an error code or a connection
 * error. A missing cell is an illegal input: the caller's mistake for local actions.
 */
export const ConnectionState = { IDLE: 0, OPEN: 1, DRAINING: 2, CLOSED: 3 } as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

export const ConnectionInput = {
  /** initiateConnection / initiateUpgradeConnection. */
  INITIATE: 0,
  /** Any frame we send on existing streams or the connection (DATA, HEADERS, PING, SETTINGS …). */
  SEND_FRAME: 1,
  /** HEADERS that open a new stream of ours, or PUSH_PROMISE. */
  OPEN_STREAM: 2,
  SEND_GOAWAY: 3,
  SEND_GOAWAY_ERROR: 4,
  RECV_GOAWAY: 5,
  RECV_GOAWAY_ERROR: 6,
  /** We detected a connection error (and queued GOAWAY). */
  FAIL: 7,
} as const;
export type ConnectionInput = (typeof ConnectionInput)[keyof typeof ConnectionInput];

const S = ConnectionState;
const I = ConnectionInput;

export const CONNECTION_TRANSITIONS: { readonly [state: number]: { readonly [input: number]: ConnectionState | undefined } } = {
  [S.IDLE]: { [I.INITIATE]: S.OPEN, [I.FAIL]: S.CLOSED, [I.RECV_GOAWAY]: S.DRAINING, [I.RECV_GOAWAY_ERROR]: S.CLOSED },
  [S.OPEN]: {
    [I.SEND_FRAME]: S.OPEN, [I.OPEN_STREAM]: S.OPEN, [I.SEND_GOAWAY]: S.DRAINING, [I.SEND_GOAWAY_ERROR]: S.CLOSED,
    [I.RECV_GOAWAY]: S.DRAINING, [I.RECV_GOAWAY_ERROR]: S.CLOSED, [I.FAIL]: S.CLOSED,
  },
  [S.DRAINING]: {
    // existing streams finish; a second GOAWAY may lower the last stream id
    [I.SEND_FRAME]: S.DRAINING, [I.SEND_GOAWAY]: S.DRAINING, [I.SEND_GOAWAY_ERROR]: S.CLOSED,
    [I.RECV_GOAWAY]: S.DRAINING, [I.RECV_GOAWAY_ERROR]: S.CLOSED, [I.FAIL]: S.CLOSED,
  },
  [S.CLOSED]: { [I.FAIL]: S.CLOSED, [I.RECV_GOAWAY]: S.CLOSED, [I.RECV_GOAWAY_ERROR]: S.CLOSED },
};

/** The state after `input`, or undefined when the input is illegal in `state`. */
export function nextConnectionState(state: ConnectionState, input: ConnectionInput): ConnectionState | undefined {
  return CONNECTION_TRANSITIONS[state]![input];
}
