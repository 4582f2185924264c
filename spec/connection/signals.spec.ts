// Priority signals through the engine: PRIORITY frames on any stream state, HEADERS priority
// fields, RFC 9218 PRIORITY_UPDATE (server only, bounded for idle streams), SETTINGS_NO_RFC7540_PRIORITIES carried.
import { ErrorCode, FrameType, SettingId } from '../../lib/constants.js';
import { clientWithPeer, serverWithPeer } from '../helpers/peer.js';

describe('RFC 7540 priority signals', () => {
  it('reports PRIORITY frames for idle, open and closed streams without creating stream state', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    expect(peer.send(peer.frames.priority(3, 0, 201), peer.frames.priority(5, 3, 1, true))).toEqual([
      { type: 'PriorityUpdated', streamId: 3, dependsOn: 0, weight: 201, exclusive: false },
      { type: 'PriorityUpdated', streamId: 5, dependsOn: 3, weight: 1, exclusive: true },
    ]);
    expect(conn.openInboundStreams).toBe(0);
    expect(peer.send(peer.frames.headers(3).request('GET', '/').eos())[0]).toMatchObject({ type: 'RequestReceived', streamId: 3 });
  });

  it('answers a PRIORITY frame depending on its own open stream with RST_STREAM PROTOCOL_ERROR only (RFC 7540 §5.3.1)', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(3).request('POST', '/'));
    expect(peer.send(peer.frames.priority(3, 3))).toEqual([{ type: 'StreamReset', streamId: 3, errorCode: ErrorCode.PROTOCOL_ERROR, initiator: 'local' }]);
    expect(peer.error).toBeUndefined();
    peer.expect({ type: FrameType.RST_STREAM, streamId: 3, errorCode: ErrorCode.PROTOCOL_ERROR });
  });

  it('treats a PRIORITY frame depending on its own idle stream as a connection error PROTOCOL_ERROR (RFC 9113 §6.4: RST_STREAM MUST NOT be sent for an idle stream)', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    expect(peer.send(peer.frames.priority(3, 3))).toEqual([]);
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(peer.received()).toMatchObject([{ type: FrameType.GOAWAY, lastStreamId: 0, errorCode: ErrorCode.PROTOCOL_ERROR }]);
  });

  it('carries SETTINGS_NO_RFC7540_PRIORITIES from the peer', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake(peer.frames.settings().noRfc7540Priorities(true));
    expect(conn.remoteSettings.noRfc7540Priorities).toBe(true);
    expect(conn.remoteSettings.get(SettingId.NO_RFC7540_PRIORITIES)).toBe(1);
  });
});

describe('RFC 9218 PRIORITY_UPDATE', () => {
  it('reports updates for open and not-yet-open streams', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('GET', '/'));
    expect(peer.send(peer.frames.priorityUpdate(1, 'u=0'), peer.frames.priorityUpdate(3, 'u=5, i'))).toEqual([
      { type: 'PriorityUpdateReceived', prioritizedStreamId: 1, fieldValue: 'u=0' },
      { type: 'PriorityUpdateReceived', prioritizedStreamId: 3, fieldValue: 'u=5, i' },
    ]);
  });

  it('refuses updates for more idle streams than MAX_CONCURRENT_STREAMS allows (PROTOCOL_ERROR)', () => {
    const { peer } = serverWithPeer({ localSettings: { maxConcurrentStreams: 2 } });
    peer.handshake();
    peer.send(peer.frames.headers(1).request('GET', '/'));
    peer.send(peer.frames.priorityUpdate(3, 'u=1'));
    expect(peer.error).toBeUndefined();
    peer.send(peer.frames.priorityUpdate(5, 'u=1'));
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it('treats PRIORITY_UPDATE received by a client as PROTOCOL_ERROR', () => {
    const { peer } = clientWithPeer();
    peer.handshake();
    peer.send(peer.frames.priorityUpdate(1, 'u=1'));
    expect(peer.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });
});
