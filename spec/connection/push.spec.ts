// Server push, sent (RFC 9113 §8.4): PUSH_PROMISE validity, ENABLE_PUSH respected, the promised
// stream's states.
import { ErrorCode, FrameType } from '../../lib/constants.js';
import { UsageError } from '../../lib/errors.js';
import { clientWithPeer, serverWithPeer } from '../helpers/peer.js';

const REQ: Array<[string, string]> = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/app.js']];

describe('server push', () => {
  it('promises an even stream on an open client stream, then answers on it', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('GET', '/').eos());
    conn.pushStream(1, 2, REQ);
    conn.sendHeaders(2, [[':status', '200']]);
    conn.sendData(2, Buffer.from('js'), { endStream: true });
    const [pp, h, d] = peer.received();
    expect(pp).toMatchObject({ type: FrameType.PUSH_PROMISE, streamId: 1, promisedStreamId: 2, fields: REQ });
    expect(h).toMatchObject({ type: FrameType.HEADERS, streamId: 2 });
    expect(d).toMatchObject({ type: FrameType.DATA, streamId: 2, endStream: true });
  });

  it('refuses to push when the client disabled it, on a closed parent, or with a bad promised id', () => {
    const off = serverWithPeer();
    off.peer.handshake(off.peer.frames.settings().enablePush(false));
    off.peer.send(off.peer.frames.headers(1).request('GET', '/'));
    expect(() => off.conn.pushStream(1, 2, REQ)).toThrow(UsageError);
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('GET', '/').eos());
    expect(() => conn.pushStream(1, 3, REQ)).toThrow(UsageError);
    conn.pushStream(1, 4, REQ);
    expect(() => conn.pushStream(1, 2, REQ)).toThrow(UsageError); // not increasing
    conn.sendHeaders(1, [[':status', '204']], { endStream: true });
    expect(() => conn.pushStream(1, 6, REQ)).toThrow(UsageError); // parent closed
  });

  it('lets the client reset a promised stream before the response', () => {
    const { conn, peer } = serverWithPeer();
    peer.handshake();
    peer.send(peer.frames.headers(1).request('GET', '/').eos());
    conn.pushStream(1, 2, REQ);
    expect(peer.send(peer.frames.reset(2).cancel())).toEqual([{ type: 'StreamReset', streamId: 2, errorCode: ErrorCode.CANCEL, initiator: 'remote' }]);
    expect(() => conn.sendHeaders(2, [[':status', '200']])).toThrow(UsageError);
  });

  it('is not available to clients', () => {
    const { conn, peer } = clientWithPeer();
    peer.handshake();
    expect(() => conn.pushStream(1, 2, REQ)).toThrow(UsageError);
  });
});
