// The RFC 9113 §5.1 stream state table: every (state, input) pair, and the named transitions.
import fc from 'fast-check';
import { ErrorCode } from '../../lib/constants.js';
import {
  cell, ClosedBy, countsAsOpen, isPeerInput, type StateHolder, StreamInput as I, StreamState as S, transition, Verdict,
} from '../../lib/stream/state.js';

const STATES = Object.values(S);
const INPUTS = Object.values(I);
const BYS = Object.values(ClosedBy);

describe('stream state table', () => {
  it('answers every peer frame in every state; an error cell leads to CLOSED with an RFC code, a stream error leaving the closing to the RST that answers it (property over all pairs)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...STATES), fc.constantFrom(...BYS), fc.constantFrom(...INPUTS), (state, by, input) => {
        const c = cell(state, by, input);
        if (isPeerInput(input)) {
          expect(c).toBeDefined();
          if (c!.verdict === Verdict.STREAM_ERROR || c!.verdict === Verdict.CONNECTION_ERROR) {
            expect(c!.to).toBe(S.CLOSED);
            expect([ErrorCode.PROTOCOL_ERROR, ErrorCode.STREAM_CLOSED]).toContain(c!.code);
          }
        }
        const s: StateHolder = { state, closedBy: state === S.CLOSED ? (by === ClosedBy.NONE ? ClosedBy.END_STREAM : by) : ClosedBy.NONE };
        const before = { ...s };
        const r = transition(s, input);
        if (r === undefined) {
          expect(isPeerInput(input)).toBe(false); // only local actions can be illegal
          expect(s).toEqual(before); // and then nothing changes
        } else if (r.verdict === Verdict.STREAM_ERROR && before.state !== S.CLOSED) {
          // the caller answers with RST_STREAM, and sending it closes the stream (closed by us)
          expect(s).toEqual(before);
          expect(transition(s, I.SEND_RST_STREAM)?.to).toBe(S.CLOSED);
          expect(s.closedBy).toBe(ClosedBy.SEND_RST);
        } else {
          expect(s.state).toBe(r.to);
          if (s.state === S.CLOSED) expect(s.closedBy).not.toBe(ClosedBy.NONE);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('walks a request/response: idle → open → half-closed (remote) → closed on the server side', () => {
    const s: StateHolder = { state: S.IDLE, closedBy: ClosedBy.NONE };
    expect(transition(s, I.RECV_HEADERS)!.verdict).toBe(Verdict.ACCEPT);
    transition(s, I.RECV_END_STREAM);
    expect(s.state).toBe(S.HALF_CLOSED_REMOTE);
    transition(s, I.SEND_HEADERS);
    transition(s, I.SEND_DATA);
    transition(s, I.SEND_END_STREAM);
    expect([s.state, s.closedBy]).toEqual([S.CLOSED, ClosedBy.END_STREAM]);
  });

  it.each([
    ['DATA on an idle stream (§5.1 idle)', S.IDLE, ClosedBy.NONE, I.RECV_DATA, Verdict.CONNECTION_ERROR, ErrorCode.PROTOCOL_ERROR],
    ['RST_STREAM on an idle stream', S.IDLE, ClosedBy.NONE, I.RECV_RST_STREAM, Verdict.CONNECTION_ERROR, ErrorCode.PROTOCOL_ERROR],
    ['WINDOW_UPDATE on an idle stream', S.IDLE, ClosedBy.NONE, I.RECV_WINDOW_UPDATE, Verdict.CONNECTION_ERROR, ErrorCode.PROTOCOL_ERROR],
    ['PRIORITY on an idle stream', S.IDLE, ClosedBy.NONE, I.RECV_PRIORITY, Verdict.ACCEPT, undefined],
    ['DATA on reserved (local)', S.RESERVED_LOCAL, ClosedBy.NONE, I.RECV_DATA, Verdict.CONNECTION_ERROR, ErrorCode.PROTOCOL_ERROR],
    ['WINDOW_UPDATE on reserved (local)', S.RESERVED_LOCAL, ClosedBy.NONE, I.RECV_WINDOW_UPDATE, Verdict.ACCEPT, undefined],
    ['WINDOW_UPDATE on reserved (remote)', S.RESERVED_REMOTE, ClosedBy.NONE, I.RECV_WINDOW_UPDATE, Verdict.CONNECTION_ERROR, ErrorCode.PROTOCOL_ERROR],
    ['DATA on half-closed (remote)', S.HALF_CLOSED_REMOTE, ClosedBy.NONE, I.RECV_DATA, Verdict.STREAM_ERROR, ErrorCode.STREAM_CLOSED],
    ['HEADERS on half-closed (remote)', S.HALF_CLOSED_REMOTE, ClosedBy.NONE, I.RECV_HEADERS, Verdict.STREAM_ERROR, ErrorCode.STREAM_CLOSED],
    ['DATA after END_STREAM both ways', S.CLOSED, ClosedBy.END_STREAM, I.RECV_DATA, Verdict.STREAM_ERROR, ErrorCode.STREAM_CLOSED],
    ['HEADERS after END_STREAM both ways (§5.1 closed: connection error)', S.CLOSED, ClosedBy.END_STREAM, I.RECV_HEADERS, Verdict.CONNECTION_ERROR, ErrorCode.STREAM_CLOSED],
    ['HEADERS after the peer reset it (§5.1 closed: stream error)', S.CLOSED, ClosedBy.RECV_RST, I.RECV_HEADERS, Verdict.STREAM_ERROR, ErrorCode.STREAM_CLOSED],
    ['DATA after the peer reset it', S.CLOSED, ClosedBy.RECV_RST, I.RECV_DATA, Verdict.STREAM_ERROR, ErrorCode.STREAM_CLOSED],
    ['DATA after we reset it (§5.4.2: ignored)', S.CLOSED, ClosedBy.SEND_RST, I.RECV_DATA, Verdict.IGNORE, undefined],
    ['HEADERS after we reset it', S.CLOSED, ClosedBy.SEND_RST, I.RECV_HEADERS, Verdict.IGNORE, undefined],
    ['WINDOW_UPDATE on a closed stream', S.CLOSED, ClosedBy.END_STREAM, I.RECV_WINDOW_UPDATE, Verdict.IGNORE, undefined],
    ['RST_STREAM on a closed stream', S.CLOSED, ClosedBy.RECV_RST, I.RECV_RST_STREAM, Verdict.IGNORE, undefined],
    ['PRIORITY on a closed stream', S.CLOSED, ClosedBy.END_STREAM, I.RECV_PRIORITY, Verdict.IGNORE, undefined],
    ['PUSH_PROMISE on an open parent (§6.6)', S.OPEN, ClosedBy.NONE, I.RECV_PUSH_PROMISE, Verdict.ACCEPT, undefined],
    ['PUSH_PROMISE on a half-closed (local) parent (§6.6)', S.HALF_CLOSED_LOCAL, ClosedBy.NONE, I.RECV_PUSH_PROMISE, Verdict.ACCEPT, undefined],
    ['PUSH_PROMISE on a half-closed (remote) parent (§6.6: connection error)', S.HALF_CLOSED_REMOTE, ClosedBy.NONE, I.RECV_PUSH_PROMISE, Verdict.CONNECTION_ERROR, ErrorCode.PROTOCOL_ERROR],
    ['PUSH_PROMISE on a parent closed by END_STREAM (§6.6: connection error)', S.CLOSED, ClosedBy.END_STREAM, I.RECV_PUSH_PROMISE, Verdict.CONNECTION_ERROR, ErrorCode.PROTOCOL_ERROR],
    ['PUSH_PROMISE on a parent the peer reset (§6.6: connection error)', S.CLOSED, ClosedBy.RECV_RST, I.RECV_PUSH_PROMISE, Verdict.CONNECTION_ERROR, ErrorCode.PROTOCOL_ERROR],
    ['PUSH_PROMISE on a parent we reset (§6.6: handled, the promise refused)', S.CLOSED, ClosedBy.SEND_RST, I.RECV_PUSH_PROMISE, Verdict.IGNORE, undefined],
    ['PUSH_PROMISE on an idle parent (§5.1 idle)', S.IDLE, ClosedBy.NONE, I.RECV_PUSH_PROMISE, Verdict.CONNECTION_ERROR, ErrorCode.PROTOCOL_ERROR],
  ])('%s', (_n, state, by, input, verdict, code) => {
    const c = cell(state, by, input)!;
    expect(c.verdict).toBe(verdict);
    expect(c.code).toBe(code);
  });

  it('answers late frames on a stream it reset because of a stream error with nothing more (one RST_STREAM per stream)', () => {
    const s: StateHolder = { state: S.CLOSED, closedBy: ClosedBy.END_STREAM };
    expect(transition(s, I.RECV_DATA)!.verdict).toBe(Verdict.STREAM_ERROR);
    expect(s.closedBy).toBe(ClosedBy.SEND_RST);
    expect(transition(s, I.RECV_DATA)!.verdict).toBe(Verdict.IGNORE);
  });

  it('refuses local actions the RFC forbids: DATA before HEADERS, anything but PRIORITY on a closed stream, RST on idle', () => {
    expect(transition({ state: S.IDLE, closedBy: ClosedBy.NONE }, I.SEND_DATA)).toBeUndefined();
    expect(transition({ state: S.IDLE, closedBy: ClosedBy.NONE }, I.SEND_RST_STREAM)).toBeUndefined();
    expect(transition({ state: S.CLOSED, closedBy: ClosedBy.END_STREAM }, I.SEND_DATA)).toBeUndefined();
    expect(transition({ state: S.HALF_CLOSED_LOCAL, closedBy: ClosedBy.NONE }, I.SEND_DATA)).toBeUndefined();
    expect(transition({ state: S.CLOSED, closedBy: ClosedBy.END_STREAM }, I.SEND_PRIORITY)).toBeDefined();
  });

  it('takes the push and upgrade paths: idle → reserved, reserved → half-closed, upgrade → half-closed', () => {
    const pushed: StateHolder = { state: S.IDLE, closedBy: ClosedBy.NONE };
    transition(pushed, I.SEND_PROMISED);
    expect(pushed.state).toBe(S.RESERVED_LOCAL);
    transition(pushed, I.SEND_HEADERS);
    expect(pushed.state).toBe(S.HALF_CLOSED_REMOTE);
    const got: StateHolder = { state: S.IDLE, closedBy: ClosedBy.NONE };
    transition(got, I.RECV_PROMISED);
    transition(got, I.RECV_HEADERS);
    expect(got.state).toBe(S.HALF_CLOSED_LOCAL);
    const up: StateHolder = { state: S.IDLE, closedBy: ClosedBy.NONE };
    transition(up, I.UPGRADE_SERVER);
    expect(up.state).toBe(S.HALF_CLOSED_REMOTE);
  });

  it('counts open and half-closed streams, not reserved ones, towards MAX_CONCURRENT_STREAMS (§5.1.2)', () => {
    expect(STATES.filter(countsAsOpen)).toEqual([S.OPEN, S.HALF_CLOSED_LOCAL, S.HALF_CLOSED_REMOTE]);
  });
});
