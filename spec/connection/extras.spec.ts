// Smaller engine features end to end: ALTSVC sent by a server, request trailers from a client,
// extended CONNECT gated by SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441), stream id exhaustion.
import { ErrorCode, FrameType } from '../../lib/constants.js';
import { UsageError } from '../../lib/errors.js';
import { pair, serverWithPeer } from '../helpers/peer.js';

describe('more engine behaviour', () => {
  it('a server advertises alternative services on stream 0 and on a request stream (RFC 7838)', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('GET', '/'));
    conn.advertiseAlternativeService('h2=":8443"', { origin: 'https://example.com' });
    conn.advertiseAlternativeService('h3=":443"', { streamId: 1 });
    expect(peer.received()).toEqual([
      { type: FrameType.ALTSVC, streamId: 0, origin: 'https://example.com', fieldValue: 'h2=":8443"' },
      { type: FrameType.ALTSVC, streamId: 1, origin: '', fieldValue: 'h3=":443"' },
    ]);
  });

  it('a client sends request trailers, which end the stream', () => {
    const { client, serverEvents, pump } = pair();
    pump();
    client.sendHeaders(1, [[':method', 'POST'], [':scheme', 'https'], [':authority', 'a'], [':path', '/'], ['te', 'trailers']]);
    client.sendData(1, Buffer.from('body'));
    client.sendHeaders(1, [['x-digest', 'abc']], { endStream: true });
    pump();
    expect(serverEvents.map((e) => e.type)).toEqual(['RemoteSettingsChanged', 'SettingsAcknowledged', 'RequestReceived', 'DataReceived', 'TrailersReceived', 'StreamEnded']);
  });

  it('allows extended CONNECT only when the peer enabled it (RFC 8441 §3, §4)', () => {
    const ws: Array<[string, string]> = [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':authority', 'a'], [':path', '/chat']];
    const off = pair();
    off.pump();
    expect(() => off.client.sendHeaders(1, ws)).toThrow(UsageError);
    const on = pair({}, { localSettings: { enableConnectProtocol: true } });
    on.pump();
    on.client.sendHeaders(1, ws);
    on.pump();
    expect(on.serverEvents.at(-1)).toMatchObject({ type: 'RequestReceived', streamId: 1 });
  });

  it('answers a :protocol request as malformed when we did not enable extended CONNECT', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    const evs = peer.send(peer.frames.headers(1).with([[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':authority', 'a'], [':path', '/']]));
    expect(evs).toEqual([{ type: 'StreamReset', streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR, initiator: 'local' }]);
  });

  it('refuses stream ids past 2^31-1 (open a new connection)', () => {
    const { client, pump } = pair();
    pump();
    client.sendHeaders(2 ** 31 - 1, [[':method', 'GET'], [':scheme', 'https'], [':authority', 'a'], [':path', '/']], { endStream: true });
    expect(() => client.getNextAvailableStreamId()).toThrow(UsageError);
  });
});
