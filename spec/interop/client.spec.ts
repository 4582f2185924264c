// The h2sched client against real servers: a node:http2 server (always), h2sched's own server
// (h2c and TLS), and nghttpd --no-tls when installed.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type H2Client } from '../../lib/node/client.js';
import { demoSite } from '../../lib/node/demo.js';
import { H2SchedError } from '../../lib/errors.js';
import { has, itWith, startServer } from './helpers.js';

async function nodeServer(onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void, settings: http2.Settings = {}) {
  const server = http2.createServer({ settings });
  const seen: http2.IncomingHttpHeaders[] = [];
  server.on('stream', (stream, headers) => {
    seen.push(headers);
    stream.on('error', () => undefined);
    onStream(stream, headers);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const payload = randomBytes(1 << 20);

describe('h2sched client against a node:http2 server', () => {
  let s: Awaited<ReturnType<typeof nodeServer>>;
  let client: H2Client;
  beforeAll(async () => {
    s = await nodeServer((stream, headers) => {
      const p = headers[':path'];
      if (p === '/echo') {
        stream.respond({ ':status': 200 }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'x-echoed': 'yes' }));
        stream.pipe(stream);
      } else if (p === '/big') {
        stream.respond({ ':status': 200, 'content-length': String(payload.length) });
        stream.end(payload);
      } else if (p === '/slow') {
        stream.respond({ ':status': 200 });
        const t = setInterval(() => stream.write(Buffer.alloc(1024)), 5);
        stream.on('close', () => clearInterval(t));
      } else {
        stream.respond({ ':status': 200, 'content-type': 'text/plain', 'x-path': String(p) });
        stream.end(`hello ${p}`);
      }
    }, { maxConcurrentStreams: 5, initialWindowSize: 16384 });
    client = await connect(s.url, { connection: { localSettings: { initialWindowSize: 16384 } } });
  });
  afterAll(async () => {
    await client.close();
    await s.close();
  });

  it('sends a GET with RFC 7540 priority fields and reads the response', async () => {
    const r = await client.request({ path: '/a?x=1', headers: [['accept', 'text/plain']], priority: { scheme: 'rfc7540', dependsOn: 0, weight: 200, exclusive: false } });
    expect(r.status).toBe(200);
    expect(r.header('x-path')).toBe('/a?x=1');
    expect(await r.text()).toBe('hello /a?x=1');
    const h = s.seen.at(-1)!;
    expect(h[':method']).toBe('GET');
    expect(h[':scheme']).toBe('http');
    expect(h.accept).toBe('text/plain');
  });

  it('sends an RFC 9218 priority as a priority header field', async () => {
    const r = await client.request({ path: '/p', priority: { scheme: 'rfc9218', urgency: 1, incremental: true } });
    await r.text();
    expect(s.seen.at(-1)!.priority).toBe('u=1, i');
  });

  it('reads a 1 MiB body through 16 KiB windows, returning credit as it reads', async () => {
    const r = await client.request({ path: '/big' });
    const body = await r.bytes();
    expect(body.equals(payload)).toBe(true);
    expect(r.header('content-length')).toBe(String(payload.length));
  });

  it('streams a 1 MiB request body from an async iterable with trailers, echoed back with trailers', async () => {
    async function* chunks() {
      for (let i = 0; i < payload.length; i += 10000) yield payload.subarray(i, i + 10000);
    }
    const r = await client.request({ method: 'POST', path: '/echo', body: chunks(), trailers: [['x-sum', '1']] });
    const body = await r.bytes();
    expect(body.equals(payload)).toBe(true);
    expect(r.trailers).toEqual([['x-echoed', 'yes']]);
  });

  it('queues requests beyond the server\'s MAX_CONCURRENT_STREAMS (5) and completes all 60', async () => {
    const rs = await Promise.all(Array.from({ length: 60 }, (_, i) => client.request({ path: `/n${i}` }).then((r) => r.text())));
    expect(rs).toEqual(Array.from({ length: 60 }, (_, i) => `hello /n${i}`));
  });

  it('cancels a response mid-body, and the connection keeps working', async () => {
    const r = await client.request({ path: '/slow' });
    const it = r.body[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    r.cancel();
    await expect(it.next()).rejects.toBeInstanceOf(H2SchedError);
    expect(await (await client.request({ path: '/after' })).text()).toBe('hello /after');
  });

  it('measures a PING round trip', async () => {
    const ms = await client.ping();
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThan(5000);
  });
});

describe('h2sched client against h2sched serve', () => {
  it('fetches every demo asset with priorities over h2c, and closes gracefully', async () => {
    const s = await startServer();
    const client = await connect(s.url);
    try {
      const site = demoSite();
      const got = await Promise.all([...site.keys()].map(async (p, i) => {
        const r = await client.request({ path: p, priority: { scheme: 'rfc7540', dependsOn: 0, weight: 1 + (i * 37) % 256, exclusive: false } });
        return [p, await r.bytes()] as const;
      }));
      for (const [p, body] of got) expect(body.equals(site.get(p)!.body)).toBe(true);
    } finally {
      await client.close();
      await s.h2.close();
    }
    expect(client.isClosed).toBe(true);
  });

  itWith(['openssl'], 'connects over TLS with ALPN h2 and refuses a server that does not speak h2', async () => {
    const { execFileSync } = await import('node:child_process');
    const dir = mkdtempSync(path.join(tmpdir(), 'h2sched-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const cert = readFileSync(path.join(dir, 'cert.pem'));
    const key = readFileSync(path.join(dir, 'key.pem'));
    const s = await startServer({ tls: { cert, key } });
    const client = await connect(s.url, { tls: { ca: cert, checkServerIdentity: () => undefined } });
    try {
      const r = await client.request({ path: '/css/site.css' });
      expect((await r.bytes()).equals(demoSite().get('/css/site.css')!.body)).toBe(true);
    } finally {
      await client.close();
      await s.h2.close();
    }
    // an HTTPS server that only offers http/1.1
    const tlsServer = (await import('node:tls')).createServer({ cert, key, ALPNProtocols: ['http/1.1'] }, (sock) => sock.end());
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', () => r()));
    try {
      const attempt = connect(`https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`, { tls: { ca: cert, checkServerIdentity: () => undefined } });
      await expect(attempt).rejects.toBeInstanceOf(H2SchedError);
      await expect(attempt).rejects.toThrow(/no application protocol|ALPN/);
    } finally {
      tlsServer.close();
    }
  });

  it('rejects a connection refused with our error class', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    await expect(connect(`http://127.0.0.1:${port}`)).rejects.toBeInstanceOf(H2SchedError);
  });
});

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

async function waitForPort(port: number, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); r(true); });
      s.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('h2sched client against nghttpd', () => {
  let proc: ChildProcess | undefined;
  let port = 0;
  const dir = mkdtempSync(path.join(tmpdir(), 'h2sched-nghttpd-'));
  const files = new Map([['small.txt', Buffer.from('small file\n')], ['big.bin', randomBytes(3 << 20)], ['mid.bin', randomBytes(200_000)]]);
  beforeAll(async () => {
    if (!has('nghttpd')) return;
    for (const [n, b] of files) writeFileSync(path.join(dir, n), b);
    port = await freePort();
    proc = spawn('nghttpd', ['--no-tls', '-d', dir, '--echo-upload', String(port)], { stdio: 'ignore' });
    await waitForPort(port);
  });
  afterAll(() => {
    proc?.kill();
  });

  itWith(['nghttpd'], 'downloads files of several sizes concurrently with mixed priorities, byte-exact', async () => {
    const client = await connect(`http://127.0.0.1:${port}`, { connection: { localSettings: { initialWindowSize: 65535 } } });
    try {
      const names = [...files.keys()];
      const bodies = await Promise.all(names.flatMap((n, i) => [1, 2, 3].map(async (k) => {
        const r = await client.request({ path: `/${n}`, priority: { scheme: 'rfc7540', dependsOn: 0, weight: 16 * k + i, exclusive: false } });
        expect(r.status).toBe(200);
        return [n, await r.bytes()] as const;
      })));
      for (const [n, b] of bodies) expect(b.equals(files.get(n)!)).toBe(true);
      const missing = await client.request({ path: '/nope' });
      expect(missing.status).toBe(404);
      await missing.bytes();
    } finally {
      await client.close();
    }
  });

  itWith(['nghttpd'], 'uploads 1 MiB to nghttpd --echo-upload and gets it back', async () => {
    const client = await connect(`http://127.0.0.1:${port}`);
    try {
      const r = await client.request({ method: 'POST', path: '/small.txt', body: payload, headers: [['content-length', String(payload.length)]] });
      expect(r.status).toBe(200);
      expect((await r.bytes()).equals(payload)).toBe(true);
    } finally {
      await client.close();
    }
  });
});
