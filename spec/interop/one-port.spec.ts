// One port for every client (issue 14, parts 1 and 2), against the built CLI started as `npm start`
// starts it (`node dist/node/cli.js serve`, here with --port 0): TLS by default with the development
// certificate (kept in a temporary XDG_CACHE_HOME), and on the same port h2c with prior knowledge,
// HTTP/1.1 `Upgrade: h2c`, and a 308 to https:// for any other HTTP/1.1 request. curl, nghttp and
// h2load use the one printed port; the certificate is reused on the next start. Then --no-tls, and
// the library's redirect rules and `cleartext: 'redirect'` in process.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { ErrorCode } from '../../lib/constants.js';
import { connect } from '../../lib/node/client.js';
import { demoSite } from '../../lib/node/demo.js';
import { localCertificate } from '../../lib/node/devcert.js';
import { type Child, child, deadline, goawayOf, itWith, rawPeer, startServer, testCacheHome } from './helpers.js';

const run = promisify(execFile);
const CLI = path.resolve('dist/node/cli.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/node/cli.js is missing: run `npm run build` (npm test does it)');
});

/** The text lines the CLI printed so far. */
const lines = (c: Child) => c.output().trimEnd().split('\n');

/** Waits until the CLI printed at least `n` lines (the URL comes alone; the lines after it follow). */
async function printed(c: Child, n: number): Promise<string[]> {
  for (let i = 0; i < 250 && lines(c).length < n; i++) await sleep(20);
  return lines(c);
}

/** SIGTERM, and the exit status. */
async function stop(c: Child): Promise<number | null> {
  c.proc.kill('SIGTERM');
  return c.exited;
}

/** Writes an HTTP/1.1 request on a raw socket and resolves with the whole answer (the server closes). */
function http1(port: number, request: string, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host, () => s.write(request));
    let out = '';
    s.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

/** The SHA-256 fingerprint of the certificate a TLS handshake on `port` presents. */
function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', ALPNProtocols: ['h2'], rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.destroy();
    });
    s.on('error', reject);
  });
}

describe('one port for every client: `h2sched serve` as npm start runs it', () => {
  let s: Child;
  let port: number;
  const certFile = () => path.join(testCacheHome(), 'h2sched', 'localhost-cert.pem');
  const appJs = demoSite().get('/js/app.js')!.body.length;

  beforeAll(async () => {
    s = await child(CLI, ['serve', '--port', '0']);
    port = s.port;
  });
  afterAll(async () => {
    expect(await stop(s)).toBe(0);
  });

  it('prints the https:// URL with the chosen port first, then what it serves and its certificate', async () => {
    expect(s.printed).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    expect(port).toBeGreaterThan(0);
    const [, serving, cert] = await printed(s, 3);
    expect(serving).toBe('serving the demo site over HTTP/2 (TLS with ALPN h2; h2c and HTTP/1.1 on the same port), scheduler tree');
    expect(cert).toMatch(new RegExp(`^certificate ${certFile().replace(/[.]/g, '\\.')} \\((made now: missing|reused); self-signed for localhost, 127\\.0\\.0\\.1, ::1; valid until \\d{4}-\\d\\d-\\d\\d; SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}\\)$`));
  });

  it('serves TLS with a certificate valid for 127.0.0.1 and localhost (our client trusts the cached file)', async () => {
    for (const host of ['127.0.0.1', 'localhost']) {
      const c = await connect(`https://${host}:${port}`, { tls: { ca: readFileSync(certFile()) } });
      const r = await c.request({ path: '/js/app.js' });
      expect([host, r.status, (await r.bytes()).length]).toEqual([host, 200, appJs]);
      await c.close();
    }
  });

  itWith(['curl'], 'curl: --http2 over TLS (-k and --cacert), --http2-prior-knowledge, and --http2 as HTTP/1.1 Upgrade: h2c, all on the one port', async () => {
    const w = ['-sS', '-o', '/dev/null', '-w', '%{http_version} %{http_code} %{size_download}'];
    expect((await run('curl', [...w, '--http2', '-k', `https://127.0.0.1:${port}/js/app.js`])).stdout).toBe(`2 200 ${appJs}`);
    expect((await run('curl', [...w, '--http2', '--cacert', certFile(), `https://localhost:${port}/js/app.js`])).stdout).toBe(`2 200 ${appJs}`);
    expect((await run('curl', [...w, '--http2-prior-knowledge', `http://127.0.0.1:${port}/js/app.js`])).stdout).toBe(`2 200 ${appJs}`);
    const up = await run('curl', [...w, '-v', '--http2', `http://127.0.0.1:${port}/js/app.js`]);
    expect(up.stdout).toBe(`2 200 ${appJs}`);
    expect(up.stderr).toMatch(/< HTTP\/1\.1 101 Switching Protocols/);
  });

  itWith(['curl'], 'curl: plain HTTP/1.1 gets 308 to https:// on the same port and path (never cached), and -L lands on the page over h2', async () => {
    const head = await run('curl', ['-sS', '--http1.1', '-D', '-', '-o', '/dev/null', `http://127.0.0.1:${port}/css/site.css?v=2`]);
    expect(head.stdout).toMatch(/^HTTP\/1\.1 308 Permanent Redirect\r\n/);
    expect(head.stdout).toContain(`location: https://127.0.0.1:${port}/css/site.css?v=2\r\n`);
    expect(head.stdout).toContain('cache-control: no-store\r\n');
    // the host and port the client asked for (behind a port mapping the port it used is not ours)
    const named = await run('curl', ['-sS', '--http1.1', '-D', '-', '-o', '/dev/null', '-H', 'Host: localhost:9999', `http://127.0.0.1:${port}/`]);
    expect(named.stdout).toContain('location: https://localhost:9999/\r\n');
    const followed = await run('curl', ['-sSL', '-k', '-o', '/dev/null', '-w', '%{http_version} %{http_code} %{url_effective}', `http://127.0.0.1:${port}/`]);
    expect(followed.stdout).toBe(`2 200 https://127.0.0.1:${port}/`);
  });

  itWith(['nghttp'], 'nghttp: the page with its assets over TLS, over h2c with prior knowledge and over Upgrade: h2c', async () => {
    // the page, its CSS, its scripts and its images (nghttp -a follows the HTML, not the CSS's fonts)
    const assets = 4 + [...demoSite().keys()].filter((p) => p.startsWith('/img/')).length;
    for (const args of [[`https://127.0.0.1:${port}/`], [`http://127.0.0.1:${port}/`], ['-u', `http://127.0.0.1:${port}/`]]) {
      const { stdout } = await run('nghttp', ['-nas', ...args]);
      const ok = stdout.split('\n').filter((l) => /^\s*\d+\s+\+\S+\s+\+\S+\s+\S+\s+200\s/.test(l)).length;
      expect([args.join(' '), ok]).toEqual([args.join(' '), assets]);
    }
  });

  itWith(['h2load'], 'h2load: 2,000 requests over TLS (h2) and 2,000 over h2c on the same port, zero failures', async () => {
    for (const [url, proto] of [[`https://127.0.0.1:${port}/css/site.css`, 'h2'], [`http://127.0.0.1:${port}/css/site.css`, 'h2c']] as const) {
      const { stdout } = await run('h2load', ['-n', '2000', '-c', '4', '-m', '10', url], { maxBuffer: 1 << 20 });
      expect(stdout).toContain(`Application protocol: ${proto}\n`);
      expect(stdout).toMatch(/requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed/);
    }
  }, 60000);

  it('TLS without h2: a client offering only http/1.1 gets the 505 hint over TLS; one offering neither gets the no_application_protocol alert', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const t = tls.connect({ port, host: '127.0.0.1', ALPNProtocols: ['http/1.1'], rejectUnauthorized: false }, () => t.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      let out = '';
      t.on('data', (d: Buffer) => { out += d.toString(); });
      t.on('close', () => resolve(out));
      t.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 505 HTTP Version Not Supported\r\n[\s\S]*HTTP\/2 only/);
    const refused = await new Promise<Error>((resolve) => {
      const t = tls.connect({ port, host: '127.0.0.1', ALPNProtocols: ['spdy/3.1'], rejectUnauthorized: false }, () => resolve(new Error('handshake completed')));
      t.on('error', resolve);
    });
    expect(refused.message).toMatch(/no application protocol/);
  });

  it('every socket of these clients was released (IPC stats)', async () => {
    const st = await s.settled(3000, 0);
    expect(st).toMatchObject({ connections: 0, sessions: 0, exchanges: 0, engineStreams: 0 });
  });
});

describe('--no-tls', () => {
  it('prints http://, answers HTTP/1.1 with the 505 hint, treats a TLS ClientHello as an invalid preface, and makes no certificate', async () => {
    const cache = mkdtempSync(path.join(tmpdir(), 'h2sched-cache-'));
    const s = await child(CLI, ['serve', '--port', '0', '--no-tls'], { XDG_CACHE_HOME: cache });
    try {
      expect(s.printed).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect((await printed(s, 2))[1]).toBe('serving the demo site over HTTP/2 (cleartext h2c, no TLS), scheduler tree');
      expect(await http1(s.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 505 HTTP Version Not Supported\r\n[\s\S]*curl --http2-prior-knowledge/);
      const p = await rawPeer(s.port);
      p.socket.write(Buffer.from('160301020001000200', 'hex')); // the start of a ClientHello
      await Promise.race([p.closed, deadline(3000)]);
      expect(goawayOf(p.received)?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
      const c = await connect(s.url);
      expect((await c.request({ path: '/' })).status).toBe(200);
      await c.close();
      expect(existsSync(path.join(cache, 'h2sched'))).toBe(false);
    } finally {
      expect(await stop(s)).toBe(0);
    }
  });
});

describe('the development certificate across starts', () => {
  it('is made on the first start, reused on the next (same fingerprint, the one presented), and made anew when its file is corrupt', async () => {
    const cache = mkdtempSync(path.join(tmpdir(), 'h2sched-cache-'));
    const fingerprint = (c: Child) => /SHA-256 (\S+)\)$/.exec(lines(c)[2]!)?.[1];
    const first = await child(CLI, ['serve', '--port', '0'], { XDG_CACHE_HOME: cache });
    await printed(first, 3);
    const fp = fingerprint(first);
    try {
      expect(lines(first)[2]).toContain('(made now: missing;');
      expect(await presented(first.port)).toBe(fp);
    } finally {
      expect(await stop(first)).toBe(0);
    }
    const second = await child(CLI, ['serve', '--port', '0'], { XDG_CACHE_HOME: cache });
    await printed(second, 3);
    try {
      expect(lines(second)[2]).toContain('(reused;');
      expect(fingerprint(second)).toBe(fp);
      expect(await presented(second.port)).toBe(fp);
    } finally {
      expect(await stop(second)).toBe(0);
    }
    writeFileSync(path.join(cache, 'h2sched', 'localhost-cert.pem'), 'garbage\n');
    const third = await child(CLI, ['serve', '--port', '0'], { XDG_CACHE_HOME: cache });
    await printed(third, 3);
    try {
      expect(lines(third)[2]).toContain('(made now: invalid;');
      expect(fingerprint(third)).not.toBe(fp);
      expect(await presented(third.port)).toBe(fingerprint(third));
    } finally {
      expect(await stop(third)).toBe(0);
    }
  }, 30000);
});

describe('createH2Server on one port (in process)', () => {
  let material: { cert: string; key: string; ca: string };
  beforeAll(async () => {
    const c = await localCertificate({ dir: path.join(mkdtempSync(path.join(tmpdir(), 'h2sched-cache-')), 'h2sched') });
    material = { cert: c.cert, key: c.key, ca: c.cert };
  });

  it('the 308 keeps the host and port asked for (a name, an IPv6 literal; our port when Host has none), takes host and path of an absolute-form target, and falls back to the address reached', async () => {
    const s = await startServer({ tls: { cert: material.cert, key: material.key } });
    try {
      const location = async (req: string) => /\r\nlocation: (\S+)\r\n/.exec(await http1(s.port, req))?.[1];
      expect(await location('GET /a/b?c=d HTTP/1.1\r\nHost: example.test:1234\r\n\r\n')).toBe('https://example.test:1234/a/b?c=d');
      expect(await location('GET /a HTTP/1.1\r\nHost: example.test\r\n\r\n')).toBe(`https://example.test:${s.port}/a`);
      expect(await location('GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n')).toBe('https://[::1]:80/');
      expect(await location('GET http://proxy.test/x?y HTTP/1.1\r\nHost: h.test\r\n\r\n')).toBe(`https://proxy.test:${s.port}/x?y`);
      expect(await location('GET /no-host HTTP/1.0\r\n\r\n')).toBe(`https://127.0.0.1:${s.port}/no-host`);
      // octets outside visible ASCII are percent-encoded as they came (here UTF-8)
      expect(await location('GET /caf\xe9 HTTP/1.1\r\nHost: h.test\r\n\r\n')).toBe(`https://h.test:${s.port}/caf%C3%A9`);
      expect(s.h2.stats().connections).toBeLessThanOrEqual(6);
    } finally {
      await s.h2.close();
    }
  });

  it("cleartext: 'redirect' serves HTTP/2 over TLS only: the preface gets GOAWAY, an Upgrade: h2c gets the 308", async () => {
    const s = await startServer({ tls: { cert: material.cert, key: material.key }, cleartext: 'redirect' });
    try {
      const p = await rawPeer(s.port);
      p.socket.write(Buffer.concat([p.f.preface(), p.f.settings().encode()]));
      await Promise.race([p.closed, deadline(3000)]);
      const g = goawayOf(p.received);
      expect(g?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
      expect(Buffer.from(g!.debugData).toString()).toBe('this port speaks HTTP/2 over TLS only');
      const up = await http1(s.port, 'GET /x HTTP/1.1\r\nHost: h.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n');
      expect(up).toMatch(new RegExp(`^HTTP/1\\.1 308 Permanent Redirect\\r\\nlocation: https://h\\.test:${s.port}/x\\r\\n`));
      const c = await connect(`https://localhost:${s.port}`, { tls: { ca: material.ca } });
      expect((await c.request({ path: '/' })).status).toBe(200);
      await c.close();
    } finally {
      await s.h2.close();
    }
  });

  it('a TLS handshake that never completes is closed at the handshake deadline counted from accept, and close() does not wait for it', async () => {
    const s = await startServer({ tls: { cert: material.cert, key: material.key }, handshakeTimeout: 300 });
    try {
      const sock = net.connect(s.port, '127.0.0.1');
      sock.on('error', () => undefined);
      await new Promise<void>((r) => sock.once('connect', () => r()));
      const t0 = Date.now();
      sock.write(Buffer.from('1603010200010001fc0303', 'hex')); // half a ClientHello, then silence
      const closedAfter = await Promise.race([new Promise<number>((r) => sock.on('close', () => r(Date.now() - t0))), deadline(3000).then(() => Infinity)]);
      expect(closedAfter).toBeGreaterThanOrEqual(200);
      expect(closedAfter).toBeLessThan(1500);
      const again = net.connect(s.port, '127.0.0.1');
      again.on('error', () => undefined);
      await new Promise<void>((r) => again.once('connect', () => r()));
      again.write(Buffer.from('160301', 'hex'));
      await sleep(50);
      const t1 = Date.now();
      await s.h2.close();
      expect(Date.now() - t1).toBeLessThan(200);
    } finally {
      await s.h2.close();
    }
  });
});
