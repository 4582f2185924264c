// Flow control through the connection (RFC 9113 §5.2, §6.9): windows for sending, the peer's
// overruns, SETTINGS_INITIAL_WINDOW_SIZE deltas, overflow scopes, padding, and the coalesced
// automatic WINDOW_UPDATEs.
import { ErrorCode, FrameType, MAX_INT31 } from '../../lib/constants.js';
import { UsageError } from '../../lib/errors.js';
import { serverWithPeer } from '../helpers/peer.js';

function opened(initialWindow?: number) {
  const { conn, peer } = serverWithPeer();
  peer.handshake(initialWindow === undefined ? undefined : peer.frames.settings().initialWindowSize(initialWindow));
  peer.send(peer.frames.headers(1).request('GET', '/').eos());
  conn.sendHeaders(1, [[':status', '200']]);
  peer.received();
  return { conn, peer };
}

describe('sending within the windows', () => {
  it('allows at most min(connection window, stream window), padding included, and refuses more (UsageError)', () => {
    const { conn } = opened(100);
    expect(conn.localFlowControlWindow(1)).toBe(100);
    conn.sendData(1, new Uint8Array(50), { padLength: 9 });
    expect(conn.localFlowControlWindow(1)).toBe(40);
    expect(() => conn.sendData(1, new Uint8Array(41))).toThrow(UsageError);
    expect(conn.localFlowControlWindow(1)).toBe(40);
  });

  it('refuses DATA above the peer\'s MAX_FRAME_SIZE', () => {
    const { conn, peer } = opened();
    peer.send(peer.frames.windowUpdate(0, 100000), peer.frames.windowUpdate(1, 100000));
    expect(() => conn.sendData(1, new Uint8Array(16385))).toThrow(UsageError);
  });

  it('applies SETTINGS_INITIAL_WINDOW_SIZE deltas to open streams, which may go negative, and never to the connection', () => {
    const { conn, peer } = opened();
    conn.sendData(1, new Uint8Array(16000));
    peer.send(peer.frames.settings().initialWindowSize(1000));
    expect(conn.localFlowControlWindow(1)).toBe(1000 - 16000);
    // > A sender MUST track the negative flow-control window and MUST NOT send new flow-controlled
    // > frames until it receives WINDOW_UPDATE frames that cause the flow-control window to become
    // > positive.   RFC 9113 §6.9.2
    expect(() => conn.sendData(1, new Uint8Array(1))).toThrow(UsageError);
    conn.sendData(1, new Uint8Array(0), { endStream: true }); // a 0-byte frame needs no window
    peer.send(peer.frames.windowUpdate(0, 1));
    expect(peer.events.at(-1)).toEqual({ type: 'WindowUpdated', streamId: 0, delta: 1 });
  });

  it('treats a stream window overflow as a stream error and a connection window overflow as a connection error', () => {
    const { peer } = opened();
    expect(peer.send(peer.frames.windowUpdate(1, MAX_INT31))).toEqual([{ type: 'StreamReset', streamId: 1, errorCode: ErrorCode.FLOW_CONTROL_ERROR, initiator: 'local' }]);
    peer.send(peer.frames.windowUpdate(0, MAX_INT31));
    expect(peer.error?.errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('treats SETTINGS_INITIAL_WINDOW_SIZE that overflows an open stream\'s window as FLOW_CONTROL_ERROR', () => {
    const { peer } = opened();
    peer.send(peer.frames.windowUpdate(1, MAX_INT31 - 65535));
    peer.send(peer.frames.settings().initialWindowSize(65536));
    expect(peer.error?.errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
  });
});

describe('receiving within our windows', () => {
  it('treats DATA beyond the connection window as a connection FLOW_CONTROL_ERROR', () => {
    const { peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('POST', '/'));
    for (let i = 0; i < 3; i++) peer.send(peer.frames.data(1, new Uint8Array(16384)));
    peer.send(peer.frames.data(1, new Uint8Array(16384)));
    expect(peer.error?.errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('treats DATA beyond a stream window as a stream FLOW_CONTROL_ERROR', () => {
    const { conn, peer } = serverWithPeer({ localSettings: { initialWindowSize: 100 } });
    peer.handshake();
    conn.incrementFlowControlWindow(100000);
    peer.send(peer.frames.headers(1).request('POST', '/'));
    expect(peer.send(peer.frames.data(1, new Uint8Array(101)))).toEqual([{ type: 'StreamReset', streamId: 1, errorCode: ErrorCode.FLOW_CONTROL_ERROR, initiator: 'local' }]);
  });

  it('counts padding against the windows and reports it in flowControlledLength', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('POST', '/'));
    const [e] = peer.send(peer.frames.data(1, 'abc').padded(10));
    expect(e).toMatchObject({ flowControlledLength: 14 });
    expect(conn.remoteFlowControlWindow(1)).toBe(65535 - 14);
  });

  it('sends coalesced WINDOW_UPDATEs as the application acknowledges data', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('POST', '/'));
    for (let i = 0; i < 4; i++) {
      const [e] = peer.send(peer.frames.data(1, new Uint8Array(10000)));
      conn.acknowledgeReceivedData((e as { flowControlledLength: number }).flowControlledLength, 1);
    }
    const ups = peer.received();
    expect(ups.map((f) => [f.type, f.streamId, (f as { increment: number }).increment])).toEqual([[FrameType.WINDOW_UPDATE, 0, 40000], [FrameType.WINDOW_UPDATE, 1, 40000]]);
  });

  it('credits the connection window for DATA on a closed stream, which the application never sees (python h2 #1210)', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('POST', '/'));
    conn.resetStream(1, ErrorCode.CANCEL);
    peer.received();
    for (let i = 0; i < 4; i++) expect(peer.send(peer.frames.data(1, new Uint8Array(16000)))).toEqual([]);
    const ups = peer.received();
    expect(ups.some((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 0)).toBe(true);
    expect(conn.remoteFlowControlWindow).toBeDefined();
  });
});
