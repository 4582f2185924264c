// Invalid frame sequences through the engine: the RFC's answer, and nothing lost for the other
// streams (RFC 9113 §4.3, §5.4, §6.5.2, §6.10, §8.4).
import { ErrorCode, FrameType } from '../../lib/constants.js';
import { encodeFrames } from '../../lib/frame/encoder.js';
import { clientWithPeer, serverWithPeer } from '../helpers/peer.js';

describe('invalid sequences', () => {
  it('treats a frame between HEADERS and its CONTINUATION as PROTOCOL_ERROR, keeping events from before', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    const block = peer.frames.encoder.encode([[':method', 'GET'], [':scheme', 'https'], [':authority', 'a'], [':path', '/']]);
    const open = encodeFrames([{ type: FrameType.HEADERS, streamId: 3, headerBlock: block, endStream: true, endHeaders: false, padLength: undefined, priority: undefined }]);
    const evs = peer.send(Uint8Array.from([...peer.frames.ping().encode(), ...open, ...peer.frames.data(3, 'x').encode()]));
    expect(evs.map((e) => e.type)).toEqual(['PingReceived']);
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it('assembles HEADERS + CONTINUATION into one request', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    const block = peer.frames.encoder.encode([[':method', 'GET'], [':scheme', 'https'], [':authority', 'a'], [':path', '/'], ['x-long', 'v'.repeat(40000)]]);
    const bytes = encodeFrames([{ type: FrameType.HEADERS, streamId: 1, headerBlock: block, endStream: true, endHeaders: true, padLength: undefined, priority: undefined }], 16384);
    expect(peer.send(bytes).map((e) => e.type)).toEqual(['RequestReceived', 'StreamEnded']);
  });

  it('treats PUSH_PROMISE from a client as PROTOCOL_ERROR (§8.4)', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('GET', '/'));
    peer.send(peer.frames.pushPromise(1, 2).request('GET', '/x'));
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it('treats SETTINGS_ENABLE_PUSH = 1 from a server as PROTOCOL_ERROR (§6.5.2)', () => {
    const { peer } = clientWithPeer();
    peer.handshake(peer.frames.settings().enablePush(true));
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it('treats a SETTINGS ACK with nothing pending as PROTOCOL_ERROR', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.settings().ack());
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it('treats garbage in a header block as COMPRESSION_ERROR (§4.3)', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).block(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f])));
    expect(peer.error?.errorCode).toBe(ErrorCode.COMPRESSION_ERROR);
  });

  it('accepts a larger frame only after our raised SETTINGS_MAX_FRAME_SIZE was sent', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('POST', '/'));
    conn.incrementFlowControlWindow(100000);
    conn.incrementFlowControlWindow(100000, 1);
    conn.updateSettings([[5, 32768]]);
    expect(peer.send(peer.frames.data(1, new Uint8Array(20000)))[0]).toMatchObject({ type: 'DataReceived', flowControlledLength: 20000 });
    const { peer: p2 } = serverWithPeer();
    p2.handshake();
    p2.send(p2.frames.headers(1).request('POST', '/'));
    p2.send(p2.frames.data(1, new Uint8Array(20000)));
    expect(p2.error?.errorCode).toBe(ErrorCode.FRAME_SIZE_ERROR);
  });

  it('reports unknown frame types and otherwise ignores them (§5.5)', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    const [e] = peer.send(peer.frames.unknown(0xfe, 0, 'ext'));
    expect(e).toMatchObject({ type: 'UnknownFrameReceived', frame: { type: 0xfe, streamId: 0 } });
  });
});

describe('outbound buffer', () => {
  it('drains partially in order, keeping the rest, and counts automatic replies', () => {
    const { conn, peer } = serverWithPeer({ outboundHighWaterMark: 40 });
    peer.handshake();
    for (let i = 0; i < 5; i++) peer.send(peer.frames.ping(`ping${i}xyz`));
    expect(conn.outboundBufferSize).toBe(5 * 17);
    expect(conn.outboundBufferFull).toBe(true);
    const first = conn.dataToSend(20);
    const rest = conn.dataToSend();
    expect(first.length + rest.length).toBe(85);
    expect(Buffer.from([...first, ...rest]).toString('latin1')).toContain('ping4xyz');
    expect(conn.outboundBufferFull).toBe(false);
  });
});
