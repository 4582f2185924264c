/**
 * A client H2Connection (which acknowledges what it reads) and a server H2Connection + Sender,
 * wired in memory. The wire from the server is decoded as it passes, so tests can assert on
 * the DATA frames themselves: their order, sizes, and that none ever exceeds a window.
 */
import { FrameType } from '../../lib/constants.js';
import type { H2Event } from '../../lib/events.js';
import { FrameDecoder } from '../../lib/frame/decoder.js';
import type { DataFrame, Frame, SettingsFrame, WindowUpdateFrame } from '../../lib/frame/types.js';
import { H2Connection, type H2ConnectionOptions } from '../../lib/connection/connection.js';
import { Sender, type SenderOptions } from '../../lib/sender/sender.js';

export interface DataSeen { streamId: number; length: number; endStream: boolean }

export function senderPair(clientOptions: H2ConnectionOptions = {}, serverOptions: H2ConnectionOptions = {}, senderOptions: SenderOptions = {}) {
  const client = new H2Connection({ ...clientOptions, clientSide: true });
  const server = new H2Connection({ ...serverOptions, clientSide: false });
  const sender = new Sender(server, senderOptions);
  const wire = new FrameDecoder({ expectSettingsFirst: true, maxFrameSize: 1 << 24 });
  // A shadow of the windows the client grants, built from the client's own frames: every DATA
  // frame the server sends is checked against both windows as they stood (RFC 9113 §6.9).
  const upstream = new FrameDecoder({ expectPreface: true, expectSettingsFirst: true, maxFrameSize: 1 << 24 });
  let connWindow = 65535;
  let initialWindow = 65535;
  const streamWindows = new Map<number, number>();
  const windowViolations: string[] = [];
  const data: DataSeen[] = [];
  const frames: Frame[] = [];
  const bodies = new Map<number, Buffer[]>();
  const clientEvents: H2Event[] = [];
  const serverEvents: H2Event[] = [];
  /** When false the client reads but does not acknowledge (its windows stay spent). */
  let acknowledge = true;
  client.initiateConnection();
  server.initiateConnection();

  function pump(onServer?: (e: H2Event) => void): void {
    for (let i = 0; i < 100000; i++) {
      sender.flush();
      const toServer = client.dataToSend();
      const toClient = server.dataToSend();
      if (toServer.length === 0 && toClient.length === 0) return;
      if (toServer.length > 0) {
        upstream.push(Uint8Array.from(toServer));
        for (let f = upstream.next(); f; f = upstream.next()) {
          if (f.type === FrameType.SETTINGS && !(f as SettingsFrame).ack) {
            for (const [id, v] of (f as SettingsFrame).settings) {
              if (id !== 4) continue;
              for (const [sid, w] of streamWindows) streamWindows.set(sid, w + v - initialWindow);
              initialWindow = v;
            }
          }
          if (f.type === FrameType.WINDOW_UPDATE) {
            const u = f as WindowUpdateFrame;
            if (u.streamId === 0) connWindow += u.increment;
            else streamWindows.set(u.streamId, (streamWindows.get(u.streamId) ?? initialWindow) + u.increment);
          }
        }
        const evs = server.receiveData(toServer);
        sender.handle(evs);
        for (const e of evs) { serverEvents.push(e); onServer?.(e); }
      }
      if (toClient.length > 0) {
        wire.push(Uint8Array.from(toClient));
        for (let f = wire.next(); f; f = wire.next()) {
          frames.push(f);
          if (f.type === FrameType.DATA) {
            const d = f as DataFrame;
            data.push({ streamId: d.streamId, length: d.data.length, endStream: d.endStream });
            const sw = (streamWindows.get(d.streamId) ?? initialWindow) - d.flowControlledLength;
            streamWindows.set(d.streamId, sw);
            connWindow -= d.flowControlledLength;
            if (d.flowControlledLength > 0 && (sw < 0 || connWindow < 0)) windowViolations.push(`stream ${d.streamId}: ${d.flowControlledLength} octets, windows ${sw}/${connWindow}`);
          }
        }
        for (const e of client.receiveData(toClient)) {
          clientEvents.push(e);
          if (e.type === 'DataReceived') {
            (bodies.get(e.streamId) ?? bodies.set(e.streamId, []).get(e.streamId)!).push(Buffer.from(e.data));
            if (acknowledge) client.acknowledgeReceivedData(e.flowControlledLength, e.streamId);
          }
        }
      }
    }
    throw new Error('pump did not settle');
  }
  return {
    client, server, sender, data, frames, bodies, clientEvents, serverEvents, pump, windowViolations,
    setAcknowledge(on: boolean) { acknowledge = on; },
    body(id: number): Buffer { return Buffer.concat(bodies.get(id) ?? []); },
  };
}

export const GET = (path: string): Array<[string, string]> => [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com'], [':path', path]];
