// The handler API as careless authors use it, on real sockets (in-process server, h2sched client):
// every mistake is answered at the call (UsageError) or contained to its stream, never later at
// flush time and never in the process; request bodies made of tiny frames cost octets, not
// objects; 1xx, HEAD, 204; the client's connection window survives bodies it never reads; and
// the sniffing path (CR/LF split, bad HTTP2-Settings, close() with sockets still being sniffed).
import net from 'node:net';
import { Readable } from 'node:stream';
import { UsageError } from '../../lib/errors.js';
import { Body } from '../../lib/node/body.js';
import { connect } from '../../lib/node/client.js';
import type { H2Request, H2Response, Handler } from '../../lib/node/session.js';
import { Sender } from '../../lib/sender/sender.js';
import { GET, senderPair } from '../sender/helpers.js';
import { deadline, rawPeer, startServer } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const noRecords = { exchanges: 0, senderStreams: 0, schedulerStreams: 0, engineStreams: 0 };

/** A server whose handler is chosen by path; records what each handler call threw or returned. */
async function careless(routes: Record<string, (req: H2Request, res: H2Response) => unknown>) {
  const seen: string[] = [];
  const handler: Handler = async (req, res) => {
    const route = routes[req.path];
    if (route) {
      await route(req, res);
      return;
    }
    res.respond(200);
    res.end('ok');
  };
  const s = await startServer({ handler, lingerMs: 200 });
  const client = await connect(s.url);
  return { s, client, seen };
}

async function settled(s: Awaited<ReturnType<typeof startServer>>, sessions?: number): Promise<ReturnType<typeof s.h2.stats>> {
  for (let i = 0; i < 200; i++) {
    const st = s.h2.stats();
    if (st.exchanges + st.senderStreams + st.schedulerStreams + st.engineStreams === 0 && (sessions === undefined || st.sessions === sessions)) return st;
    await sleep(10);
  }
  return s.h2.stats();
}

describe('handler mistakes are answered at the call or contained to their stream', () => {
  it('a pipe() nobody awaits, whose stream the client resets, does not become an unhandled rejection; the source is destroyed', async () => {
    let destroyed = false;
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    const { s, client } = await careless({
      '/floating': (_req, res) => {
        const source = new Readable({ read() {} });
        source.on('close', () => { destroyed = true; });
        source.push(Buffer.alloc(1000, 1));
        res.pipe(source); // not awaited
      },
    });
    try {
      const r = await client.request({ path: '/floating' });
      r.cancel();
      for (let i = 0; i < 100 && !destroyed; i++) await sleep(10);
      await sleep(20);
      expect(destroyed).toBe(true);
      expect(unhandled).toEqual([]);
      expect(await settled(s)).toMatchObject(noRecords);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      client.destroy();
      await s.h2.close();
    }
  });

  it('pipe() of something that is not an async iterable and body chunks that are not bytes throw UsageError at the call, before any headers', async () => {
    const thrown: string[] = [];
    const attempt = (res: H2Response, f: () => unknown) => {
      try {
        f();
      } catch (e) {
        thrown.push(e instanceof UsageError ? 'UsageError' : String(e));
      }
      res.respond(204);
      res.end();
    };
    const { s, client } = await careless({
      '/array': (_req, res) => attempt(res, () => res.pipe([Buffer.from('x')] as unknown as AsyncIterable<Uint8Array>)),
      '/number': (_req, res) => attempt(res, () => res.end(12345 as unknown as string)),
      '/u16': (_req, res) => attempt(res, () => res.write(new Uint16Array([0x4142]) as unknown as Uint8Array)),
      '/header': (_req, res) => attempt(res, () => res.respond(200, [['x-n', 5 as unknown as string]])),
    });
    try {
      for (const p of ['/array', '/number', '/u16', '/header']) {
        const r = await client.request({ path: p });
        expect(r.status).toBe(204); // nothing went out before the mistake was reported
        await r.bytes();
      }
      expect(thrown).toEqual(['UsageError', 'UsageError', 'UsageError', 'UsageError']);
      expect(await settled(s)).toMatchObject(noRecords);
    } finally {
      client.destroy();
      await s.h2.close();
    }
  });

  it('a piped source that fails resets its stream with INTERNAL_ERROR and releases it, even when the handler catches the error', async () => {
    const { s, client } = await careless({
      '/fails': async (_req, res) => {
        async function* gen() {
          yield Buffer.alloc(100, 1);
          await sleep(5);
          throw new Error('disk on fire');
        }
        await res.pipe(gen()).catch(() => undefined);
      },
      '/yields-null': async (_req, res) => {
        async function* gen() { yield null as unknown as Uint8Array; }
        await res.pipe(gen()).catch(() => undefined);
      },
    });
    try {
      for (const p of ['/fails', '/yields-null']) {
        const r = await client.request({ path: p });
        await expect(r.bytes()).rejects.toThrow(/error code 2/); // RST_STREAM INTERNAL_ERROR
      }
      expect(await settled(s)).toMatchObject(noRecords);
      expect(await (await client.request({ path: '/' })).text()).toBe('ok');
    } finally {
      client.destroy();
      await s.h2.close();
    }
  });

  it('informational responses: respond(103) then a final response, with trailers after the body (RFC 9113 §8.1)', async () => {
    const { s, client } = await careless({
      '/early-hints': (_req, res) => {
        res.respond(103, [['link', '</style.css>; rel=preload']]);
        res.end('body', [['x-trailer', '1']]); // the final 200 goes out first
      },
      '/101': (_req, res) => {
        expect(() => res.respond(101)).toThrow(UsageError);
        res.respond(200);
        res.end();
      },
    });
    try {
      const r = await client.request({ path: '/early-hints' });
      expect(r.informational.map((h) => h.find(([n]) => n === ':status')?.[1])).toEqual(['103']);
      expect(r.status).toBe(200);
      expect(await r.text()).toBe('body');
      expect(r.trailers).toEqual([['x-trailer', '1']]);
      expect((await client.request({ path: '/101' })).status).toBe(200);
    } finally {
      client.destroy();
      await s.h2.close();
    }
  });

  it('one frozen header list answered with several statuses, also as 1xx, keeps each status and its own fields', async () => {
    const fields = Object.freeze([Object.freeze(['x-kind', 'shared'] as const), Object.freeze(['Content-Type', 'text/plain'] as const)]);
    const hint = Object.freeze([Object.freeze(['link', '</a.css>; rel=preload'] as const)]);
    const { s, client } = await careless({
      '/200': (_req, res) => { res.respond(200, fields); res.end('ok'); },
      '/404': (_req, res) => { res.respond(404, fields); res.end('no'); },
      '/hint': (_req, res) => { res.respond(103, hint); res.respond(103, hint); res.respond(201, fields); res.end(); },
    });
    try {
      for (const path of ['/200', '/404', '/200', '/hint', '/404', '/hint']) {
        const r = await client.request({ path });
        expect(r.status).toBe(path === '/hint' ? 201 : Number(path.slice(1)));
        expect(r.headers.filter(([n]) => n === 'x-kind' || n === 'content-type')).toEqual([['x-kind', 'shared'], ['content-type', 'text/plain']]);
        expect(r.informational.length).toBe(path === '/hint' ? 2 : 0);
        await r.text();
      }
    } finally {
      client.destroy();
      await s.h2.close();
    }
  });

  it('responses to HEAD and 204/304 carry no content whatever the handler writes (RFC 9110 §9.3.2, §15.3.5)', async () => {
    const { s, client } = await careless({
      '/204': (_req, res) => {
        res.respond(204);
        res.end('not sent');
      },
      '/head': (_req, res) => {
        res.respond(200, [['content-length', '8']]);
        expect(res.write('not sent')).toBe(true);
        res.end();
      },
    });
    try {
      const a = await client.request({ path: '/204' });
      expect((await a.bytes()).length).toBe(0);
      const b = await client.request({ method: 'HEAD', path: '/head' });
      expect(b.header('content-length')).toBe('8');
      expect((await b.bytes()).length).toBe(0);
      expect(await settled(s)).toMatchObject(noRecords);
    } finally {
      client.destroy();
      await s.h2.close();
    }
  });

  it('a request body has one reader at a time: a second iterator throws UsageError, the first still gets StreamClosedError on reset', async () => {
    const outcome: string[] = [];
    const { s, client } = await careless({
      '/twice': async (req, res) => {
        res.respond(200);
        res.write('reading');
        const first = (async () => { for await (const _ of req.body) { /* reading */ } })();
        try {
          for await (const _ of req.body) { /* never */ }
        } catch (e) {
          outcome.push(`second: ${(e as Error).name}`);
        }
        await first.catch((e: Error) => outcome.push(`first: ${e.name}`));
      },
    });
    try {
      async function* slowBody() {
        yield 'a';
        await new Promise(() => undefined); // the rest never comes
      }
      const r = await client.request({ method: 'POST', path: '/twice', body: slowBody() });
      for (let i = 0; i < 100 && outcome.length === 0; i++) await sleep(10);
      r.cancel();
      for (let i = 0; i < 100 && outcome.length < 2; i++) await sleep(10);
      expect(outcome).toEqual(['second: UsageError', 'first: StreamClosedError']);
      expect(await settled(s)).toMatchObject(noRecords);
    } finally {
      client.destroy();
      await s.h2.close();
    }
  });

  it('a throwing onClose cannot keep a failed connection\'s socket open, and close() still resolves', async () => {
    const s = await startServer({ lingerMs: 200, onClose: () => { throw new Error('careless onClose'); } });
    const p = await rawPeer(s.port);
    p.socket.write(Buffer.concat([p.f.preface(), p.f.settings().encode(), p.f.data(0, 'x').encode()])); // connection error
    const t0 = Date.now();
    await Promise.race([p.closed, deadline(3000)]);
    expect(p.closedAt).toBeGreaterThan(0);
    expect(p.closedAt - t0).toBeLessThan(1000);
    await s.h2.close();
    for (let i = 0; i < 50 && s.h2.stats().connections > 0; i++) await sleep(10);
    expect(s.h2.stats()).toMatchObject({ connections: 0, sessions: 0 });
  });
});

describe('memory per octet a peer controls', () => {
  it('a request body sent as 1-octet DATA frames is held in slabs: 65,535 octets in a few hundred chunks, not 65,535', () => {
    let acked = 0;
    const body = new Body((n) => { acked += n; });
    const read = Buffer.alloc(65536, 7); // one socket read; each frame a 1-octet view of it
    for (let i = 0; i < 65535; i++) body.push(read.subarray(i, i + 1), 1);
    const chunks = (body as unknown as { chunks: Array<[Uint8Array, number]> }).chunks;
    expect(chunks.length).toBeLessThan(65535 / 256);
    expect(chunks.every(([v]) => v.buffer !== read.buffer)).toBe(true); // the read buffer is not pinned
    expect(chunks.reduce((n, [v, f]) => (expect(f).toBe(v.length), n + v.length), 0)).toBe(65535);
    expect(body.releaseCredit()).toBe(65535);
    expect(acked).toBe(0);
  });

  it('the sender copies small writes into slabs: 10,000 1-octet writes are a few entries and go out as full frames', () => {
    const p = senderPair();
    p.pump();
    p.client.sendHeaders(1, GET('/tiny'), { endStream: true });
    let sender: Sender | undefined;
    p.pump((e) => {
      if (e.type !== 'RequestReceived') return;
      p.server.sendHeaders(1, [[':status', '200']]);
      sender = p.sender;
      for (let i = 0; i < 10000; i++) p.sender.write(1, Buffer.from([i & 0xff]));
      const entries = (p.sender as unknown as { streams: Map<number, { chunks: Uint8Array[] }> }).streams.get(1)!.chunks.length;
      expect(entries).toBeLessThan(10);
      p.sender.end(1);
    });
    expect(sender).toBeDefined();
    const body = p.body(1);
    expect(body.length).toBe(10000);
    expect([...body.subarray(250, 260)]).toEqual([250, 251, 252, 253, 254, 255, 0, 1, 2, 3]);
    expect(p.data.filter((d) => d.length > 0).length).toBeLessThanOrEqual(2); // 16 KiB frames, not 10,000
  });
});

describe('client connection window', () => {
  it('response bodies the client never reads give their octets back to the connection window', async () => {
    const big = Buffer.alloc(10000, 3);
    const s = await startServer({ handler: (_req, res) => { res.respond(200); res.end(big); } });
    const client = await connect(s.url);
    try {
      for (let i = 0; i < 12; i++) {
        const r = await client.request({ path: `/unread-${i}` });
        expect(r.status).toBe(200); // the body is never read
        await sleep(5);
      }
      const r = await client.request({ path: '/read' });
      expect((await r.bytes()).equals(big)).toBe(true); // 12 × 10,000 > 65,535: only credit returned makes room
    } finally {
      client.destroy();
      await s.h2.close();
    }
  });
});

describe('before HTTP/2 starts (plaintext sniffing)', () => {
  it('an HTTP/1.1 Upgrade whose request line is split between CR and LF is read as one', async () => {
    const s = await startServer();
    try {
      const sock = net.connect(s.port, '127.0.0.1');
      await new Promise<void>((r) => sock.once('connect', () => r()));
      let got = '';
      sock.on('data', (d: Buffer) => { got += d.toString('latin1'); });
      sock.write('GET / HTTP/1.1\r');
      await sleep(30);
      sock.write('\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n');
      for (let i = 0; i < 100 && !got.includes('101'); i++) await sleep(10);
      expect(got).toMatch(/^HTTP\/1\.1 101 Switching Protocols/);
      sock.destroy();
    } finally {
      await s.h2.close();
    }
  });

  it('an invalid HTTP2-Settings gets 400 and no upgrade (RFC 7540 §3.2.1)', async () => {
    const s = await startServer();
    try {
      const sock = net.connect(s.port, '127.0.0.1');
      let got = '';
      sock.on('data', (d: Buffer) => { got += d.toString('latin1'); });
      const closed = new Promise<void>((r) => sock.on('close', () => r()));
      sock.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAIAAAAH\r\n\r\n'); // ENABLE_PUSH = 7
      await closed;
      expect(got).toMatch(/^HTTP\/1\.1 400 Bad Request/);
      expect(got).not.toMatch(/101/);
    } finally {
      await s.h2.close();
    }
  });

  it('close() does not wait for a socket still sending an HTTP/1.1 head: no request of it was accepted', async () => {
    const s = await startServer();
    const sock = net.connect(s.port, '127.0.0.1');
    sock.on('error', () => undefined);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write('GET / HTTP/1.1\r\nHost: x\r\n'); // and never the end of the head
    await sleep(30);
    const t0 = Date.now();
    await s.h2.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    sock.destroy();
  });
});

describe('res.drained(): back-pressure for handlers that write by hand', () => {
  it('a handler that waits on drained() after write() returns false sends a 2 MB body intact, never more than the high-water mark queued', async () => {
    const body = Buffer.from(Array.from({ length: 2_000_000 }, (_, i) => (i * 31) % 256));
    let maxQueued = 0;
    let waits = 0;
    const { s, client } = await careless({
      '/big': async (_req, res) => {
        res.respond(200);
        for (let o = 0; o < body.length; o += 16384) {
          if (!res.write(body.subarray(o, o + 16384))) {
            waits++;
            await res.drained();
          }
          maxQueued = Math.max(maxQueued, (s.h2.sessions.values().next().value as unknown as { sender: Sender }).sender.queuedTotal);
        }
        res.end();
      },
    });
    try {
      const r = await client.request({ path: '/big' });
      expect((await r.bytes()).equals(body)).toBe(true);
      expect(waits).toBeGreaterThan(0);
      expect(maxQueued).toBeLessThanOrEqual(65536 + 16384);
    } finally {
      client.destroy();
      await s.h2.close();
    }
  });

  it('drained() rejects with StreamClosedError when the client resets the stream, and at once after it is gone', async () => {
    const outcomes: string[] = [];
    let resRef: H2Response | undefined;
    const { s, client } = await careless({
      '/stall': async (_req, res) => {
        resRef = res;
        res.respond(200);
        // writes for ever, waiting whenever the queue is full: only the stream's end stops it
        try {
          for (;;) if (!res.write(Buffer.alloc(16384))) await res.drained();
        } catch (e) {
          outcomes.push((e as Error).name);
        }
      },
    });
    try {
      const r = await client.request({ path: '/stall' });
      const it = r.body[Symbol.asyncIterator]();
      await it.next();
      client.destroy(); // the connection goes: the stream is released
      for (let i = 0; i < 100 && outcomes.length === 0; i++) await sleep(10);
      expect(outcomes).toEqual(['StreamClosedError']);
      await expect(resRef!.drained()).rejects.toHaveProperty('name', 'StreamClosedError');
      expect(await settled(s)).toMatchObject(noRecords);
    } finally {
      await s.h2.close();
    }
  });
});
