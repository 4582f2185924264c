// GOAWAY with graceful drain (RFC 9113 §6.8): python h2 closes everything on GOAWAY (#1181);
// here streams up to the last stream id finish, newer ones are refused.
import { ErrorCode, FrameType, MAX_INT31, SettingId } from '../../lib/constants.js';
import { UsageError } from '../../lib/errors.js';
import { clientWithPeer, pair, serverWithPeer } from '../helpers/peer.js';

const GET: Array<[string, string]> = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/']];

describe('GOAWAY we send', () => {
  it('lets streams up to the last id finish and ignores newer ones', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('GET', '/').eos());
    conn.closeConnection(ErrorCode.NO_ERROR);
    peer.expect({ type: FrameType.GOAWAY, lastStreamId: 1, errorCode: ErrorCode.NO_ERROR });
    expect(peer.send(peer.frames.headers(3).request('GET', '/').eos())).toEqual([]);
    conn.sendHeaders(1, [[':status', '200']]);
    conn.sendData(1, Buffer.from('still here'), { endStream: true });
    expect(peer.received().map((f) => f.type)).toEqual([FrameType.HEADERS, FrameType.DATA]);
  });

  it('never raises the last stream id of a second GOAWAY', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('GET', '/'));
    conn.closeConnection(ErrorCode.NO_ERROR, { lastStreamId: 1 });
    conn.closeConnection(ErrorCode.NO_ERROR, { lastStreamId: 99 });
    const [a, b] = peer.received();
    expect([(a as { lastStreamId: number }).lastStreamId, (b as { lastStreamId: number }).lastStreamId]).toEqual([1, 1]);
  });

  it('closes at once with an error code; later sends are usage errors', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    conn.closeConnection(ErrorCode.ENHANCE_YOUR_CALM, { debugData: Buffer.from('slow down') });
    peer.expect({ type: FrameType.GOAWAY, errorCode: ErrorCode.ENHANCE_YOUR_CALM });
    expect(() => conn.ping(Buffer.alloc(8))).toThrow(UsageError);
  });

  it('sends GOAWAY with the highest processed stream on a connection error, keeping the events produced first', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('GET', '/').eos());
    const evs = peer.send(Uint8Array.from([...peer.frames.ping().encode(), ...peer.frames.windowUpdate(0, 0).encode()]));
    expect(evs.map((e) => e.type)).toEqual(['PingReceived']);
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    const out = peer.received();
    expect(out.at(-1)).toMatchObject({ type: FrameType.GOAWAY, lastStreamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR });
  });
});

describe('frames in flight when our GOAWAY crosses them (RFC 9113 §6.8)', () => {
  const BIG = Buffer.alloc(16384, 0x61);
  const join = (...parts: Array<{ encode(max?: number): Uint8Array }>): Uint8Array => Buffer.concat(parts.map((p) => p.encode()));

  /** A server with stream 1 open and its request body in flight, after a graceful GOAWAY (last 1). */
  function draining() {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('POST', '/upload'), peer.frames.data(1, 'part 1'));
    conn.closeConnection(ErrorCode.NO_ERROR);
    peer.expect({ type: FrameType.GOAWAY, lastStreamId: 1, errorCode: ErrorCode.NO_ERROR });
    return { conn, peer, f: peer.frames };
  }

  it('ignores HEADERS and DATA on a stream the peer opened above the last stream id, and finishes the accepted stream (§6.8: ignore, not an error)', () => {
    const { conn, peer, f } = draining();
    const evs = peer.send(join(f.headers(3).request('POST', '/late'), f.data(3, BIG), f.data(3, BIG), f.data(1, 'part 2').eos()));
    expect(evs).toEqual([
      { type: 'DataReceived', streamId: 1, data: Buffer.from('part 2'), flowControlledLength: 6, endStream: true },
      { type: 'StreamEnded', streamId: 1 },
    ]);
    expect(peer.error).toBeUndefined();
    // DATA(3) counted against the connection window and credited back: no leak, no RST_STREAM(3)
    expect(peer.received()).toEqual([{ type: FrameType.WINDOW_UPDATE, streamId: 0, increment: 2 * BIG.length }]);
    expect(conn.streams.get(3)).toBeUndefined();
    conn.sendHeaders(1, [[':status', '200']]);
    conn.sendData(1, Buffer.from('stored'), { endStream: true });
    expect(peer.received()).toMatchObject([
      { type: FrameType.HEADERS, streamId: 1, fields: [[':status', '200']] },
      { type: FrameType.DATA, streamId: 1, endStream: true },
    ]);
  });

  it('decodes the header block of an ignored HEADERS + CONTINUATION so the HPACK context stays in step (§6.8 MUST minimally process)', () => {
    const { peer, f } = draining();
    // the ignored block adds x-trace to the peer's dynamic table; the trailers on 1 refer to it by index
    const ignored = f.headers(3).request('POST', '/late', [['x-trace', 'abc123'], ['x-pad', 'p'.repeat(40)]]).encode(16);
    expect(ignored.length).toBeGreaterThan(9 + 16); // really split into HEADERS + CONTINUATION
    const trailers = f.headers(1).trailers([['x-trace', 'abc123']]).encode();
    const evs = peer.send(Buffer.concat([ignored, trailers]));
    expect(evs).toEqual([
      { type: 'TrailersReceived', streamId: 1, headers: [['x-trace', 'abc123']], endStream: true, priority: undefined },
      { type: 'StreamEnded', streamId: 1 },
    ]);
    expect(peer.error).toBeUndefined();
    peer.expectNothing();
  });

  it('ignores WINDOW_UPDATE, RST_STREAM, PRIORITY, PRIORITY_UPDATE and trailers on an ignored stream, creating no state (§6.8)', () => {
    const { conn, peer, f } = draining();
    peer.send(f.headers(3).request('POST', '/late'), f.headers(7).request('GET', '/later').eos());
    const evs = peer.send(join(
      f.windowUpdate(3, 4096), f.priority(3, 0, 200), f.priorityUpdate(5, 'u=0'), f.priority(9, 0, 50), f.data(5, 'skipped id'),
      f.headers(3).trailers([['x', '1']]), f.reset(7).cancel(), f.data(1, 'end').eos(),
    ));
    expect(evs.map((e) => e.type)).toEqual(['DataReceived', 'StreamEnded']);
    expect(peer.error).toBeUndefined();
    peer.expectNothing();
    expect(conn.streams.live.size).toBe(1);
    expect(conn.prioritizedIdle.size).toBe(0);
  });

  it('keeps DATA on a stream id the peer never opened a PROTOCOL_ERROR after our GOAWAY (§5.1 idle: no HEADERS for it was in flight)', () => {
    const { peer, f } = draining();
    peer.send(f.headers(3).request('POST', '/late'));
    peer.send(f.data(7, 'never opened'));
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(peer.received()).toMatchObject([{ type: FrameType.GOAWAY, lastStreamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR }]);
  });

  it('a client that sent GOAWAY discards a PUSH_PROMISE above its last id and every frame of the promised stream, keeping HPACK in step (§6.8)', () => {
    const { conn, peer } = clientWithPeer();
    peer.handshake();
    conn.sendHeaders(1, GET, { endStream: true });
    peer.received();
    conn.closeConnection(ErrorCode.NO_ERROR);
    peer.expect({ type: FrameType.GOAWAY, lastStreamId: 0 });
    const f = peer.frames;
    const evs = peer.send(join(
      f.pushPromise(1, 2).request('GET', '/style.css'), f.headers(2).response(200, [['content-type', 'text/css']]), f.data(2, BIG), f.data(2, BIG),
      f.headers(1).response(200, [['content-type', 'text/css']]), f.data(1, 'body').eos(),
    ));
    expect(evs).toEqual([
      { type: 'ResponseReceived', streamId: 1, headers: [[':status', '200'], ['content-type', 'text/css']], endStream: false, priority: undefined },
      { type: 'DataReceived', streamId: 1, data: Buffer.from('body'), flowControlledLength: 4, endStream: true },
      { type: 'StreamEnded', streamId: 1 },
    ]);
    expect(peer.error).toBeUndefined();
    expect(peer.received()).toEqual([{ type: FrameType.WINDOW_UPDATE, streamId: 0, increment: 2 * BIG.length }]);
    expect(conn.streams.get(2)).toBeUndefined();
  });

  it('never raises the last stream id in the GOAWAY of a later connection error (§6.8: MUST NOT increase), whatever arrived above it', () => {
    // streams above the last id arrive (ignored), then a connection error
    const { peer, f } = draining();
    peer.send(f.headers(3).request('GET', '/').eos(), f.headers(5).request('GET', '/').eos());
    peer.send(f.windowUpdate(0, 0));
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(peer.received()).toMatchObject([{ type: FrameType.GOAWAY, lastStreamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR }]);
    // streams already open above an explicit, lower last id
    const b = serverWithPeer();
    b.peer.handshake();
    b.peer.send(b.peer.frames.headers(1).request('GET', '/').eos(), b.peer.frames.headers(3).request('GET', '/').eos());
    b.conn.closeConnection(ErrorCode.NO_ERROR, { lastStreamId: 1 });
    b.peer.expect({ type: FrameType.GOAWAY, lastStreamId: 1 });
    b.peer.send(b.peer.frames.windowUpdate(0, 0));
    expect(b.peer.received()).toMatchObject([{ type: FrameType.GOAWAY, lastStreamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR }]);
    expect(b.conn.goawaySent).toBe(1);
  });
});

describe('streams above the last id of our GOAWAY (RFC 9113 §6.8)', () => {
  it('closes the streams the peer opened above an explicit lower last stream id, without RST_STREAM, and ignores their frames (§6.8: the sender will ignore frames on them)', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    const f = peer.frames;
    peer.send(f.headers(1).request('GET', '/').eos(), f.headers(3).request('POST', '/upload'));
    conn.closeConnection(ErrorCode.NO_ERROR, { lastStreamId: 1 });
    peer.expect({ type: FrameType.GOAWAY, lastStreamId: 1 });
    expect(conn.streams.get(3)).toBeUndefined();
    expect(peer.send(f.data(3, 'in flight'), f.windowUpdate(3, 100), f.headers(3).trailers([['x', '1']]))).toEqual([]);
    expect(peer.error).toBeUndefined();
    expect(() => conn.sendHeaders(3, [[':status', '200']])).toThrow(/last stream id of our GOAWAY/);
    conn.sendHeaders(1, [[':status', '204']], { endStream: true }); // stream 1 finishes
    peer.expect({ type: FrameType.HEADERS, streamId: 1, endStream: true });
  });

  it('does not apply the peer\'s SETTINGS_INITIAL_WINDOW_SIZE to a stream above our last id, which the peer no longer counts (no FLOW_CONTROL_ERROR; found by the API property)', () => {
    const { client, server, pump } = pair();
    pump();
    client.sendHeaders(1, GET);
    client.sendHeaders(3, GET);
    pump();
    client.incrementFlowControlWindow(2, 3);
    server.closeConnection(ErrorCode.NO_ERROR, { lastStreamId: 1 });
    pump();
    expect(client.streams.get(3)).toBeUndefined(); // refused by the GOAWAY on the client's side
    client.updateSettings([[SettingId.INITIAL_WINDOW_SIZE, MAX_INT31 - 1]]);
    expect(() => pump()).not.toThrow();
    expect(server.streams.get(1)!.send.size).toBe(MAX_INT31 - 1);
  });
});

describe('GOAWAY we receive', () => {
  it('reports ConnectionTerminated, keeps streams up to the last id, and resets newer ones as refused', () => {
    const { conn, peer } = clientWithPeer();
    peer.handshake();
    conn.sendHeaders(1, GET, { endStream: true });
    conn.sendHeaders(3, GET, { endStream: true });
    const evs = peer.send(peer.frames.goaway(1).debugData('bye'));
    expect(evs[0]).toEqual({ type: 'ConnectionTerminated', errorCode: 0, lastStreamId: 1, additionalData: Buffer.from('bye') });
    expect(evs[1]).toEqual({ type: 'StreamReset', streamId: 3, errorCode: ErrorCode.REFUSED_STREAM, initiator: 'remote' });
    expect(() => conn.sendHeaders(5, GET)).toThrow(UsageError);
    expect(peer.send(peer.frames.headers(1).response(200).eos()).map((e) => e.type)).toEqual(['ResponseReceived', 'StreamEnded']);
  });

  it('drains end to end: in-flight requests complete after a graceful GOAWAY', () => {
    const { client, server, clientEvents, pump } = pair();
    pump();
    for (const id of [1, 3, 5]) client.sendHeaders(id, GET, { endStream: true });
    pump();
    server.closeConnection(ErrorCode.NO_ERROR);
    for (const id of [1, 3, 5]) {
      server.sendHeaders(id, [[':status', '200']]);
      server.sendData(id, Buffer.from(`r${id}`), { endStream: true });
    }
    pump();
    expect(clientEvents.filter((e) => e.type === 'StreamEnded').map((e) => (e as { streamId: number }).streamId)).toEqual([1, 3, 5]);
  });
});
