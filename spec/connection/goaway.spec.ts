// GOAWAY with graceful drain (RFC 9113 §6.8): python h2 closes everything on GOAWAY (#1181);
// here streams up to the last stream id finish, newer ones are refused.
import { ErrorCode, FrameType } from '../../lib/constants.js';
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
