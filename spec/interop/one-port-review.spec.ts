// Findings of the hostile review of issue 14 on the one port (lib/node/server.ts), each on real
// sockets: the connection cap counted in the server's own 'connection' handler, TLS errors after
// the handshake (renegotiation, a corrupt record), the HTTP/1.1 rules of the 308 and of
// `Upgrade: h2c`, and the 308's port. The CLI-level findings (--workers, the certificate cache)
// are in workers.spec.ts, spec/node/devcert-review.spec.ts and at the end of this file.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { CLIENT_PREFACE, ErrorCode, FrameType } from '../../lib/constants.js';
import { FrameDecoder } from '../../lib/frame/decoder.js';
import type { Frame } from '../../lib/frame/types.js';
import { connect } from '../../lib/node/client.js';
import { localCertificate } from '../../lib/node/devcert.js';
import type { Handler } from '../../lib/node/session.js';
import { frameFactory } from '../helpers/frames.js';
import { deadline, goawayOf, startServer } from './helpers.js';

const CLI = path.resolve('dist/node/cli.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let material: { cert: string; key: string };
beforeAll(async () => {
  const c = await localCertificate({ dir: path.join(mkdtempSync(path.join(tmpdir(), 'h2sched-cache-')), 'h2sched') });
  material = { cert: c.cert, key: c.key };
});

/**
 * Writes `request` on a raw socket and resolves with everything the server sent before it closed,
 * or once `done` holds for it, or after `ms`.
 */
function exchange(port: number, request: string, ms = 3000, done?: (out: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(request, 'latin1'));
    let out = '';
    const t = setTimeout(() => s.destroy(), ms);
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (done?.(out)) s.destroy();
    });
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
    s.on('error', () => undefined);
  });
}

const statusOf = (answer: string) => /^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1];
const locationOf = (answer: string) => /\r\nlocation: (\S+)\r\n/.exec(answer)?.[1];

/** A TLS client speaking HTTP/2 (ALPN h2): sends the preface and SETTINGS, collects the server's frames. */
async function tlsPeer(port: number, options: tls.ConnectionOptions = {}) {
  const socket = tls.connect({ port, host: '127.0.0.1', ALPNProtocols: ['h2'], rejectUnauthorized: false, ...options });
  socket.on('error', () => undefined);
  await new Promise<void>((r, j) => {
    socket.once('secureConnect', () => r());
    socket.once('error', j);
  });
  const decoder = new FrameDecoder({ expectPreface: false });
  const received: Frame[] = [];
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  socket.on('data', (chunk: Buffer) => {
    decoder.push(chunk);
    for (let f = decoder.next(); f !== null; f = decoder.next()) received.push(f);
  });
  socket.write(Buffer.concat([Buffer.from(CLIENT_PREFACE), frameFactory().settings().encode()]));
  const end = Date.now() + 3000;
  while (!received.some((f) => f.type === FrameType.SETTINGS)) {
    if (Date.now() > end) throw new Error('no SETTINGS from the server');
    await sleep(10);
  }
  return { socket, received, closed };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not in time: ${what}`);
    await sleep(10);
  }
}

describe('found by the review (issue 14): maxConnections', () => {
  it('found by the review (issue 14): the cap is counted in the server\'s connection handler (never net.Server.maxConnections), handshaking and sniffing sockets included; refused ones close at once and are counted', async () => {
    const refusedTotals: number[] = [];
    const s = await startServer({ tls: material, maxConnections: 2, onRefused: (n) => refusedTotals.push(n) });
    try {
      expect(s.h2.server.maxConnections ?? Infinity).toBe(Infinity); // a cluster worker would bounce handles
      // one socket in its TLS handshake (half a ClientHello), one still being sniffed
      const held = [net.connect(s.port, '127.0.0.1'), net.connect(s.port, '127.0.0.1')];
      for (const h of held) h.on('error', () => undefined);
      await Promise.all(held.map((h) => new Promise((r) => h.once('connect', r))));
      held[0]!.write(Buffer.from('1603010200010001fc0303', 'hex'));
      await until(() => s.h2.stats().connections === 2, 'both counted');
      const over = [0, 1, 2].map(() => net.connect(s.port, '127.0.0.1'));
      const closedAfter = await Promise.all(over.map((o) => {
        const t0 = Date.now();
        o.on('error', () => undefined);
        return Promise.race([new Promise<number>((r) => o.on('close', () => r(Date.now() - t0))), deadline(3000).then(() => Infinity)]);
      }));
      for (const ms of closedAfter) expect(ms).toBeLessThan(1000);
      expect(s.h2.stats()).toMatchObject({ connections: 2, refused: 3 });
      expect(refusedTotals).toEqual([1, 2, 3]);
      for (const h of held) h.destroy();
      await until(() => s.h2.stats().connections === 0, 'the held sockets released');
      const c = await connect(`http://127.0.0.1:${s.port}`);
      expect((await c.request({ path: '/' })).status).toBe(200);
      await c.close();
    } finally {
      await s.h2.close();
    }
  });
});

describe('found by the review (issue 14): TLS errors after the handshake', () => {
  it('found by the review (issue 14): a TLS 1.2 renegotiation is a connection error: GOAWAY PROTOCOL_ERROR, then the socket closes (RFC 9113 §9.2.1); the next client is served', async () => {
    const s = await startServer({ tls: material });
    try {
      const p = await tlsPeer(s.port, { maxVersion: 'TLSv1.2' });
      expect(p.socket.getProtocol()).toBe('TLSv1.2');
      const renegotiated = new Promise<string>((r) => {
        if (!p.socket.renegotiate({ rejectUnauthorized: false }, (e) => r(e ? 'failed' : 'ok'))) r('not started');
        void p.closed.then(() => r('closed'));
      });
      await Promise.race([p.closed, deadline(3000)]);
      expect(await renegotiated).not.toBe('ok');
      const g = goawayOf(p.received);
      expect(g?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
      expect(Buffer.from(g!.debugData).toString()).toMatch(/renegotiation/);
      await until(() => s.h2.stats().connections === 0 && s.h2.stats().sessions === 0, 'the connection released');
      const again = await tlsPeer(s.port);
      expect(goawayOf(again.received)).toBeUndefined();
      again.socket.destroy();
    } finally {
      await s.h2.close();
    }
  });

  it('found by the review (issue 14): 20 renegotiations on 20 connections cost 20 connections, not one renegotiation each more', async () => {
    const s = await startServer({ tls: material });
    try {
      const results = await Promise.all(Array.from({ length: 20 }, async () => {
        const p = await tlsPeer(s.port, { maxVersion: 'TLSv1.2' });
        let completed = 0;
        for (let i = 0; i < 5 && !p.socket.destroyed; i++) {
          const ok = await Promise.race([
            new Promise<boolean>((r) => { if (!p.socket.renegotiate({ rejectUnauthorized: false }, (e) => r(!e))) r(false); }),
            p.closed.then(() => false),
            deadline(2000).then(() => false),
          ]);
          if (!ok) break;
          completed++;
        }
        await Promise.race([p.closed, deadline(3000)]);
        return { completed, goaway: goawayOf(p.received)?.errorCode, closed: p.socket.destroyed || p.socket.closed };
      }));
      for (const r of results) expect(r).toEqual({ completed: 0, goaway: ErrorCode.PROTOCOL_ERROR, closed: true });
      await until(() => s.h2.stats().connections === 0, 'all released');
    } finally {
      await s.h2.close();
    }
  });

  it('found by the review (issue 14): a corrupt TLS record after the handshake closes the connection at once (TLS 1.3 and 1.2), not at the idle timeout', async () => {
    const s = await startServer({ tls: material, idleTimeout: 0 });
    try {
      for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
        const raw = net.connect(s.port, '127.0.0.1');
        raw.on('error', () => undefined);
        await new Promise((r) => raw.once('connect', r));
        const p = await tlsPeer(s.port, { socket: raw, maxVersion });
        const t0 = Date.now();
        const closedAfter = new Promise<number>((r) => raw.on('close', () => r(Date.now() - t0)));
        raw.write(Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, 0x40]), Buffer.alloc(64, 0xaa)])); // beneath TLS
        const ms = await Promise.race([closedAfter, deadline(3000).then(() => Infinity)]);
        expect([maxVersion, ms < 1000]).toEqual([maxVersion, true]);
        p.socket.destroy();
      }
      await until(() => s.h2.stats().connections === 0 && s.h2.stats().sessions === 0, 'released');
    } finally {
      await s.h2.close();
    }
  });
});

describe('found by the review (issue 14): the 308 and HTTP/1.1 rules', () => {
  let s: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    s = await startServer({ tls: material });
  });
  afterAll(async () => {
    await s.h2.close();
  });

  it('found by the review (issue 14): only a path or an http(s) URL is redirected; any other request target gets 400, never a Location on another host', async () => {
    for (const target of ['x:@evil.example/p', 'a:@evil.example', 'javascript:alert(1)', 'ftp://evil.example/x', 'http://user@evil.example/x', 'http://evil.example:1@x/', 'http:///x', 'evil.example:443', '*', '/a#frag']) {
      const answer = await exchange(s.port, `GET ${target} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      expect([target, statusOf(answer), locationOf(answer)]).toEqual([target, '400', undefined]);
    }
    expect(statusOf(await exchange(s.port, 'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n'))).toBe('400');
    expect(statusOf(await exchange(s.port, 'OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n'))).toBe('400');
    // every Location is https://, on the host the request named, with a path
    const cases: Array<[string, string, string]> = [
      ['/p?q=1', 'localhost', `https://localhost:${s.port}/p?q=1`],
      ['//evil.example/x', 'localhost', `https://localhost:${s.port}//evil.example/x`],
      ['/\\evil.example', 'localhost', `https://localhost:${s.port}/\\evil.example`],
      ['HTTP://h.test:8443', 'other.test', 'https://h.test:8443/'],
      ['https://h.test?x=1', 'other.test', `https://h.test:${s.port}/?x=1`],
    ];
    for (const [target, host, expected] of cases) {
      const location = locationOf(await exchange(s.port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`));
      expect([target, location]).toEqual([target, expected]);
      const u = new URL(location!);
      expect([target, u.protocol, u.username, u.password]).toEqual([target, 'https:', '', '']);
    }
  });

  it('found by the review (issue 14): HTTP/1.1 without Host, with two Host fields, with an invalid Host, or with a malformed field line gets 400 (RFC 9112 §3.2, §5)', async () => {
    const bad = [
      'GET / HTTP/1.1\r\n\r\n',
      'GET http://h.test/ HTTP/1.1\r\n\r\n', // absolute-form still needs Host
      'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: user@evil.example\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a b"c\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: \r\n\r\n',
      'GET / HTTP/1.1\r\nHost: h.test:99999\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: [not:an:ipv6]\r\n\r\n',
      `GET / HTTP/1.1\r\nHost: ${'a'.repeat(300)}\r\n\r\n`,
      'GET / HTTP/1.1\r\nHost: a\rX-I: 1\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\nLocation: x\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nX-Folded: 1\r\n 2\r\n\r\n',
      'GET / HTTP/1.1\r\nHost : a\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n',
      'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n',
      'GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n',
    ];
    for (const req of bad) {
      const answer = await exchange(s.port, req);
      expect([req, statusOf(answer), locationOf(answer)]).toEqual([req, '400', undefined]);
      expect(answer).toMatch(/\r\nconnection: close\r\n/);
    }
    // HTTP/1.0 needs no Host: the address reached
    expect(locationOf(await exchange(s.port, 'GET /x HTTP/1.0\r\n\r\n'))).toBe(`https://127.0.0.1:${s.port}/x`);
    expect(locationOf(await exchange(s.port, 'POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5, 5\r\n\r\nhello'))).toBe(`https://localhost:${s.port}/x`);
    await until(() => s.h2.stats().connections === 0, 'every socket released');
  });

  it('found by the review (issue 14): the 308 keeps the port of Host (what the client used, e.g. behind -p 8443:8080), else our port', async () => {
    expect(locationOf(await exchange(s.port, 'GET /a HTTP/1.1\r\nHost: localhost:8443\r\n\r\n'))).toBe('https://localhost:8443/a');
    expect(locationOf(await exchange(s.port, 'GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n'))).toBe(`https://localhost:${s.port}/a`);
    expect(locationOf(await exchange(s.port, 'GET /a HTTP/1.1\r\nHost: localhost:\r\n\r\n'))).toBe(`https://localhost:${s.port}/a`);
    expect(locationOf(await exchange(s.port, 'GET /a HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n'))).toBe('https://[::1]:8443/a');
  });
});

describe('found by the review (issue 14): Upgrade: h2c only as RFC 9110 §7.8 and RFC 7540 §3.2 allow', () => {
  const SETTINGS = 'AAMAAABkAAQAAP__';
  // answers with the authority and path it was asked for
  const handler: Handler = (req, res) => {
    res.respond(200, [['content-type', 'text/plain']]);
    res.end(`asked for ${req.authority} ${req.path}`);
  };
  const up = (head: string, extra = `Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: ${SETTINGS}\r\n`) => `${head}\r\n${extra}\r\n`;

  it('found by the review (issue 14): ignored in HTTP/1.0 and without Connection: Upgrade, HTTP2-Settings; two HTTP2-Settings or a bad Content-Length get 400; an absolute-form target gives :authority and :path', async () => {
    const clear = await startServer({ handler });
    const secure = await startServer({ handler, tls: material });
    try {
      const preface = Buffer.concat([Buffer.from(CLIENT_PREFACE), frameFactory().settings().encode()]).toString('latin1');
      const cases: Array<[string, string, string]> = [
        // [request, answer without TLS, answer with TLS]
        [up('GET /x HTTP/1.0\r\nHost: localhost'), '505', '308'],
        [up('GET /x HTTP/1.1\r\nHost: localhost', `Upgrade: h2c\r\nHTTP2-Settings: ${SETTINGS}\r\n`), '505', '308'],
        [up('GET /x HTTP/1.1\r\nHost: localhost', `Connection: Upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: ${SETTINGS}\r\n`), '505', '308'],
        [up('GET /x HTTP/1.1\r\nHost: localhost', `Connection: HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: ${SETTINGS}\r\n`), '505', '308'],
        [up('GET /x HTTP/1.1\r\nHost: localhost', 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n'), '505', '308'],
        [up('GET /x HTTP/1.1\r\nHost: localhost', `Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: ${SETTINGS}\r\nHTTP2-Settings: ${SETTINGS}\r\n`), '400', '400'],
        [up('GET /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc'), '400', '400'],
        [up('GET /x HTTP/1.1'), '400', '400'], // no Host
        [up('CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443'), '400', '400'],
      ];
      for (const [req, withoutTls, withTls] of cases) {
        expect([req, statusOf(await exchange(clear.port, req + preface, 1500))]).toEqual([req, withoutTls]);
        expect([req, statusOf(await exchange(secure.port, req + preface, 1500))]).toEqual([req, withTls]);
      }
      // upgraded: the request as HTTP/2 stream 1, with :authority from the absolute-form target (§3.2.2)
      for (const [req, asked] of [
        [up('GET /p?q HTTP/1.1\r\nHost: h.test:81'), 'asked for h.test:81 /p?q'],
        [up('GET http://a.test:82/x?y HTTP/1.1\r\nHost: other.test'), 'asked for a.test:82 /x?y'],
        [up('GET /two HTTP/1.1\r\nHost: h.test', `Connection: keep-alive\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: websocket, h2c\r\nHTTP2-Settings: ${SETTINGS}\r\n`), 'asked for h.test /two'],
      ] as const) {
        for (const port of [clear.port, secure.port]) {
          const answer = await exchange(port, req + preface, 3000, (out) => out.includes(asked));
          expect([req, statusOf(answer)]).toEqual([req, '101']);
          expect(answer).toContain(asked);
        }
      }
    } finally {
      await clear.h2.close();
      await secure.h2.close();
    }
  });
});

describe('found by the review (issue 14): the certificate lock of `h2sched serve`', () => {
  /** Starts the CLI with its own cache; resolves with its output so far and the process. */
  function start(cache: string) {
    const p = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--log', 'none'], { env: { ...process.env, XDG_CACHE_HOME: cache }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    return { p, out: () => out, err: () => err, exited };
  }

  it('found by the review (issue 14): Ctrl-C while the first start makes the certificate leaves no lock behind (exit 0)', async () => {
    let caught = 0;
    for (let attempt = 0; attempt < 4 && caught === 0; attempt++) {
      const cache = mkdtempSync(path.join(tmpdir(), 'h2sched-cache-'));
      const lockFile = path.join(cache, 'h2sched', 'localhost.lock');
      const c = start(cache);
      // SIGINT as soon as the lock is there (the certificate is being made)
      let exitCode: number | null | undefined;
      void c.exited.then((code) => { exitCode = code; });
      while (exitCode === undefined && !existsSync(lockFile) && c.out() === '') await sleep(2);
      if (!existsSync(lockFile)) {
        c.p.kill('SIGKILL');
        await c.exited;
        continue; // made too fast to catch this time
      }
      caught++;
      c.p.kill('SIGINT');
      expect(await c.exited).toBe(0);
      expect(existsSync(lockFile)).toBe(false);
      expect(c.out()).toBe(''); // stopped before it served: no URL
    }
    expect(caught).toBe(1);
  }, 30000);

  it('found by the review (issue 14): a lock left by a process that is gone is taken over at once; a live holder is waited for, said once on stderr', async () => {
    const cache = mkdtempSync(path.join(tmpdir(), 'h2sched-cache-'));
    const lockFile = path.join(cache, 'h2sched', 'localhost.lock');
    // a dead process's lock (Ctrl-C with SIGKILL): its pid is no process any more
    const dead = spawn(process.execPath, ['-e', '']);
    const deadPid = dead.pid!;
    await new Promise((r) => dead.on('exit', r));
    mkdirSync(path.dirname(lockFile), { recursive: true, mode: 0o700 });
    writeFileSync(lockFile, String(deadPid));
    const t0 = Date.now();
    const first = start(cache);
    await until(() => first.out().includes('\n'), 'the URL', 15000);
    expect(Date.now() - t0).toBeLessThan(10000); // not the 30 s of a lock judged by age
    expect(first.err()).toBe('');
    first.p.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // a live holder (this test process): waited for, said once
    writeFileSync(path.join(cache, 'h2sched', 'localhost-cert.pem'), 'garbage\n'); // so that a new one must be made
    writeFileSync(lockFile, String(process.pid));
    const second = start(cache);
    await until(() => second.err() !== '', 'the waiting line', 15000);
    await sleep(300);
    expect(second.err()).toBe(`h2sched: waiting for process ${process.pid}, which is making the development certificate (${lockFile})\n`);
    expect(second.out()).toBe('');
    unlinkSync(lockFile);
    await until(() => second.out().includes('\n'), 'the URL after the lock was released', 15000);
    second.p.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 40000);
});
