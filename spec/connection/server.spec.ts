// Server side of H2Connection: handshake, requests, responses, trailers, 1xx, settings, ping,
// stream limits and header validation as stream errors (RFC 9113 §5.1.2, §6.5, §6.7, §8).
import { CLIENT_PREFACE, ErrorCode, FrameType, SettingId } from '../../lib/constants.js';
import { UsageError } from '../../lib/errors.js';
import { serverWithPeer } from '../helpers/peer.js';

describe('server handshake and settings', () => {
  it('sends its SETTINGS first, with every local value, and acknowledges the client\'s', () => {
    const { conn, peer } = serverWithPeer({ localSettings: { maxConcurrentStreams: 50 } });
    conn.initiateConnection();
    const first = peer.received();
    expect(first[0]).toMatchObject({ type: FrameType.SETTINGS, ack: false });
    expect((first[0] as unknown as { settings: number[][] }).settings).toContainEqual([SettingId.MAX_CONCURRENT_STREAMS, 50]);
    expect((first[0] as unknown as { settings: number[][] }).settings).toContainEqual([SettingId.ENABLE_PUSH, 0]);
    const evs = peer.send(Uint8Array.from([...CLIENT_PREFACE, ...peer.frames.settings().initialWindowSize(1000).encode()]));
    expect(evs).toEqual([{ type: 'RemoteSettingsChanged', changedSettings: new Map([[SettingId.INITIAL_WINDOW_SIZE, { setting: 4, originalValue: 65535, newValue: 1000 }]]) }]);
    peer.expect({ type: FrameType.SETTINGS, ack: true });
  });

  it('applies its own settings only when acknowledged, one ACK per SETTINGS frame', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    conn.updateSettings([[SettingId.MAX_CONCURRENT_STREAMS, 1]]);
    expect(conn.localSettings.maxConcurrentStreams).toBe(100);
    const evs = peer.send(peer.frames.settings().ack());
    expect(evs[0]).toMatchObject({ type: 'SettingsAcknowledged' });
    expect(conn.localSettings.maxConcurrentStreams).toBe(1);
  });

  it('rejects an HTTP/1.1 request in place of the preface with GOAWAY PROTOCOL_ERROR', () => {
    const { conn, peer } = serverWithPeer();
    conn.initiateConnection();
    peer.received();
    peer.send(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(conn.dataToSend().length).toBeGreaterThan(0); // the GOAWAY
  });

  it('answers PING with a PING ACK carrying the same data (§6.7)', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    expect(peer.send(peer.frames.ping('abcdefgh'))).toEqual([{ type: 'PingReceived', pingData: Buffer.from('abcdefgh') }]);
    const ack = peer.expect({ type: FrameType.PING, ack: true });
    expect(Buffer.from((ack as { opaqueData: Uint8Array }).opaqueData).toString()).toBe('abcdefgh');
  });
});

describe('requests and responses', () => {
  it('reports a request, answers it with headers, data and trailers', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    const evs = peer.send(peer.frames.headers(1).request('POST', '/upload', [['content-length', '5']]));
    expect(evs).toEqual([{ type: 'RequestReceived', streamId: 1, endStream: false, priority: undefined,
      headers: [[':method', 'POST'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/upload'], ['content-length', '5']] }]);
    expect(peer.send(peer.frames.data(1, 'hello').eos())).toEqual([
      { type: 'DataReceived', streamId: 1, data: Buffer.from('hello'), flowControlledLength: 5, endStream: true },
      { type: 'StreamEnded', streamId: 1 },
    ]);
    conn.sendHeaders(1, [[':status', '103'], ['link', '</a.css>; rel=preload']]);
    conn.sendHeaders(1, [[':status', '200']]);
    conn.sendData(1, Buffer.from('ok'));
    conn.sendHeaders(1, [['grpc-status', '0']], { endStream: true });
    const out = peer.received();
    expect(out.map((f) => f.type)).toEqual([FrameType.HEADERS, FrameType.HEADERS, FrameType.DATA, FrameType.HEADERS]);
    expect(out[0]!.fields).toEqual([[':status', '103'], ['link', '</a.css>; rel=preload']]);
    expect(out[3]).toMatchObject({ endStream: true, fields: [['grpc-status', '0']] });
    expect(conn.openInboundStreams).toBe(0);
  });

  it('refuses a trailer block without END_STREAM and a 1xx with END_STREAM as caller errors', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('GET', '/').eos());
    expect(() => conn.sendHeaders(1, [[':status', '100']], { endStream: true })).toThrow(UsageError);
    conn.sendHeaders(1, [[':status', '200']]);
    expect(() => conn.sendHeaders(1, [['x', '1']])).toThrow(UsageError);
  });

  it('reports HEADERS priority fields with a PriorityUpdated event and StreamEnded in order', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    const evs = peer.send(peer.frames.headers(3).request('GET', '/').priority(1, 200, true).eos());
    expect(evs.map((e) => e.type)).toEqual(['RequestReceived', 'StreamEnded', 'PriorityUpdated']);
    expect(evs[2]).toEqual({ type: 'PriorityUpdated', streamId: 3, dependsOn: 1, weight: 200, exclusive: true });
  });

  it('joins cookie crumbs of a request into one field (§8.2.3)', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    const [e] = peer.send(peer.frames.headers(1).request('GET', '/', [['cookie', 'a=1'], ['cookie', 'b=2']]).eos());
    expect((e as unknown as { headers: unknown[] }).headers).toContainEqual(['cookie', 'a=1; b=2', true]);
  });

  it('decodes header values as UTF-8 when asked', () => {
    const { peer } = serverWithPeer({ headerEncoding: 'utf-8' });
    peer.handshake();
    const [e] = peer.send(peer.frames.headers(1).request('GET', '/', [['x-name', Buffer.from('Zoë', 'utf8')]]).eos());
    expect((e as unknown as { headers: unknown[] }).headers).toContainEqual(['x-name', 'Zoë']);
  });
});

describe('malformed requests are stream errors, not connection teardowns (§8.1.1)', () => {
  it.each([
    ['an uppercase header name', [['X-Big', '1']]],
    ['a connection-specific field', [['connection', 'keep-alive']]],
    ['te other than trailers', [['te', 'gzip']]],
  ])('%s gets RST_STREAM PROTOCOL_ERROR and the connection goes on', (_n, extra) => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    const evs = peer.send(peer.frames.headers(1).request('GET', '/', extra as Array<[string, string]>).eos());
    expect(evs).toEqual([{ type: 'StreamReset', streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR, initiator: 'local' }]);
    peer.expect({ type: FrameType.RST_STREAM, streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR });
    expect(peer.send(peer.frames.headers(3).request('GET', '/ok').eos())[0]).toMatchObject({ type: 'RequestReceived', streamId: 3 });
    expect(conn.openInboundStreams).toBe(1);
  });

  it('a body longer or shorter than content-length is a stream error', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('POST', '/', [['content-length', '3']]));
    expect(peer.send(peer.frames.data(1, 'abcd'))).toEqual([{ type: 'StreamReset', streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR, initiator: 'local' }]);
    peer.send(peer.frames.headers(3).request('POST', '/', [['content-length', '3']]));
    const evs = peer.send(peer.frames.data(3, 'ab').eos());
    expect(evs.at(-1)).toEqual({ type: 'StreamReset', streamId: 3, errorCode: ErrorCode.PROTOCOL_ERROR, initiator: 'local' });
  });

  it('a stream depending on itself in HEADERS is a stream error (RFC 7540 §5.3.1)', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    expect(peer.send(peer.frames.headers(1).request('GET', '/').priority(1).eos())[0]).toMatchObject({ type: 'StreamReset', errorCode: ErrorCode.PROTOCOL_ERROR });
  });

  it('keeps the HPACK context in step even for a refused block', () => {
    const { conn, peer } = serverWithPeer({ localSettings: { maxConcurrentStreams: 1 } });
    peer.handshake();
    peer.send(peer.frames.headers(1).request('GET', '/a', [['x-custom', 'indexed-now']]));
    expect(peer.send(peer.frames.headers(3).request('GET', '/b', [['x-custom', 'indexed-now']]))[0]).toMatchObject({ type: 'StreamReset', errorCode: ErrorCode.REFUSED_STREAM });
    peer.send(peer.frames.data(1, '').eos());
    conn.sendHeaders(1, [[':status', '204']], { endStream: true }); // stream 1 closed: room for one more
    const [e] = peer.send(peer.frames.headers(5).request('GET', '/c', [['x-custom', 'indexed-now']]).eos());
    expect((e as unknown as { headers: unknown[] }).headers).toContainEqual(['x-custom', 'indexed-now']);
  });
});

describe('MAX_CONCURRENT_STREAMS (§5.1.2)', () => {
  it('refuses a stream over our limit with RST_STREAM REFUSED_STREAM, not a connection error', () => {
    const { conn, peer } = serverWithPeer({ localSettings: { maxConcurrentStreams: 2 } });
    peer.handshake();
    peer.send(peer.frames.headers(1).request('GET', '/'), peer.frames.headers(3).request('GET', '/'));
    expect(peer.send(peer.frames.headers(5).request('GET', '/'))).toEqual([{ type: 'StreamReset', streamId: 5, errorCode: ErrorCode.REFUSED_STREAM, initiator: 'local' }]);
    expect(peer.error).toBeUndefined();
    expect(conn.openInboundStreams).toBe(2);
  });

  it('does not let us open more streams than the peer allows, pushed responses included (RFC 9113 §5.1.2: reserved streams count once their HEADERS is sent)', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake(peer.frames.settings().maxConcurrentStreams(1));
    peer.send(peer.frames.headers(1).request('GET', '/'));
    conn.pushStream(1, 2, [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/x']]);
    conn.sendHeaders(2, [[':status', '200']]);
    expect(conn.openOutboundStreams).toBe(1);
    // promising is fine (reserved streams do not count), opening the pushed response is not
    conn.pushStream(1, 4, [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/y']]);
    expect(() => conn.sendHeaders(4, [[':status', '200']])).toThrow(UsageError);
    conn.sendData(2, Buffer.from('x'), { endStream: true });
    expect(() => conn.sendHeaders(4, [[':status', '200']])).not.toThrow();
  });
});
