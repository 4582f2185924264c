// The connection state table: every (state, input) pair is a legal transition or refused, and
// the API follows it (RFC 9113 §6.8 drain, §5.4.1 connection errors).
import fc from 'fast-check';
import { ErrorCode } from '../../lib/constants.js';
import { UsageError } from '../../lib/errors.js';
import { CONNECTION_TRANSITIONS, ConnectionInput, ConnectionState, nextConnectionState } from '../../lib/connection/state.js';
import { serverWithPeer } from '../helpers/peer.js';

describe('connection state table', () => {
  it('maps every (state, input) pair to a state or to "illegal", and nothing leaves CLOSED (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(ConnectionState)), fc.constantFrom(...Object.values(ConnectionInput)), (s, i) => {
        const next = nextConnectionState(s, i);
        if (next !== undefined) expect(Object.values(ConnectionState)).toContain(next);
        if (s === ConnectionState.CLOSED) expect(next === undefined || next === ConnectionState.CLOSED).toBe(true);
        if (i === ConnectionInput.FAIL) expect(next).toBe(ConnectionState.CLOSED);
        if (i === ConnectionInput.OPEN_STREAM && next !== undefined) expect(s).toBe(ConnectionState.OPEN);
      }),
      { numRuns: 500 },
    );
    expect(Object.keys(CONNECTION_TRANSITIONS)).toHaveLength(4);
  });

  it('walks IDLE → OPEN → DRAINING → CLOSED through the API', () => {
    const { conn, peer } = serverWithPeer();
    expect(conn.state).toBe(ConnectionState.IDLE);
    expect(() => conn.ping(Buffer.alloc(8))).toThrow(UsageError);
    peer.handshake();
    expect(conn.state).toBe(ConnectionState.OPEN);
    conn.closeConnection();
    expect(conn.state).toBe(ConnectionState.DRAINING);
    conn.ping(Buffer.alloc(8)); // existing business goes on while draining
    conn.closeConnection(ErrorCode.INTERNAL_ERROR);
    expect(conn.state).toBe(ConnectionState.CLOSED);
    expect(() => conn.ping(Buffer.alloc(8))).toThrow(UsageError);
    expect(peer.send(peer.frames.ping())).toEqual([]); // a closed connection reads nothing more
  });
});
