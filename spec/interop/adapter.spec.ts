// The Node adapter's own duties on real sockets: the SETTINGS ACK timeout, the idle timeout (and
// that it spares connections with open streams), handler failures answered per stream (500 or
// RST_STREAM INTERNAL_ERROR), and a peer's protocol error ending only its own connection.
import { ErrorCode, FrameType } from '../../lib/constants.js';
import { H2SchedError } from '../../lib/errors.js';
import type { Frame } from '../../lib/frame/types.js';
import { connect } from '../../lib/node/client.js';
import { demoSite } from '../../lib/node/demo.js';
import type { Handler } from '../../lib/node/session.js';
import { staticHandler } from '../../lib/node/static.js';
import { rawPeer, startServer } from './helpers.js';

const goaway = (frames: Frame[]) => frames.find((f) => f.type === FrameType.GOAWAY) as (Frame & { errorCode: number }) | undefined;

describe('Node adapter on sockets', () => {
  it('ends a connection whose peer never acknowledges our SETTINGS with GOAWAY SETTINGS_TIMEOUT', async () => {
    const s = await startServer({ settingsTimeout: 150 });
    try {
      const p = await rawPeer(s.port);
      p.socket.write(Buffer.concat([p.f.preface(), p.f.settings().encode()])); // no ACK, ever
      await p.closed;
      expect(goaway(p.received)?.errorCode).toBe(ErrorCode.SETTINGS_TIMEOUT);
    } finally {
      await s.h2.close();
    }
  });

  it('closes an idle connection gracefully after idleTimeout, but not one with a stream open', async () => {
    const slow: Handler = async (req, res) => {
      await new Promise((r) => setTimeout(r, 400)); // longer than the idle timeout
      res.respond(200);
      res.end(`late ${req.path}`);
    };
    const s = await startServer({ idleTimeout: 150, handler: slow });
    try {
      const client = await connect(s.url);
      const r = await client.request({ path: '/a' });
      expect(await r.text()).toBe('late /a'); // the open stream kept it alive
      const t0 = Date.now();
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (client.isClosed) {
            clearInterval(poll);
            resolve();
          }
        }, 10);
      });
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(s.h2.sessions.size).toBe(0);
    } finally {
      await s.h2.close();
    }
  });

  it('answers a handler that throws with 500, and one that fails mid-response with RST_STREAM INTERNAL_ERROR', async () => {
    const handler: Handler = async (req, res) => {
      if (req.path === '/sync') throw new Error('sync failure');
      if (req.path === '/async') {
        await Promise.resolve();
        throw new Error('async failure');
      }
      if (req.path === '/mid') {
        res.respond(200);
        res.write('partial');
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('failure after the headers');
      }
      res.respond(200);
      res.end('fine');
    };
    const s = await startServer({ handler });
    const client = await connect(s.url);
    try {
      expect((await client.request({ path: '/sync' })).status).toBe(500);
      expect((await client.request({ path: '/async' })).status).toBe(500);
      const mid = await client.request({ path: '/mid' });
      expect(mid.status).toBe(200);
      await expect(mid.bytes()).rejects.toThrow(new RegExp(`reset \\(error code ${ErrorCode.INTERNAL_ERROR}\\)`));
      expect(await (await client.request({ path: '/ok' })).text()).toBe('fine');
    } finally {
      await client.close();
      await s.h2.close();
    }
  });

  it('a peer\'s protocol error ends only its own connection; a transfer on another one completes', async () => {
    const s = await startServer({ handler: staticHandler(undefined) });
    const good = await connect(s.url, { connection: { localSettings: { initialWindowSize: 16384 } } });
    try {
      const big = await good.request({ path: '/js/vendor.js' });
      const bad = await rawPeer(s.port);
      bad.socket.write(Buffer.concat([bad.f.preface(), bad.f.settings().encode(), bad.f.data(0, 'not on stream 0').encode()]));
      await bad.closed;
      expect(goaway(bad.received)?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
      expect((await big.bytes()).equals(demoSite().get('/js/vendor.js')!.body)).toBe(true);
    } finally {
      await good.close();
      await s.h2.close();
    }
  });

  it('CVE-2019-9517 on a socket: a peer with huge windows that never reads gets 100 endless responses; what the server holds stays bounded', async () => {
    let produced = 0;
    const chunk = new Uint8Array(16384);
    const endless: Handler = async (_req, res) => {
      res.respond(200);
      await res.pipe((async function* () {
        for (let i = 0; i < 640; i++) { // 10 MiB each, produced only as the sender asks
          produced += chunk.length;
          yield chunk;
        }
      })()).catch(() => undefined);
    };
    const s = await startServer({ handler: endless });
    try {
      const p = await rawPeer(s.port);
      p.socket.pause(); // never reads
      const f = p.f;
      p.socket.write(Buffer.concat([
        f.preface(), f.settings().initialWindowSize(0x7fffffff).encode(), f.settings().ack().encode(),
        f.windowUpdate(0, 0x7fffffff - 65535).encode(),
        ...Array.from({ length: 100 }, (_, i) => f.headers(2 * i + 1).request('GET', `/big${i}`).eos().encode()),
      ]));
      await new Promise((r) => setTimeout(r, 1500));
      const session = [...s.h2.sessions][0]!;
      const bound = 100 * (65536 + chunk.length) + 2 * 65536 + 65536; // per-stream high-water mark + one chunk; engine and socket marks
      expect(session.bufferedOctets).toBeLessThanOrEqual(bound);
      expect(produced - session.bytesOut).toBeLessThanOrEqual(bound); // nothing produced beyond what is held or written
      expect(produced).toBeLessThan(100 * 640 * chunk.length); // the handlers were paused, not run to the end
      p.socket.destroy();
    } finally {
      await s.h2.close();
    }
  });

  it('a ping flood during a streaming response ends that connection with ENHANCE_YOUR_CALM; the process and other connections carry on', async () => {
    const s = await startServer({ handler: staticHandler(undefined) });
    const good = await connect(s.url);
    try {
      const p = await rawPeer(s.port);
      const f = p.f;
      p.socket.write(Buffer.concat([f.preface(), f.settings().encode(), f.settings().ack().encode(), f.headers(1).request('GET', '/js/vendor.js').eos().encode()]));
      await new Promise((r) => setTimeout(r, 50)); // the response is streaming, its window spent
      // window for the response, then the flood, in one chunk: the stream is ready when the budget trips
      p.socket.write(Buffer.concat([f.windowUpdate(0, 1 << 20).encode(), f.windowUpdate(1, 1 << 20).encode(), ...Array.from({ length: 3000 }, () => f.ping('pingpong').encode())]));
      await p.closed;
      expect(goaway(p.received)?.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
      const r = await good.request({ path: '/css/site.css' });
      expect((await r.bytes()).equals(demoSite().get('/css/site.css')!.body)).toBe(true);
    } finally {
      await good.close();
      await s.h2.close();
    }
  });

  it('rejects requests with our error class once the connection is gone', async () => {
    const s = await startServer();
    const client = await connect(s.url);
    await s.h2.close();
    await expect(client.request({ path: '/' })).rejects.toBeInstanceOf(H2SchedError);
  });

  it('a graceful drain has a deadline: after drainTimeoutMs the streams still open are reset and close() resolves', async () => {
    let pending = 0;
    const never: Handler = async (_req, res) => {
      res.respond(200);
      res.write('started');
      pending++; // and never ends
    };
    const s = await startServer({ handler: never, drainTimeoutMs: 300 });
    const client = await connect(s.url);
    const r = await client.request({ path: '/hang' });
    expect(pending).toBe(1);
    const t0 = Date.now();
    await s.h2.close();
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2000);
    await expect(r.bytes()).rejects.toBeInstanceOf(H2SchedError);
    expect(s.h2.stats()).toMatchObject({ sessions: 0, exchanges: 0, senderStreams: 0, engineStreams: 0 });
  });

  it('a graceful shutdown sends GOAWAY(2^31-1) and PING first, then the real GOAWAY after the PING round trip (RFC 9113 §6.8)', async () => {
    const s = await startServer();
    const p = await rawPeer(s.port);
    const f = p.f;
    p.socket.write(Buffer.concat([f.preface(), f.settings().encode(), f.settings().ack().encode(), f.headers(1).request('GET', '/').eos().encode()]));
    await p.until((fs) => fs.some((x) => x.type === FrameType.DATA && x.streamId === 1 && (x as { endStream: boolean }).endStream));
    const closing = s.h2.close();
    await p.until((fs) => fs.some((x) => x.type === FrameType.PING && !(x as { ack: boolean }).ack));
    const ping = p.received.find((x) => x.type === FrameType.PING) as Frame & { opaqueData: Uint8Array };
    const goaways = () => p.received.filter((x) => x.type === FrameType.GOAWAY) as Array<Frame & { lastStreamId: number; errorCode: number }>;
    expect(goaways().map((g) => g.lastStreamId)).toEqual([0x7fffffff]);
    p.socket.write(f.ping(ping.opaqueData).ack().encode());
    await p.closed;
    await closing;
    expect(goaways().map((g) => [g.lastStreamId, g.errorCode])).toEqual([[0x7fffffff, 0], [1, 0]]);
  });
});
