// h2c upgrade from HTTP/1.1 (RFC 7540 §3.2, kept by RFC 9113 §3.1 for existing deployments):
// HTTP2-Settings both ways, stream 1 half-closed on each side.
import { ErrorCode, SettingId } from '../../lib/constants.js';
import { ConnectionError } from '../../lib/errors.js';
import { H2Connection } from '../../lib/connection/connection.js';

describe('h2c upgrade', () => {
  it('client: returns its SETTINGS as base64url and treats stream 1 as the sent request', () => {
    const c = new H2Connection({ clientSide: true, localSettings: { initialWindowSize: 1234 } });
    const header = c.initiateUpgradeConnection()!;
    expect(header).toMatch(/^[A-Za-z0-9_-]+$/);
    const payload = Buffer.from(header, 'base64url');
    expect(payload.length % 6).toBe(0);
    const values = new Map<number, number>();
    for (let o = 0; o < payload.length; o += 6) values.set(payload.readUInt16BE(o), payload.readUInt32BE(o + 2));
    expect(values.get(SettingId.INITIAL_WINDOW_SIZE)).toBe(1234);
    expect(c.getNextAvailableStreamId()).toBe(3);
    expect(c.openOutboundStreams).toBe(1);
  });

  it('server: applies HTTP2-Settings without an ACK, answers on stream 1, and the client reads the response', () => {
    const client = new H2Connection({ clientSide: true, localSettings: { maxConcurrentStreams: 7 } });
    const server = new H2Connection({ clientSide: false });
    const header = client.initiateUpgradeConnection()!;
    server.initiateUpgradeConnection(header);
    expect(server.remoteSettings.maxConcurrentStreams).toBe(7);
    server.sendHeaders(1, [[':status', '200']]);
    server.sendData(1, Buffer.from('upgraded'), { endStream: true });
    const serverEvents = server.receiveData(client.dataToSend());
    expect(serverEvents.map((e) => e.type)).toEqual(['RemoteSettingsChanged']);
    const events = client.receiveData(server.dataToSend());
    expect(events.map((e) => e.type)).toEqual(['RemoteSettingsChanged', 'ResponseReceived', 'DataReceived', 'StreamEnded', 'SettingsAcknowledged']);
    expect(client.openOutboundStreams).toBe(0);
  });

  it('server: refuses an HTTP2-Settings value that is not base64url or not whole settings', () => {
    expect(() => new H2Connection({ clientSide: false }).initiateUpgradeConnection('a+b/')).toThrow(ConnectionError);
    let err: unknown;
    try {
      new H2Connection({ clientSide: false }).initiateUpgradeConnection('AAEAAA');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ errorCode: ErrorCode.FRAME_SIZE_ERROR });
  });
});
