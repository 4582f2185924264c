// A client and a server H2Connection talking in memory: many concurrent requests with bodies,
// trailers and window exhaustion, the bytes cut at random offsets; every byte arrives exactly
// once, in order (property).
import fc from 'fast-check';
import type { H2Event } from '../../lib/events.js';
import { pair } from '../helpers/peer.js';

describe('client ⇄ server in memory', () => {
  it('delivers every request and response body byte exactly once, in order, with small windows and random cuts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40000 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (sizes, maxCut, seed) => {
          let x = seed;
          const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) % maxCut + 1;
          const { client, server, pump } = pair({ localSettings: { initialWindowSize: 7000 } }, { localSettings: { initialWindowSize: 5000 } });
          const bodies = sizes.map((n, i) => Buffer.alloc(n, 65 + (i % 26)));
          const got = new Map<number, Buffer[]>();
          const echoed = new Map<number, Buffer[]>();
          const pendingOut = new Map<number, { data: Buffer; off: number; trailers: boolean }>();
          const pendingIn = new Map<number, { data: Buffer; off: number }>();
          const flushSide = (conn: typeof client, pend: Map<number, { data: Buffer; off: number; trailers?: boolean }>) => {
            for (const [id, p] of pend) {
              for (;;) {
                let room: number;
                try {
                  room = Math.min(conn.localFlowControlWindow(id), conn.maxOutboundFrameSize, p.data.length - p.off);
                } catch {
                  break;
                }
                const last = p.off + room === p.data.length;
                if (room <= 0 && !(last && p.data.length === p.off)) break;
                if (last && p.trailers) {
                  if (room > 0) conn.sendData(id, p.data.subarray(p.off, p.off + room));
                  conn.sendHeaders(id, [['x-total', String(p.data.length)]], { endStream: true });
                } else {
                  conn.sendData(id, p.data.subarray(p.off, p.off + room), { endStream: last });
                }
                p.off += room;
                if (last) {
                  pend.delete(id);
                  break;
                }
              }
            }
          };
          const onServer = (e: H2Event) => {
            if (e.type === 'RequestReceived') { got.set(e.streamId, []); server.sendHeaders(e.streamId, [[':status', '200']]); }
            if (e.type === 'DataReceived') { got.get(e.streamId)!.push(Buffer.from(e.data)); server.acknowledgeReceivedData(e.flowControlledLength, e.streamId); }
            if (e.type === 'StreamEnded') pendingOut.set(e.streamId, { data: Buffer.concat(got.get(e.streamId)!), off: 0, trailers: true });
            flushSide(server, pendingOut);
          };
          const onClient = (e: H2Event) => {
            if (e.type === 'ResponseReceived') echoed.set(e.streamId, []);
            if (e.type === 'DataReceived') { echoed.get(e.streamId)!.push(Buffer.from(e.data)); client.acknowledgeReceivedData(e.flowControlledLength, e.streamId); }
            flushSide(client, pendingIn);
          };
          pump(onServer, onClient, rnd);
          bodies.forEach((b, i) => {
            const id = 2 * i + 1;
            client.sendHeaders(id, [[':method', 'POST'], [':scheme', 'https'], [':authority', 'a'], [':path', `/${i}`]]);
            pendingIn.set(id, { data: b, off: 0 });
          });
          flushSide(client, pendingIn);
          pump(onServer, onClient, rnd);
          bodies.forEach((b, i) => {
            const id = 2 * i + 1;
            expect(Buffer.concat(got.get(id) ?? []).equals(b)).toBe(true);
            expect(Buffer.concat(echoed.get(id) ?? []).equals(b)).toBe(true);
          });
          expect(client.openOutboundStreams).toBe(0);
          expect(server.openInboundStreams).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});
