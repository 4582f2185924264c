// Late frames on closed streams (RFC 9113 §5.1, §5.4.2): what each gets depending on how the
// stream closed, and the bounded memory of closed streams.
import { ErrorCode, FrameType } from '../../lib/constants.js';
import { ConnectionState } from '../../lib/connection/state.js';
import { clientWithPeer, serverWithPeer } from '../helpers/peer.js';

function finished() {
  const { conn, peer } = serverWithPeer({ maxClosedStreams: 4 });
  peer.handshake();
  peer.send(peer.frames.headers(1).request('GET', '/').eos());
  conn.sendHeaders(1, [[':status', '204']], { endStream: true });
  peer.received();
  return { conn, peer };
}

describe('frames on closed streams', () => {
  it('answers DATA after END_STREAM with RST_STREAM(STREAM_CLOSED), once', () => {
    const { peer } = finished();
    expect(peer.send(peer.frames.data(1, 'late'))).toEqual([{ type: 'StreamReset', streamId: 1, errorCode: ErrorCode.STREAM_CLOSED, initiator: 'local' }]);
    peer.expect({ type: FrameType.RST_STREAM, streamId: 1, errorCode: ErrorCode.STREAM_CLOSED });
    expect(peer.send(peer.frames.data(1, 'later'))).toEqual([]);
    expect(peer.received().filter((f) => f.type === FrameType.RST_STREAM)).toEqual([]); // no second RST
  });

  it('treats HEADERS on a stream closed by END_STREAM in both directions as a connection error STREAM_CLOSED (RFC 9113 §5.1 closed, RFC 7540 §5.1 MUST)', () => {
    const { conn, peer } = finished();
    peer.send(peer.frames.headers(3).request('GET', '/').eos()); // another stream, still open
    const evs = peer.send(peer.frames.headers(1).trailers([['x-late', '1']]));
    expect(evs).toEqual([]);
    expect(peer.error?.errorCode).toBe(ErrorCode.STREAM_CLOSED);
    expect(peer.received()).toMatchObject([{ type: FrameType.GOAWAY, lastStreamId: 3, errorCode: ErrorCode.STREAM_CLOSED }]);
    expect(conn.state).toBe(ConnectionState.CLOSED);
  });

  it('treats a second response on a client stream that ended both ways as a connection error STREAM_CLOSED (RFC 9113 §5.1 closed)', () => {
    const { conn, peer } = clientWithPeer();
    peer.handshake();
    conn.sendHeaders(1, [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/']], { endStream: true });
    peer.received();
    expect(peer.send(peer.frames.headers(1).response(200).eos()).map((e) => e.type)).toEqual(['ResponseReceived', 'StreamEnded']);
    peer.send(peer.frames.headers(1).response(200).eos());
    expect(peer.error?.errorCode).toBe(ErrorCode.STREAM_CLOSED);
    expect(peer.received()).toMatchObject([{ type: FrameType.GOAWAY, errorCode: ErrorCode.STREAM_CLOSED }]);
  });

  it('keeps DATA after END_STREAM both ways a stream error STREAM_CLOSED (RFC 9113 §6.1): other streams go on', () => {
    const { conn, peer } = finished();
    peer.send(peer.frames.headers(3).request('POST', '/'));
    expect(peer.send(peer.frames.data(1, 'late'), peer.frames.data(3, 'body').eos()).map((e) => e.type)).toEqual(['StreamReset', 'DataReceived', 'StreamEnded']);
    expect(peer.received()).toMatchObject([{ type: FrameType.RST_STREAM, streamId: 1, errorCode: ErrorCode.STREAM_CLOSED }]);
    expect(peer.error).toBeUndefined();
    conn.sendHeaders(3, [[':status', '204']], { endStream: true });
    peer.expect({ type: FrameType.HEADERS, streamId: 3, endStream: true });
  });

  it('ignores WINDOW_UPDATE, RST_STREAM and PRIORITY on a closed stream', () => {
    const { peer } = finished();
    expect(peer.send(peer.frames.windowUpdate(1, 10), peer.frames.reset(1).cancel())).toEqual([]);
    expect(peer.send(peer.frames.priority(1, 0, 10))).toEqual([{ type: 'PriorityUpdated', streamId: 1, dependsOn: 0, weight: 10, exclusive: false }]);
    peer.expectNothing();
    expect(peer.error).toBeUndefined();
  });

  it('ignores everything after our own RST_STREAM (§5.4.2)', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('POST', '/'));
    conn.resetStream(1, ErrorCode.CANCEL);
    peer.received();
    expect(peer.send(peer.frames.data(1, 'x'), peer.frames.headers(1).trailers([['x', '1']]))).toEqual([]);
    expect(peer.received().filter((f) => f.type === FrameType.RST_STREAM)).toEqual([]);
  });

  it('answers frames after the peer\'s RST_STREAM with STREAM_CLOSED', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('POST', '/'));
    expect(peer.send(peer.frames.reset(1).cancel())).toEqual([{ type: 'StreamReset', streamId: 1, errorCode: ErrorCode.CANCEL, initiator: 'remote' }]);
    expect(peer.send(peer.frames.data(1, 'x'))[0]).toMatchObject({ type: 'StreamReset', errorCode: ErrorCode.STREAM_CLOSED });
  });

  it('treats HEADERS on a forgotten or never-used lower stream id as PROTOCOL_ERROR (§5.1.1)', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(5).request('GET', '/').eos());
    peer.send(peer.frames.headers(3).request('GET', '/').eos());
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it('treats DATA, WINDOW_UPDATE or RST_STREAM on an idle stream as PROTOCOL_ERROR (§5.1 idle)', () => {
    for (const make of ['data', 'window', 'reset'] as const) {
      const { peer } = serverWithPeer();
      peer.handshake();
      peer.send(make === 'data' ? peer.frames.data(7, 'x') : make === 'window' ? peer.frames.windowUpdate(7, 1) : peer.frames.reset(7));
      expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    }
  });

  it('remembers at most maxClosedStreams closed streams', () => {
    const { conn, peer } = serverWithPeer({ maxClosedStreams: 4 });
    peer.handshake();
    for (let id = 1; id <= 41; id += 2) {
      peer.send(peer.frames.headers(id).request('GET', '/').eos());
      conn.sendHeaders(id, [[':status', '204']], { endStream: true });
    }
    expect(conn.streams.closedCount).toBe(4);
    expect(conn.streams.live.size).toBe(0);
  });
});
