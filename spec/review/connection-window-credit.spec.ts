// Review of 8b9d212 ("Connection receive window raised to 1 MiB"): flow-control accounting on real
// sockets, with a raw peer that sends only within the windows the server grants (RFC 9113 §5.2,
// §6.9). After each scenario, once every exchange is released, the server's own books must
// balance: what the peer may send (`current`) + what the application read and the coalescing
// policy has not returned yet (`processed`) = the 1 MiB target. If credit was never returned the
// sum is lower; if it was returned twice the sum is higher. The peer's count of its window must
// equal the server's `current`. Everything here held.
import { ErrorCode, FrameType } from '../../lib/constants.js';
import type { Frame } from '../../lib/frame/types.js';
import type { H2Server } from '../../lib/node/server.js';
import type { Handler } from '../../lib/node/session.js';
import { startServer } from '../interop/helpers.js';
import { compliantPeer, serverWindow, sleep } from './window-helpers.js';

const MAX = 1 << 20;
type Peer = Awaited<ReturnType<typeof compliantPeer>>;

/** Routes of a careless application: some never read, some read part and give up. */
function carelessHandler() {
  let release!: () => void;
  let released = new Promise<void>((r) => { release = r; });
  const handler: Handler = async (req, res) => {
    switch (req.path) {
      case '/stall': // reads nothing until released, then answers without reading
        await released;
        res.respond(200);
        res.end('x');
        return;
      case '/drain': {
        let n = 0;
        for await (const c of req.body) n += c.length;
        res.respond(200);
        res.end(String(n));
        return;
      }
      case '/partial-throw':
        for await (const c of req.body) { void c; break; }
        throw new Error('a careless handler');
      case '/partial-reset': {
        await req.body[Symbol.asyncIterator]().next();
        res.reset();
        return;
      }
      case '/respond-now': // answers at once, never reads: RST_STREAM NO_ERROR while the body is still coming
        res.respond(200);
        res.end('ok');
        return;
      case '/late-read': { // answers, then reads the ended body after the stream was released
        await released;
        res.respond(200);
        res.end('x');
        await sleep(20);
        for await (const c of req.body) void c;
        return;
      }
      default:
        res.respond(404);
        res.end();
    }
  };
  return { handler, release: () => release(), rearm: () => { released = new Promise<void>((r) => { release = r; }); } };
}

/** Waits until the server released every exchange and the peer saw everything. */
async function settle(h2: H2Server, peer: Peer): Promise<void> {
  await peer.sync();
  for (let i = 0; i < 200 && h2.stats().exchanges > 0; i++) await sleep(10);
  await peer.sync();
}

describe('review: connection-window credit is returned exactly once (8b9d212)', () => {
  it('(held) RST mid-body, RST after END_STREAM, throw or reset after a partial read, a response before the body, trailers, small and padding-only frames, a late read, a stream window overrun: window + unreturned reads = 1 MiB after each', async () => {
    const app = carelessHandler();
    const s = await startServer({ handler: app.handler });
    const peer = await compliantPeer(s.port);
    const f = peer.f;
    let next = 1;
    const open = (path: string): number => {
      const id = next;
      next += 2;
      peer.write(f.headers(id).request('POST', path).encode());
      return id;
    };
    const books: Record<string, unknown> = {};
    const record = async (name: string) => {
      await settle(s.h2, peer);
      const w = serverWindow(s.h2);
      books[name] = { sum: w.current + w.processed, peerSees: peer.connWindow() === w.current, exchanges: s.h2.stats().exchanges };
    };
    try {
      peer.write(f.settings().ack().encode());
      await peer.until((fr) => fr.some((x) => x.type === FrameType.WINDOW_UPDATE && x.streamId === 0));
      { // the client resets an upload nobody read
        const id = open('/stall');
        await peer.upload(id, 40000, { pad: 10 });
        await peer.sync();
        peer.write(f.reset(id).cancel().encode());
        await record('client RST mid-body');
      }
      { // the whole body came (END_STREAM), unread, then the client resets
        const id = open('/stall');
        await peer.upload(id, 40000, { pad: 3, end: true });
        await peer.sync();
        peer.write(f.reset(id).cancel().encode());
        await record('client RST after END_STREAM');
      }
      { const id = open('/partial-throw'); await peer.upload(id, 60000, { pad: 5, stopOnReset: true }); await record('handler throws after a partial read'); }
      { const id = open('/partial-reset'); await peer.upload(id, 60000, { pad: 5, stopOnReset: true }); await record('res.reset() after a partial read'); }
      { const id = open('/respond-now'); await peer.upload(id, 60000, { stopOnReset: true }); await record('response before the body, DATA in flight'); }
      { // trailers after an unread body
        const id = open('/stall');
        await peer.upload(id, 30000, { pad: 0 });
        peer.write(f.headers(id).trailers([['x-checksum', '1']]).encode());
        await peer.sync();
        app.release();
        await record('unread body with trailers');
        app.rearm();
      }
      { // 1-octet-ish frames with padding (the slab path), unread, then released
        const id = open('/stall');
        await peer.upload(id, 20000, { frame: 100, pad: 200, end: true });
        await peer.sync();
        app.release();
        await record('small padded frames');
        app.rearm();
      }
      { // padding-only DATA frames (no body octets): credited at once
        const id = open('/drain');
        for (let k = 0; k < 200; k++) {
          peer.write(f.data(id, Buffer.alloc(0)).padded(255).encode());
          peer.sentRaw(id, 256);
        }
        peer.write(f.data(id, 'x').eos().encode());
        peer.sentRaw(id, 1);
        await record('padding-only frames');
      }
      { const id = open('/late-read'); await peer.upload(id, 30000, { end: true }); await peer.sync(); app.release(); await record('read after the stream was released'); app.rearm(); }
      { // one octet beyond the stream window: RST FLOW_CONTROL_ERROR, the connection's share comes back
        const id = open('/stall');
        await peer.upload(id, 65535);
        peer.write(f.data(id, Buffer.alloc(100)).encode());
        peer.sentRaw(id, 100);
        await peer.until((fr) => fr.some((x) => x.type === FrameType.RST_STREAM && x.streamId === id && (x as Frame & { errorCode: number }).errorCode === ErrorCode.FLOW_CONTROL_ERROR));
        await record('stream window overrun');
        app.release();
        app.rearm();
      }
      { const id = open('/drain'); await peer.upload(id, 3 << 20, { pad: 255, end: true }); await record('3 MiB padded upload read'); }
      const ok = { sum: MAX, peerSees: true, exchanges: 0 };
      expect(books).toEqual(Object.fromEntries(Object.keys(books).map((k) => [k, ok])));
      expect(peer.received.some((x) => x.type === FrameType.GOAWAY)).toBe(false);
    } finally {
      app.release();
      peer.destroy();
      await s.h2.close();
    }
  }, 60000);

  it('(held) h2c Upgrade: SETTINGS then WINDOW_UPDATE(0) of 1 MiB − 65,535 after the 101; padded DATA on the upgraded stream 1 gets RST STREAM_CLOSED and its octets back; a 3 MiB padded upload follows', async () => {
    const app = carelessHandler();
    const s = await startServer({ handler: app.handler });
    const peer = await compliantPeer(s.port, {
      upgrade: 'GET /stall HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
    });
    const f = peer.f;
    try {
      await peer.until((fr) => fr.some((x) => x.type === FrameType.WINDOW_UPDATE));
      expect(peer.received.slice(0, 2).map((x) => [x.type, x.streamId, (x as Frame & { increment?: number }).increment])).toEqual([
        [FrameType.SETTINGS, 0, undefined], [FrameType.WINDOW_UPDATE, 0, MAX - 65535],
      ]);
      peer.write(f.settings().ack().encode());
      for (let k = 0; k < 3; k++) {
        peer.write(f.data(1, Buffer.alloc(16000, 1)).padded(200).encode());
        peer.sentRaw(1, 16201);
      }
      await peer.until((fr) => fr.some((x) => x.type === FrameType.RST_STREAM && x.streamId === 1));
      expect((peer.received.find((x) => x.type === FrameType.RST_STREAM) as Frame & { errorCode: number }).errorCode).toBe(ErrorCode.STREAM_CLOSED);
      peer.write(f.headers(3).request('POST', '/drain').encode());
      await peer.upload(3, 3 << 20, { pad: 100, end: true });
      await peer.until((fr) => fr.some((x) => x.type === FrameType.DATA && x.streamId === 3));
      app.release();
      await settle(s.h2, peer);
      const w = serverWindow(s.h2);
      expect({ sum: w.current + w.processed, peerSees: peer.connWindow() === w.current }).toEqual({ sum: MAX, peerSees: true });
    } finally {
      app.release();
      peer.destroy();
      await s.h2.close();
    }
  }, 30000);

  it('(held) GOAWAY race: during close(), a stream above the final GOAWAY\'s last id is discarded, and its padded DATA still goes back to the connection window', async () => {
    const app = carelessHandler();
    const s = await startServer({ handler: app.handler, drainTimeoutMs: 5000 });
    const peer = await compliantPeer(s.port);
    const f = peer.f;
    let closing: Promise<void> | undefined;
    try {
      peer.write(f.settings().ack().encode());
      await peer.until((fr) => fr.some((x) => x.type === FrameType.WINDOW_UPDATE));
      peer.write(f.headers(1).request('POST', '/stall').encode());
      const held = await peer.upload(1, 40000, { pad: 9 }); // unread: it keeps the session open
      await peer.sync();
      closing = s.h2.close();
      await peer.until((fr) => fr.some((x) => x.type === FrameType.GOAWAY));
      peer.write(f.headers(3).request('POST', '/drain').encode()); // sent before the notice was seen: served
      await peer.upload(3, 200000, { pad: 50, end: true });
      await peer.until((fr) => fr.filter((x) => x.type === FrameType.GOAWAY).length >= 2);
      expect(peer.received.filter((x) => x.type === FrameType.GOAWAY).map((x) => (x as Frame & { lastStreamId: number }).lastStreamId)).toEqual([2 ** 31 - 1, 3]);
      peer.write(f.headers(5).request('POST', '/drain').encode()); // above the last id: discarded
      for (let k = 0; k < 3; k++) {
        peer.write(f.data(5, Buffer.alloc(16000, 5)).padded(255).encode());
        peer.sentRaw(5, 16256);
      }
      await peer.sync();
      const w = serverWindow(s.h2);
      expect({ sum: w.current + w.processed + held, peerSees: peer.connWindow() === w.current }).toEqual({ sum: MAX, peerSees: true });
      expect(peer.received.some((x) => x.type === FrameType.RST_STREAM && x.streamId === 5)).toBe(false);
    } finally {
      app.release();
      await closing;
      peer.destroy();
    }
  }, 30000);

  it('(held) connectionWindow 2^31-1: WINDOW_UPDATE(0) of 2^31-1 − 65,535, and the peer\'s window never passes 2^31-1 through a 3 MiB padded upload', async () => {
    const app = carelessHandler();
    const s = await startServer({ handler: app.handler, connectionWindow: 2 ** 31 - 1 });
    const peer = await compliantPeer(s.port);
    const f = peer.f;
    try {
      peer.write(f.settings().ack().encode());
      await peer.until((fr) => fr.some((x) => x.type === FrameType.WINDOW_UPDATE));
      expect((peer.received.find((x) => x.type === FrameType.WINDOW_UPDATE) as Frame & { increment: number }).increment).toBe(2 ** 31 - 1 - 65535);
      let highest = peer.connWindow();
      const watch = setInterval(() => { highest = Math.max(highest, peer.connWindow()); }, 1);
      peer.write(f.headers(1).request('POST', '/drain').encode());
      await peer.upload(1, 3 << 20, { pad: 255, end: true });
      await settle(s.h2, peer);
      clearInterval(watch);
      highest = Math.max(highest, peer.connWindow());
      expect(highest).toBeLessThanOrEqual(2 ** 31 - 1);
      expect(peer.received.some((x) => x.type === FrameType.GOAWAY)).toBe(false);
      const w = serverWindow(s.h2);
      expect(w.current + w.processed).toBe(2 ** 31 - 1);
    } finally {
      peer.destroy();
      await s.h2.close();
    }
  }, 30000);

  it('(held) bodyTimeout is paused while 16 stalled uploads hold the connection window (16 octets left), and fires once their credit is back', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    let readerError: unknown;
    const handler: Handler = async (req, res) => {
      if (req.path === '/stall') {
        await released;
        for await (const c of req.body) void c;
        res.respond(200);
        res.end();
        return;
      }
      try {
        for await (const c of req.body) void c; // waits for octets the client cannot send
      } catch (e) {
        readerError = e;
      }
    };
    const s = await startServer({ handler, bodyTimeout: 200 });
    const peer = await compliantPeer(s.port);
    const f = peer.f;
    try {
      peer.write(f.settings().ack().encode());
      await peer.until((fr) => fr.some((x) => x.type === FrameType.WINDOW_UPDATE));
      for (let i = 0; i < 16; i++) {
        const id = 2 * i + 1;
        peer.write(f.headers(id).request('POST', '/stall').encode());
        await peer.upload(id, 65535);
      }
      expect(peer.connWindow()).toBe(16);
      peer.write(f.headers(33).request('POST', '/reader').encode());
      await peer.upload(33, 16); // all the window there is
      await sleep(800); // 4 × bodyTimeout: the client could not send, so it is not its stall
      expect(peer.received.some((x) => x.type === FrameType.RST_STREAM && x.streamId === 33)).toBe(false);
      expect(peer.connWindow()).toBe(0);
      release(); // the stalled handlers read: the window opens, and the reader's time counts again
      const t0 = Date.now();
      await peer.until((fr) => fr.some((x) => x.type === FrameType.RST_STREAM && x.streamId === 33), 3000);
      expect(Date.now() - t0).toBeLessThan(1500);
      expect((peer.received.find((x) => x.type === FrameType.RST_STREAM && x.streamId === 33) as Frame & { errorCode: number }).errorCode).toBe(ErrorCode.CANCEL);
      expect(peer.connWindow()).toBeGreaterThan(0);
      await sleep(20);
      expect((readerError as Error)?.constructor?.name).toBe('StreamClosedError');
    } finally {
      release();
      peer.destroy();
      await s.h2.close();
    }
  }, 30000);
});
