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
