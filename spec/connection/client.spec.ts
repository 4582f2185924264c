// Client side of H2Connection: requests, responses, 1xx, HEAD and 204/304 bodies, server push,
// ALTSVC, stream id rules (RFC 9113 §5.1.1, §8.4, RFC 7838).
import { ErrorCode, FrameType } from '../../lib/constants.js';
import { UsageError } from '../../lib/errors.js';
import { clientWithPeer } from '../helpers/peer.js';

const GET: Array<[string, string]> = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/']];

describe('client requests and responses', () => {
  it('sends the preface and SETTINGS, then requests on odd ids in increasing order', () => {
    const { conn, peer } = clientWithPeer();
    peer.handshake();
    expect(conn.getNextAvailableStreamId()).toBe(1);
    conn.sendHeaders(1, GET, { endStream: true });
    expect(conn.getNextAvailableStreamId()).toBe(3);
    const f = peer.expect({ type: FrameType.HEADERS, streamId: 1, endStream: true });
    expect(f.fields).toEqual(GET);
    expect(() => conn.sendHeaders(1, GET)).toThrow(UsageError); // used
    expect(() => conn.sendHeaders(2, GET)).toThrow(UsageError); // server parity
  });

  it('reports 1xx, the final response, data and trailers in order', () => {
    const { conn, peer } = clientWithPeer();
    peer.handshake();
    conn.sendHeaders(1, GET, { endStream: true });
    const evs = peer.send(
      peer.frames.headers(1).response(100),
      peer.frames.headers(1).response(200),
      peer.frames.data(1, 'body'),
      peer.frames.headers(1).trailers([['x-checksum', 'abc']]),
    );
    expect(evs.map((e) => e.type)).toEqual(['InformationalResponseReceived', 'ResponseReceived', 'DataReceived', 'TrailersReceived', 'StreamEnded']);
  });

  it('expects no body for a HEAD response whatever content-length says, and for 204/304', () => {
    const { conn, peer } = clientWithPeer();
    peer.handshake();
    conn.sendHeaders(1, [[':method', 'HEAD'], [':scheme', 'https'], [':authority', 'a'], [':path', '/']], { endStream: true });
    expect(peer.send(peer.frames.headers(1).response(200, [['content-length', '1000']]).eos()).map((e) => e.type)).toEqual(['ResponseReceived', 'StreamEnded']);
    conn.sendHeaders(3, GET, { endStream: true });
    peer.send(peer.frames.headers(3).response(304, [['content-length', '1000']]));
    expect(peer.send(peer.frames.data(3, 'x').eos())[0]).toMatchObject({ type: 'StreamReset', errorCode: ErrorCode.PROTOCOL_ERROR });
  });

  it('treats a response with END_STREAM on a 1xx, or trailers without END_STREAM, as malformed (stream error)', () => {
    const { conn, peer } = clientWithPeer();
    peer.handshake();
    conn.sendHeaders(1, GET, { endStream: true });
    expect(peer.send(peer.frames.headers(1).response(103).eos())[0]).toMatchObject({ type: 'StreamReset', streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR });
    conn.sendHeaders(3, GET, { endStream: true });
    peer.send(peer.frames.headers(3).response(200));
    expect(peer.send(peer.frames.headers(3).with([['x', '1']]))[0]).toMatchObject({ type: 'StreamReset', streamId: 3 });
  });

  it('treats HEADERS from a server on a new stream as PROTOCOL_ERROR (servers open streams only by push)', () => {
    const { peer } = clientWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(2).response(200));
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it('sends PRIORITY frames and HEADERS priority fields; a server may not', () => {
    const { conn, peer } = clientWithPeer();
    peer.handshake();
    conn.prioritize(3, { weight: 201 });
    conn.sendHeaders(5, GET, { endStream: true, priority: { dependsOn: 3, weight: 32, exclusive: true } });
    const [p, h] = peer.received();
    expect(p).toMatchObject({ type: FrameType.PRIORITY, streamId: 3, priority: { dependsOn: 0, weight: 201, exclusive: false } });
    expect(h).toMatchObject({ type: FrameType.HEADERS, priority: { dependsOn: 3, weight: 32, exclusive: true } });
    expect(() => conn.prioritize(7, { dependsOn: 7 })).toThrow(UsageError);
  });
});

describe('server push, received (RFC 9113 §8.4)', () => {
  it('reports PushedStreamReceived and then the pushed response on the promised stream', () => {
    const { conn, peer } = clientWithPeer();
    peer.handshake();
    conn.sendHeaders(1, GET, { endStream: true });
    const evs = peer.send(peer.frames.pushPromise(1, 2).request('GET', '/style.css'));
    expect(evs[0]).toMatchObject({ type: 'PushedStreamReceived', pushedStreamId: 2, parentStreamId: 1 });
    expect(peer.send(peer.frames.headers(2).response(200), peer.frames.data(2, 'css').eos()).map((e) => e.type)).toEqual(['ResponseReceived', 'DataReceived', 'StreamEnded']);
  });

  it('treats PUSH_PROMISE as PROTOCOL_ERROR when push is disabled', () => {
    const { conn, peer } = clientWithPeer({ localSettings: { enablePush: false } });
    peer.handshake();
    conn.sendHeaders(1, GET, { endStream: true });
    peer.send(peer.frames.pushPromise(1, 2).request('GET', '/x'));
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it('refuses a push on a stream it reset with RST_STREAM REFUSED_STREAM on the promised id', () => {
    const { conn, peer } = clientWithPeer();
    peer.handshake();
    conn.sendHeaders(1, GET, { endStream: true });
    conn.resetStream(1, ErrorCode.CANCEL);
    peer.received();
    expect(peer.send(peer.frames.pushPromise(1, 2).request('GET', '/x'))).toEqual([{ type: 'StreamReset', streamId: 2, errorCode: ErrorCode.REFUSED_STREAM, initiator: 'local' }]);
    peer.expect({ type: FrameType.RST_STREAM, streamId: 2, errorCode: ErrorCode.REFUSED_STREAM });
  });

  it('refuses a PUSH_PROMISE beyond limits.maxReservedStreams with RST_STREAM(REFUSED_STREAM) on the promised id, still decoding its block (RFC 9113 §5.1.2: reserved streams are not limited by MAX_CONCURRENT_STREAMS)', () => {
    const { conn, peer } = clientWithPeer({ limits: { maxReservedStreams: 2 } });
    peer.handshake();
    conn.sendHeaders(1, GET, { endStream: true });
    peer.received();
    const f = peer.frames;
    expect(peer.send(f.pushPromise(1, 2).request('GET', '/a.js'), f.pushPromise(1, 4).request('GET', '/b.js')).map((e) => e.type))
      .toEqual(['PushedStreamReceived', 'PushedStreamReceived']);
    expect(conn.streams.reservedRemote).toBe(2);
    // over the budget: refused; its block indexes /refused.css in the HPACK context all the same
    expect(peer.send(f.pushPromise(1, 6).request('GET', '/refused.css'))).toEqual([{ type: 'StreamReset', streamId: 6, errorCode: ErrorCode.REFUSED_STREAM, initiator: 'local' }]);
    peer.expect({ type: FrameType.RST_STREAM, streamId: 6, errorCode: ErrorCode.REFUSED_STREAM });
    expect(conn.streams.reservedRemote).toBe(2);
    // the server's response on 6 was in flight: ignored (we reset it, §5.4.2)
    expect(peer.send(f.headers(6).response(200), f.data(6, 'x').eos())).toEqual([]);
    // an answered promise frees a place; the next promise refers to the refused one's indexed path
    expect(peer.send(f.headers(2).response(200)).map((e) => e.type)).toEqual(['ResponseReceived']);
    expect(conn.streams.reservedRemote).toBe(1);
    expect(peer.send(f.pushPromise(1, 8).request('GET', '/refused.css'))).toMatchObject([
      { type: 'PushedStreamReceived', pushedStreamId: 8, headers: expect.arrayContaining([[':path', '/refused.css']]) },
    ]);
    expect(peer.error).toBeUndefined();
    expect(Object.keys(conn.guard.tripped)).toEqual([]);
  });

  it('refuses the pushed response that would open a promised stream beyond our MAX_CONCURRENT_STREAMS (RFC 9113 §5.1.2: REFUSED_STREAM)', () => {
    const { conn, peer } = clientWithPeer({ localSettings: { maxConcurrentStreams: 1 } });
    peer.handshake();
    conn.sendHeaders(1, GET, { endStream: true });
    peer.received();
    const f = peer.frames;
    peer.send(f.pushPromise(1, 2).request('GET', '/a.js'), f.pushPromise(1, 4).request('GET', '/b.js'));
    expect(peer.send(f.headers(2).response(200)).map((e) => e.type)).toEqual(['ResponseReceived']);
    expect(peer.send(f.headers(4).response(200))).toEqual([{ type: 'StreamReset', streamId: 4, errorCode: ErrorCode.REFUSED_STREAM, initiator: 'local' }]);
    peer.expect({ type: FrameType.RST_STREAM, streamId: 4, errorCode: ErrorCode.REFUSED_STREAM });
    expect(conn.openInboundStreams).toBe(1);
    // once 2 ends, a pushed response fits again
    peer.send(f.data(2, 'js').eos(), f.pushPromise(1, 6).request('GET', '/c.js'));
    expect(peer.send(f.headers(6).response(200)).map((e) => e.type)).toEqual(['ResponseReceived']);
  });

  it('treats a promised id that is odd or not increasing as PROTOCOL_ERROR', () => {
    const { conn, peer } = clientWithPeer();
    peer.handshake();
    conn.sendHeaders(1, GET, { endStream: true });
    peer.send(peer.frames.pushPromise(1, 3).request('GET', '/x'));
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });
});

describe('ALTSVC (RFC 7838)', () => {
  it('reports the stream-0 form with its origin and the stream form with the request\'s authority', () => {
    const { conn, peer } = clientWithPeer();
    peer.handshake();
    conn.sendHeaders(1, GET, { endStream: true });
    expect(peer.send(peer.frames.altsvc(0, 'https://example.org', 'h2=":8443"'))).toEqual([{ type: 'AlternativeServiceAvailable', origin: 'https://example.org', fieldValue: 'h2=":8443"' }]);
    expect(peer.send(peer.frames.altsvc(1, '', 'h3=":443"'))).toEqual([{ type: 'AlternativeServiceAvailable', origin: 'example.com', fieldValue: 'h3=":443"' }]);
  });

  it('is sent by servers only', () => {
    const { conn, peer } = clientWithPeer();
    peer.handshake();
    expect(() => conn.advertiseAlternativeService('h2=":1"', { origin: 'https://a' })).toThrow(UsageError);
  });
});
