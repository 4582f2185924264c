// RFC rules the earlier suites missed (issue 17): frames on idle streams, frames after our own
// RST_STREAM, push limits and promised requests, CONNECT tunnels, PRIORITY_UPDATE for push
// streams, PUSH_PROMISE parents, API guards that keep us from sending what the peer must reject,
// malformed requests that never reach the application, and output buffers nobody shares.
// Each test is named after the rule it checks; every frame comparison is structural.
import { ErrorCode, FrameType, MAX_INT31, SettingId } from '../../lib/constants.js';
import { H2Connection } from '../../lib/connection/connection.js';
import { ConnectionState } from '../../lib/connection/state.js';
import { UsageError } from '../../lib/errors.js';
import { FrameDecoder } from '../../lib/frame/decoder.js';
import type { HeaderInput } from '../../lib/hpack/types.js';
import { StreamState } from '../../lib/stream/state.js';
import { unhex } from '../helpers/frames.js';
import { clientWithPeer, pair, serverWithPeer } from '../helpers/peer.js';

const GET: Array<[string, string]> = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/']];
const POST: Array<[string, string]> = [[':method', 'POST'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/up']];
const PUSHED: Array<[string, string]> = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/app.js']];
/** A PRIORITY frame of 4 octets on stream `id` (RFC 9113 §6.3: FRAME_SIZE_ERROR, stream scope). */
const shortPriority = (id: number): Uint8Array => unhex(`000004 02 00 ${id.toString(16).padStart(8, '0')} 00000000`);

function server() {
  const { conn, peer } = serverWithPeer();
  peer.handshake();
  return { conn, peer, f: peer.frames };
}

function client(options = {}) {
  const { conn, peer } = clientWithPeer(options);
  peer.handshake();
  return { conn, peer, f: peer.frames };
}

describe('§5.1 idle streams: frames other than HEADERS and PRIORITY are connection errors, and no RST_STREAM names an idle stream', () => {
  it('treats WINDOW_UPDATE with increment 0 on an idle stream as a connection error PROTOCOL_ERROR, with no RST_STREAM (RFC 9113 §5.1 idle, §6.4)', () => {
    for (const make of [server, client]) {
      const { peer, f } = make();
      expect(peer.send(f.windowUpdate(make === server ? 1 : 2, 0))).toEqual([]);
      expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
      expect(peer.received()).toMatchObject([{ type: FrameType.GOAWAY, errorCode: ErrorCode.PROTOCOL_ERROR }]);
    }
  });

  it('treats WINDOW_UPDATE with increment 0 on a reserved (remote) stream as a connection error PROTOCOL_ERROR (RFC 9113 §5.1 reserved (remote))', () => {
    const { conn, peer, f } = client();
    conn.sendHeaders(1, GET, { endStream: true });
    peer.send(f.pushPromise(1, 2).request('GET', '/a.js'));
    peer.received();
    peer.send(f.windowUpdate(2, 0));
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(peer.received()).toMatchObject([{ type: FrameType.GOAWAY, errorCode: ErrorCode.PROTOCOL_ERROR }]);
  });

  it('keeps WINDOW_UPDATE with increment 0 on an open stream a stream error PROTOCOL_ERROR (RFC 9113 §6.9)', () => {
    const { peer, f } = server();
    peer.send(f.headers(1).request('POST', '/'));
    expect(peer.send(f.windowUpdate(1, 0))).toEqual([{ type: 'StreamReset', streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR, initiator: 'local' }]);
    peer.expect({ type: FrameType.RST_STREAM, streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR });
    expect(peer.error).toBeUndefined();
  });

  it('ignores WINDOW_UPDATE with increment 0 on a stream closed by END_STREAM (RFC 9113 §5.1 closed: WINDOW_UPDATE MUST be ignored)', () => {
    const { conn, peer, f } = server();
    peer.send(f.headers(1).request('GET', '/').eos());
    conn.sendHeaders(1, [[':status', '204']], { endStream: true });
    peer.received();
    expect(peer.send(f.windowUpdate(1, 0))).toEqual([]);
    peer.expectNothing();
    expect(peer.error).toBeUndefined();
  });

  it('treats a 4-octet PRIORITY on an idle stream as a connection error FRAME_SIZE_ERROR instead of an RST_STREAM for an idle stream (RFC 9113 §6.4, §5.4.1)', () => {
    const { peer } = server();
    expect(peer.send(shortPriority(3))).toEqual([]);
    expect(peer.error?.errorCode).toBe(ErrorCode.FRAME_SIZE_ERROR);
    expect(peer.received()).toMatchObject([{ type: FrameType.GOAWAY, errorCode: ErrorCode.FRAME_SIZE_ERROR }]);
  });
});

describe('§5.4.2 frames after our RST_STREAM are ignored, malformed ones too', () => {
  it('ignores WINDOW_UPDATE 0 and a 4-octet PRIORITY on a stream we reset: no second RST_STREAM, no second StreamReset (RFC 9113 §5.4.2, §5.1 closed)', () => {
    const { conn, peer, f } = server();
    peer.send(f.headers(1).request('POST', '/'));
    conn.resetStream(1, ErrorCode.CANCEL);
    peer.expect({ type: FrameType.RST_STREAM, streamId: 1, errorCode: ErrorCode.CANCEL });
    expect(peer.send(f.windowUpdate(1, 0), shortPriority(1), f.priority(1, 1), f.data(1, 'late'))).toEqual([]);
    peer.expectNothing();
    expect(peer.error).toBeUndefined();
    // DATA still counts against the connection window and is credited back (RFC 9113 §6.9)
    expect(conn.recvWindow.current + conn.recvWindow.processed).toBe(65535);
  });

  it('ignores malformed frames on a stream we reset because of a stream error: one RST_STREAM, one StreamReset (RFC 9113 §5.4.2)', () => {
    const { conn, peer, f } = server();
    peer.send(f.headers(1).request('GET', '/').eos());
    conn.sendHeaders(1, [[':status', '204']], { endStream: true });
    peer.received();
    expect(peer.send(f.data(1, 'late'))).toEqual([{ type: 'StreamReset', streamId: 1, errorCode: ErrorCode.STREAM_CLOSED, initiator: 'local' }]);
    expect(peer.send(f.windowUpdate(1, 0), shortPriority(1), f.data(1, 'later'))).toEqual([]);
    expect(peer.received()).toMatchObject([{ type: FrameType.RST_STREAM, streamId: 1, errorCode: ErrorCode.STREAM_CLOSED }]);
  });

  it('answers a malformed PRIORITY on a live stream once with RST_STREAM FRAME_SIZE_ERROR (RFC 9113 §6.3), then ignores the stream (§5.4.2)', () => {
    const { peer, f } = server();
    peer.send(f.headers(1).request('POST', '/'));
    expect(peer.send(shortPriority(1), shortPriority(1))).toEqual([{ type: 'StreamReset', streamId: 1, errorCode: ErrorCode.FRAME_SIZE_ERROR, initiator: 'local' }]);
    expect(peer.received()).toMatchObject([{ type: FrameType.RST_STREAM, streamId: 1, errorCode: ErrorCode.FRAME_SIZE_ERROR }]);
  });
});

describe('§5.1.2 pushed streams count against the peer\'s MAX_CONCURRENT_STREAMS', () => {
  it('a server cannot open more pushed streams than the client allows: the pushed response waits (UsageError, nothing sent) until a stream closes (RFC 9113 §5.1.2)', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake(peer.frames.settings().maxConcurrentStreams(1));
    peer.send(peer.frames.headers(1).request('GET', '/').eos());
    conn.pushStream(1, 2, PUSHED);
    conn.pushStream(1, 4, [...PUSHED.slice(0, 3), [':path', '/b.js']]); // promising does not count
    conn.sendHeaders(2, [[':status', '200']]);
    peer.received();
    expect(() => conn.sendHeaders(4, [[':status', '200']])).toThrow(/concurrent streams/);
    peer.expectNothing();
    expect(conn.streams.get(4)?.state).toBe(StreamState.RESERVED_LOCAL);
    conn.sendData(2, Buffer.from('js'), { endStream: true });
    conn.sendHeaders(4, [[':status', '200']]);
    expect(peer.received()).toMatchObject([{ type: FrameType.DATA, streamId: 2, endStream: true }, { type: FrameType.HEADERS, streamId: 4 }]);
  });

  it('a client that allows 0 concurrent streams gets promises but never a pushed response (RFC 9113 §8.4: MAX_CONCURRENT_STREAMS 0 prevents opening pushed streams)', () => {
    const { client: c, server: s, pump } = pair({ localSettings: { maxConcurrentStreams: 0 } });
    pump();
    c.sendHeaders(1, GET, { endStream: true });
    pump();
    s.pushStream(1, 2, PUSHED);
    expect(() => s.sendHeaders(2, [[':status', '200']])).toThrow(UsageError);
    pump();
    expect(c.streams.get(2)?.state).toBe(StreamState.RESERVED_REMOTE);
  });
});

describe('§8.4 promised requests must be safe, cacheable, without content, with an :authority', () => {
  const unpushable: Array<[string, HeaderInput[]]> = [
    ['POST (not safe)', [[':method', 'POST'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/form']]],
    ['OPTIONS (safe, not cacheable)', [[':method', 'OPTIONS'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/']]],
    ['content-length 5 (indicates content)', [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/x'], ['content-length', '5']]],
    ['no :authority', [[':method', 'GET'], [':scheme', 'https'], [':path', '/x']]],
  ];

  it.each(unpushable)('pushStream refuses a promised request with %s: UsageError, nothing sent, no stream reserved (RFC 9113 §8.4)', (_why, headers) => {
    const { conn, peer, f } = server();
    peer.send(f.headers(1).request('GET', '/').eos());
    expect(() => conn.pushStream(1, 2, headers)).toThrow(UsageError);
    peer.expectNothing();
    expect(conn.streams.get(2)).toBeUndefined();
    conn.pushStream(1, 2, PUSHED); // the id is still free
  });

  it('pushStream accepts HEAD and an explicit content-length of 0 (RFC 9113 §8.4: safe, cacheable, no content)', () => {
    const { conn, peer, f } = server();
    peer.send(f.headers(1).request('GET', '/').eos());
    conn.pushStream(1, 2, [[':method', 'HEAD'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/h']]);
    conn.pushStream(1, 4, [...PUSHED, ['content-length', '0']]);
    expect(peer.received().map((x) => x.type)).toEqual([FrameType.PUSH_PROMISE, FrameType.PUSH_PROMISE]);
  });

  it.each(unpushable)('a client resets a promised stream whose request has %s with RST_STREAM PROTOCOL_ERROR, and goes on (RFC 9113 §8.4)', (_why, headers) => {
    const { conn, peer, f } = client();
    conn.sendHeaders(1, GET, { endStream: true });
    peer.received();
    expect(peer.send(f.pushPromise(1, 2).with(headers))).toEqual([{ type: 'StreamReset', streamId: 2, errorCode: ErrorCode.PROTOCOL_ERROR, initiator: 'local' }]);
    peer.expect({ type: FrameType.RST_STREAM, streamId: 2, errorCode: ErrorCode.PROTOCOL_ERROR });
    expect(peer.error).toBeUndefined();
    // HPACK stayed in step: the next promise decodes
    expect(peer.send(f.pushPromise(1, 4).request('GET', '/ok.js'))).toMatchObject([{ type: 'PushedStreamReceived', pushedStreamId: 4 }]);
  });
});

describe('§8.5 CONNECT tunnels carry only DATA, RST_STREAM, WINDOW_UPDATE and PRIORITY once established', () => {
  const CONNECT: Array<[string, string]> = [[':method', 'CONNECT'], [':authority', 'backend.example:443']];

  function tunnelAtServer(extended = false) {
    const { conn, peer } = serverWithPeer({ localSettings: { enableConnectProtocol: extended } });
    peer.handshake();
    const f = peer.frames;
    peer.send(f.headers(1).with(extended
      ? [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/chat']]
      : CONNECT));
    conn.sendHeaders(1, [[':status', '200']]);
    peer.received();
    return { conn, peer, f };
  }

  it.each([['CONNECT', false], ['extended CONNECT (RFC 8441 §4)', true]])('%s: HEADERS on the established tunnel is a UsageError locally and a stream error PROTOCOL_ERROR when received; DATA flows both ways (RFC 9113 §8.5)', (_name, extended) => {
    const { conn, peer, f } = tunnelAtServer(extended as boolean);
    expect(() => conn.sendHeaders(1, [['x-trailer', '1']], { endStream: true })).toThrow(/tunnel/);
    expect(() => conn.pushStream(1, 2, PUSHED)).toThrow(/tunnel/);
    conn.sendData(1, Buffer.from('from backend'));
    expect(peer.send(f.data(1, 'to backend'))).toMatchObject([{ type: 'DataReceived', streamId: 1, data: Buffer.from('to backend') }]);
    expect(peer.received()).toMatchObject([{ type: FrameType.DATA, streamId: 1 }]);
    expect(peer.send(f.headers(1).trailers([['x-trailer', '1']]))).toEqual([{ type: 'StreamReset', streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR, initiator: 'local' }]);
    peer.expect({ type: FrameType.RST_STREAM, streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR });
    expect(peer.error).toBeUndefined();
  });

  it('a server may not put content-length on a 2xx response to CONNECT (RFC 9110 §9.3.6 MUST NOT)', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).with(CONNECT));
    expect(() => conn.sendHeaders(1, [[':status', '200'], ['content-length', '0']])).toThrow(UsageError);
    peer.expectNothing();
    conn.sendHeaders(1, [[':status', '200']]);
  });

  it('a client ignores content-length in a 2xx response to CONNECT: DATA after `content-length: 0` is tunnel data, not a malformed response (RFC 9110 §9.3.6)', () => {
    const { conn, peer, f } = client();
    conn.sendHeaders(1, CONNECT);
    peer.received();
    expect(peer.send(f.headers(1).response(200, [['content-length', '0']]), f.data(1, 'tunnel bytes'))).toMatchObject([
      { type: 'ResponseReceived', streamId: 1 },
      { type: 'DataReceived', streamId: 1, data: Buffer.from('tunnel bytes') },
    ]);
    peer.expectNothing();
    expect(() => conn.sendHeaders(1, [['x-trailer', '1']], { endStream: true })).toThrow(/tunnel/);
    expect(peer.send(f.headers(1).trailers([['x', '1']]))).toEqual([{ type: 'StreamReset', streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR, initiator: 'local' }]);
  });

  it('a client resets a tunnel that gets a PUSH_PROMISE, and refuses the promised stream (RFC 9113 §8.5 stream error)', () => {
    const { conn, peer, f } = client();
    conn.sendHeaders(1, CONNECT);
    peer.send(f.headers(1).response(200));
    peer.received();
    expect(peer.send(f.pushPromise(1, 2).request('GET', '/x'))).toEqual([
      { type: 'StreamReset', streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR, initiator: 'local' },
      { type: 'StreamReset', streamId: 2, errorCode: ErrorCode.REFUSED_STREAM, initiator: 'local' },
    ]);
    expect(peer.received()).toMatchObject([
      { type: FrameType.RST_STREAM, streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR },
      { type: FrameType.RST_STREAM, streamId: 2, errorCode: ErrorCode.REFUSED_STREAM },
    ]);
    expect(peer.error).toBeUndefined();
  });

  it('a non-2xx answer to CONNECT opens no tunnel: it may carry content and trailers (RFC 9113 §8.5: only a 2xx establishes the connection)', () => {
    const { conn, peer, f } = client();
    conn.sendHeaders(1, CONNECT);
    peer.received();
    expect(peer.send(f.headers(1).response(407, [['content-length', '2']]), f.data(1, 'no'), f.headers(1).trailers([['x', '1']])).map((e) => e.type))
      .toEqual(['ResponseReceived', 'DataReceived', 'TrailersReceived', 'StreamEnded']);
  });
});

describe('RFC 9218 §7.1 PRIORITY_UPDATE for a push stream', () => {
  it('treats a PRIORITY_UPDATE naming an idle push (server-initiated) stream as a connection error PROTOCOL_ERROR at the server (RFC 9218 §7.1)', () => {
    const { peer, f } = server();
    peer.send(f.headers(1).request('GET', '/').eos());
    peer.send(f.priorityUpdate(2, 'u=1'));
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(peer.received()).toMatchObject([{ type: FrameType.GOAWAY, lastStreamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR }]);
  });

  it('accepts a PRIORITY_UPDATE for a promised (reserved) push stream (RFC 9218 §7.1)', () => {
    const { conn, peer, f } = server();
    peer.send(f.headers(1).request('GET', '/').eos());
    conn.pushStream(1, 2, PUSHED);
    expect(peer.send(f.priorityUpdate(2, 'u=1'))).toEqual([{ type: 'PriorityUpdateReceived', prioritizedStreamId: 2, fieldValue: 'u=1' }]);
  });
});

describe('§6.6 PUSH_PROMISE needs an open or half-closed (local) parent', () => {
  function promiseOn(setup: (conn: H2Connection, peer: ReturnType<typeof client>['peer']) => void) {
    const { conn, peer, f } = client();
    setup(conn, peer);
    peer.received();
    const evs = peer.send(f.pushPromise(1, 2).request('GET', '/a.js'));
    return { conn, peer, evs };
  }

  it.each([
    ['half-closed (remote): the server ended the parent', (conn: H2Connection, peer: ReturnType<typeof client>['peer']) => {
      conn.sendHeaders(1, POST);
      peer.send(peer.frames.headers(1).response(200).eos());
    }],
    ['closed by END_STREAM both ways', (conn: H2Connection, peer: ReturnType<typeof client>['peer']) => {
      conn.sendHeaders(1, GET, { endStream: true });
      peer.send(peer.frames.headers(1).response(204).eos());
    }],
    ['closed by the peer\'s RST_STREAM', (conn: H2Connection, peer: ReturnType<typeof client>['peer']) => {
      conn.sendHeaders(1, POST);
      peer.send(peer.frames.reset(1).cancel());
    }],
  ])('treats a PUSH_PROMISE on a parent %s as a connection error PROTOCOL_ERROR (RFC 9113 §6.6)', (_name, setup) => {
    const { conn, peer } = promiseOn(setup);
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(peer.received()).toMatchObject([{ type: FrameType.GOAWAY, errorCode: ErrorCode.PROTOCOL_ERROR }]);
    expect(conn.state).toBe(ConnectionState.CLOSED);
  });

  it('refuses (RST_STREAM REFUSED_STREAM on the promised id) a PUSH_PROMISE on a parent we reset: it may have crossed our RST_STREAM (RFC 9113 §6.6)', () => {
    const { peer, evs } = promiseOn((conn) => {
      conn.sendHeaders(1, GET, { endStream: true });
      conn.resetStream(1, ErrorCode.CANCEL);
    });
    expect(evs).toEqual([{ type: 'StreamReset', streamId: 2, errorCode: ErrorCode.REFUSED_STREAM, initiator: 'local' }]);
    peer.expect({ type: FrameType.RST_STREAM, streamId: 2, errorCode: ErrorCode.REFUSED_STREAM });
    expect(peer.error).toBeUndefined();
  });
});

describe('the API never sends what the peer must reject (UsageError at the call, nothing changed)', () => {
  it('refuses incrementFlowControlWindow on a reserved (local) stream: the client must treat WINDOW_UPDATE on reserved (remote) as PROTOCOL_ERROR (RFC 9113 §5.1)', () => {
    const { conn, peer, f } = server();
    peer.send(f.headers(1).request('GET', '/').eos());
    conn.pushStream(1, 2, PUSHED);
    peer.received();
    const before = conn.streams.get(2)!.recv.current;
    expect(() => conn.incrementFlowControlWindow(1000, 2)).toThrow(UsageError);
    expect(conn.streams.get(2)!.recv.current).toBe(before);
    peer.expectNothing();
  });

  it('refuses to change SETTINGS_NO_RFC7540_PRIORITIES after the first SETTINGS frame, or to send it only later (RFC 9218 §2.1)', () => {
    const { conn, peer } = serverWithPeer({ localSettings: { noRfc7540Priorities: true } });
    peer.handshake();
    expect(() => conn.updateSettings([[SettingId.NO_RFC7540_PRIORITIES, 0]])).toThrow(UsageError);
    peer.expectNothing();
    expect(conn.localSettings.unacknowledged).toBe(0);
    conn.updateSettings([[SettingId.NO_RFC7540_PRIORITIES, 1]]); // unchanged: allowed
    const late = server();
    expect(() => late.conn.updateSettings([[SettingId.NO_RFC7540_PRIORITIES, 1]])).toThrow(/first SETTINGS frame/);
    late.peer.expectNothing();
  });

  it('treats a peer that sends SETTINGS_NO_RFC7540_PRIORITIES = 1 only after a first SETTINGS without it as changing it: PROTOCOL_ERROR (RFC 9218 §2.1 MAY)', () => {
    const { peer, f } = server();
    peer.send(f.settings().noRfc7540Priorities(true));
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it('refuses SETTINGS_ENABLE_CONNECT_PROTOCOL = 0 after 1 was sent (RFC 8441 §3)', () => {
    const { conn, peer } = serverWithPeer({ localSettings: { enableConnectProtocol: true } });
    peer.handshake();
    expect(() => conn.updateSettings([[SettingId.ENABLE_CONNECT_PROTOCOL, 0]])).toThrow(UsageError);
    peer.expectNothing();
  });

  it('cuts GOAWAY debug data to the peer\'s MAX_FRAME_SIZE so the GOAWAY is not a FRAME_SIZE_ERROR (RFC 9113 §4.2)', () => {
    const { client: c, server: s, pump, clientEvents } = pair();
    pump();
    s.closeConnection(ErrorCode.NO_ERROR, { debugData: new Uint8Array(20000).fill(0x61) });
    pump();
    const goaway = clientEvents.find((e) => e.type === 'ConnectionTerminated') as { additionalData?: Uint8Array } | undefined;
    expect(goaway?.additionalData?.length).toBe(16384 - 8);
    expect(c.state).toBe(ConnectionState.DRAINING);
  });

  it('refuses an ALTSVC frame larger than the peer\'s MAX_FRAME_SIZE (RFC 9113 §4.2)', () => {
    const { conn, peer } = server();
    expect(() => conn.advertiseAlternativeService(`h2=":443"; ma=${'9'.repeat(16380)}`, { origin: 'https://example.com' })).toThrow(/MAX_FRAME_SIZE/);
    peer.expectNothing();
    conn.advertiseAlternativeService('h2=":443"', { origin: 'https://example.com' });
    peer.expect({ type: FrameType.ALTSVC, streamId: 0 });
  });

  it('refuses to raise SETTINGS_INITIAL_WINDOW_SIZE when a peer stream window would pass 2^31-1, and windows that would pass it with a raise in flight (RFC 9113 §6.9.2)', () => {
    const { conn, peer, f } = server();
    peer.send(f.headers(1).request('POST', '/'));
    conn.incrementFlowControlWindow(MAX_INT31 - 65535 - 10, 1);
    peer.received();
    expect(() => conn.updateSettings([[SettingId.INITIAL_WINDOW_SIZE, 65535 + 11]])).toThrow(/2\^31-1/);
    expect(conn.localSettings.unacknowledged).toBe(0);
    peer.expectNothing();
    conn.updateSettings([[SettingId.INITIAL_WINDOW_SIZE, 65535 + 10]]); // exactly 2^31-1: allowed
    expect(() => conn.incrementFlowControlWindow(1, 1)).toThrow(UsageError); // the raise is not acknowledged yet
    peer.received();
    // the peer applies it: its window of stream 1 is 2^31-1, not beyond (no FLOW_CONTROL_ERROR)
    const { client: c, server: s, pump } = pair();
    pump();
    c.sendHeaders(1, POST);
    pump();
    s.incrementFlowControlWindow(MAX_INT31 - 65535, 1);
    expect(() => s.updateSettings([[SettingId.INITIAL_WINDOW_SIZE, 65536]])).toThrow(UsageError);
    s.updateSettings([[SettingId.INITIAL_WINDOW_SIZE, 65535]]);
    pump();
    expect(c.streams.get(1)!.send.size).toBe(MAX_INT31);
  });

  it('acknowledgeReceivedData for a stream never opened throws before touching the connection window', () => {
    const { conn, peer, f } = server();
    peer.send(f.headers(1).request('POST', '/'), f.data(1, new Uint8Array(10000)));
    peer.received();
    const before = { current: conn.recvWindow.current, processed: conn.recvWindow.processed };
    expect(() => conn.acknowledgeReceivedData(40000, 9)).toThrow(/never opened/);
    expect({ current: conn.recvWindow.current, processed: conn.recvWindow.processed }).toEqual(before);
    peer.expectNothing();
  });
});

describe('§8.1.1 malformed requests never reach the application', () => {
  it('resets a request whose HEADERS carries END_STREAM and content-length 5 without emitting RequestReceived (RFC 9113 §8.1.1)', () => {
    const { conn, peer, f } = server();
    expect(peer.send(f.headers(1).request('POST', '/', [['content-length', '5']]).eos())).toEqual([
      { type: 'StreamReset', streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR, initiator: 'local' },
    ]);
    peer.expect({ type: FrameType.RST_STREAM, streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR });
    expect(() => conn.sendHeaders(1, [[':status', '200']])).toThrow(/stream 1 was reset by us/);
  });

  it('resets a request whose content ends short of content-length without emitting the last DataReceived or TrailersReceived (RFC 9113 §8.1.1)', () => {
    const { peer, f } = server();
    expect(peer.send(f.headers(1).request('POST', '/', [['content-length', '10']]), f.data(1, 'abc').eos()).map((e) => e.type))
      .toEqual(['RequestReceived', 'StreamReset']);
    expect(peer.send(f.headers(3).request('POST', '/', [['content-length', '10']]), f.data(3, 'abc'), f.headers(3).trailers([['x', '1']])).map((e) => e.type))
      .toEqual(['RequestReceived', 'DataReceived', 'StreamReset']);
    expect(peer.error).toBeUndefined();
  });

  it('says in UsageError messages that a stream was reset, by whom (not "has the peer\'s parity")', () => {
    const { conn, peer, f } = server();
    peer.send(f.headers(1).request('POST', '/'), f.reset(1).cancel());
    expect(() => conn.sendHeaders(1, [[':status', '200']])).toThrow(/reset by the peer/);
    expect(() => conn.sendData(1, Buffer.from('x'))).toThrow(/reset by the peer/);
  });
});

describe('no shared output buffers', () => {
  /** Bytes a connection produced, overwritten in place as an I/O layer might (masking, encryption). */
  const scribble = (b: Uint8Array): void => void b.fill(0xee);

  it('never returns a SETTINGS ACK that another connection (or a later call) also returns', () => {
    const a = server();
    const b = server();
    a.peer.send(a.f.settings());
    scribble(a.conn.dataToSend());
    b.peer.send(b.f.settings());
    expect(b.peer.received()).toEqual([{ type: FrameType.SETTINGS, streamId: 0, ack: true, settings: [] }]);
    a.peer.send(a.f.settings());
    expect(a.peer.received()).toEqual([{ type: FrameType.SETTINGS, streamId: 0, ack: true, settings: [] }]);
  });

  it('never returns the client preface, padding octets or a caller\'s DATA payload as shared memory, even in partial reads', () => {
    const one = new H2Connection({ clientSide: true });
    one.initiateConnection();
    scribble(one.dataToSend(24)); // the preface alone
    const two = new H2Connection({ clientSide: true });
    two.initiateConnection();
    expect(Buffer.from(two.dataToSend(24)).toString('latin1')).toBe('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

    const { conn, peer, f } = server();
    peer.send(f.headers(1).request('GET', '/').eos());
    conn.sendHeaders(1, [[':status', '200']]);
    peer.received();
    const payload = Buffer.from('shared payload');
    conn.sendData(1, payload, { padLength: 8 });
    conn.dataToSend(9); // frame header
    scribble(conn.dataToSend(1)); // pad length
    scribble(conn.dataToSend(payload.length));
    scribble(conn.dataToSend(8)); // padding
    expect(payload.toString()).toBe('shared payload');
    conn.sendData(1, payload, { padLength: 8, endStream: true });
    const bytes = conn.dataToSend();
    expect([...bytes.subarray(bytes.length - 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]); // padding MUST be zero (RFC 9113 §6.1)
    const d = new FrameDecoder({ expectSettingsFirst: false });
    d.push(bytes);
    expect(d.next()).toMatchObject({ type: FrameType.DATA, data: Buffer.from('shared payload'), padLength: 8, endStream: true });
  });
});

describe('RFC 9113 MUSTs no test named before', () => {
  it('a client cannot send HEADERS or DATA on a promised stream in reserved (remote): only RST_STREAM, WINDOW_UPDATE and PRIORITY (RFC 9113 §5.1 reserved (remote))', () => {
    const { conn, peer, f } = client();
    conn.sendHeaders(1, GET, { endStream: true });
    peer.send(f.pushPromise(1, 2).request('GET', '/a.js'));
    peer.received();
    expect(() => conn.sendHeaders(2, GET)).toThrow(UsageError);
    expect(() => conn.sendData(2, Buffer.from('x'))).toThrow(UsageError);
    peer.expectNothing();
    conn.incrementFlowControlWindow(1000, 2);
    conn.resetStream(2, ErrorCode.CANCEL);
    expect(peer.received().map((x) => x.type)).toEqual([FrameType.WINDOW_UPDATE, FrameType.RST_STREAM]);
  });

  it('pushStream only on a client-initiated stream that is open or half-closed (remote) (RFC 9113 §6.6, §8.4 sender MUSTs)', () => {
    const { conn, peer, f } = server();
    peer.send(f.headers(1).request('GET', '/').eos(), f.headers(3).request('POST', '/'));
    conn.pushStream(1, 2, PUSHED);
    conn.sendHeaders(2, [[':status', '200']]);
    expect(() => conn.pushStream(2, 4, PUSHED)).toThrow(/not a client stream/); // a pushed stream is no parent
    conn.sendHeaders(3, [[':status', '200']], { endStream: true }); // half-closed (local) for the server
    expect(() => conn.pushStream(3, 4, PUSHED)).toThrow(UsageError);
    peer.received();
    conn.pushStream(1, 4, PUSHED);
    peer.expect({ type: FrameType.PUSH_PROMISE, streamId: 1, promisedStreamId: 4 });
  });

  it('accepts and processes frames exempt from flow control while both windows are exhausted (RFC 9113 §6.9)', () => {
    const { conn, peer, f } = server();
    peer.send(f.headers(1).request('POST', '/'));
    for (let i = 0; i < 4; i++) peer.send(f.data(1, new Uint8Array(16383)));
    peer.send(f.data(1, new Uint8Array(3)));
    expect(conn.remoteFlowControlWindow(1)).toBe(0);
    peer.received();
    expect(peer.send(f.headers(3).request('GET', '/').eos(), f.ping('12345678'), f.priority(1, 0, 99), f.settings().maxConcurrentStreams(9)).map((e) => e.type))
      .toEqual(['RequestReceived', 'StreamEnded', 'PingReceived', 'PriorityUpdated', 'RemoteSettingsChanged']);
    expect(peer.error).toBeUndefined();
  });

  it('accepts DATA within the old stream window until our lowered SETTINGS_INITIAL_WINDOW_SIZE is acknowledged (RFC 9113 §6.9.3)', () => {
    const { conn, peer, f } = server();
    peer.send(f.headers(1).request('POST', '/'));
    conn.updateSettings([[SettingId.INITIAL_WINDOW_SIZE, 1000]]);
    peer.received();
    expect(peer.send(f.data(1, new Uint8Array(16000)))).toMatchObject([{ type: 'DataReceived', flowControlledLength: 16000 }]);
    peer.expectNothing();
    expect(peer.send(f.settings().ack())).toMatchObject([{ type: 'SettingsAcknowledged' }]);
    expect(conn.remoteFlowControlWindow(1)).toBe(65535 - 16000 - (65535 - 1000));
  });

  it('a client keeps a complete response when RST_STREAM(NO_ERROR) follows it: every event, then StreamReset (RFC 9113 §8.1)', () => {
    const { conn, peer, f } = client();
    conn.sendHeaders(1, POST);
    peer.received();
    expect(peer.send(f.headers(1).response(200), f.data(1, 'done').eos(), f.reset(1).code(ErrorCode.NO_ERROR)).map((e) => e.type))
      .toEqual(['ResponseReceived', 'DataReceived', 'StreamEnded', 'StreamReset']);
    expect(peer.error).toBeUndefined();
  });
});

describe('found by the review of this issue', () => {
  it('answers DATA and HEADERS on a half-closed (remote) stream with RST_STREAM STREAM_CLOSED and a StreamReset event (RFC 9113 §5.1 half-closed (remote), §6.1)', () => {
    const { conn, peer, f } = server();
    peer.send(f.headers(1).request('GET', '/').eos());
    expect(peer.send(f.data(1, 'late'))).toEqual([{ type: 'StreamReset', streamId: 1, errorCode: ErrorCode.STREAM_CLOSED, initiator: 'local' }]);
    peer.expect({ type: FrameType.RST_STREAM, streamId: 1, errorCode: ErrorCode.STREAM_CLOSED });
    expect(() => conn.sendHeaders(1, [[':status', '200']])).toThrow(UsageError);
    peer.send(f.headers(3).request('GET', '/').eos());
    expect(peer.send(f.headers(3).request('GET', '/again').eos())).toEqual([{ type: 'StreamReset', streamId: 3, errorCode: ErrorCode.STREAM_CLOSED, initiator: 'local' }]);
    peer.expect({ type: FrameType.RST_STREAM, streamId: 3, errorCode: ErrorCode.STREAM_CLOSED });
    expect(conn.openInboundStreams).toBe(0);
    expect(peer.error).toBeUndefined();
  });

  it('a server cannot open a stream with HEADERS alone: only pushStream (PUSH_PROMISE) opens one (RFC 9113 §5.1.1, §8.4)', () => {
    const { conn, peer } = server();
    expect(() => conn.sendHeaders(2, [[':status', '200']])).toThrow(UsageError);
    expect(peer.received()).toEqual([]);
  });

  it('a CONNECT request carries no content-length, and the server\'s tunnel measures no content (RFC 9110 §9.3.6, RFC 9113 §8.5)', () => {
    const c = client();
    expect(() => c.conn.sendHeaders(1, [[':method', 'CONNECT'], [':authority', 'example.com:443'], ['content-length', '0']])).toThrow(UsageError);
    expect(c.peer.received()).toEqual([]);
    const { conn, peer, f } = server();
    peer.send(f.headers(1).with([[':method', 'CONNECT'], [':authority', 'example.com:443'], ['content-length', '0']]));
    conn.sendHeaders(1, [[':status', '200']]);
    peer.received();
    expect(peer.send(f.data(1, 'tunnel bytes'))).toMatchObject([{ type: 'DataReceived', streamId: 1 }]);
    expect(peer.received().filter((x) => x.type === FrameType.RST_STREAM)).toEqual([]);
  });

  it('ignores frames on a stream it reset that it never held (closed implicitly by a higher id): one RST_STREAM, not one per frame (RFC 9113 §5.4.2)', () => {
    const { peer, f } = server();
    peer.send(f.headers(5).request('GET', '/').eos()); // streams 1 and 3 are now closed, never used
    expect(peer.send(f.data(3, 'x'))).toEqual([{ type: 'StreamReset', streamId: 3, errorCode: ErrorCode.STREAM_CLOSED, initiator: 'local' }]);
    expect(peer.send(f.data(3, 'y'))).toEqual([]);
    expect(peer.send(shortPriority(3))).toEqual([]);
    expect(peer.received().filter((x) => x.type === FrameType.RST_STREAM)).toHaveLength(1);
  });

  it('refuses arguments that are not what the API takes, before anything changes or is queued (UsageError at the call)', () => {
    const { conn, peer } = server();
    peer.send(peer.frames.headers(1).request('POST', '/'));
    conn.sendHeaders(1, [[':status', '200']]);
    peer.received();
    const window = conn.localFlowControlWindow(1);
    expect(() => conn.sendData(1, 5 as unknown as Uint8Array)).toThrow(UsageError);
    expect(() => conn.ping('abcdefgh' as unknown as Uint8Array)).toThrow(UsageError);
    expect(() => conn.closeConnection('x' as unknown as number)).toThrow(UsageError);
    expect(() => conn.closeConnection(0, { debugData: 'why' as unknown as Uint8Array })).toThrow(UsageError);
    expect(conn.localFlowControlWindow(1)).toBe(window);
    expect(conn.outboundBufferSize).toBe(0);
  });
});
