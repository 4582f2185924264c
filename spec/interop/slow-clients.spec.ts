// Slow and stalling clients against the built `h2sched serve` in a child process, with short
// deadlines: every phase that can stall gives up in time with the right answer (close, GOAWAY,
// or RST_STREAM for that stream), a well-behaved client on another connection is unaffected,
// silent connections release their fds, --max-connections refuses and recovers, and legitimate
// slow clients (a trickled download that keeps its window open, a slow upload) are never cut.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode, FrameType } from '../../lib/constants.js';
import { connect } from '../../lib/node/client.js';
import { type Child, child, dataOf, deadline, goawayOf, h2cPeer, itWith, rawPeer, resetsOf } from './helpers.js';

const CLI = path.resolve('dist/node/cli.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let site: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/node/cli.js is missing: run `npm run build` (npm test does it)');
  site = mkdtempSync(path.join(tmpdir(), 'h2sched-slow-'));
  writeFileSync(path.join(site, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(path.join(site, 'big.bin'), randomBytes(5 << 20));
});

/** The CLI with every deadline short (ms). */
function serve(extra: string[] = [], ms = 200): Promise<Child> {
  return child(CLI, ['serve', site, '--port', '0', '--handshake-timeout', String(ms), '--header-timeout', String(ms),
    '--body-timeout', String(ms), '--send-timeout', String(ms + 100), ...extra]);
}

/** A raw socket: when did it close after `t0`? */
async function closedAfter(p: Awaited<ReturnType<typeof rawPeer>>, t0: number, ms = 3000): Promise<number> {
  await Promise.race([p.closed, deadline(ms)]);
  return p.closedAt === 0 ? Infinity : p.closedAt - t0;
}


/** A client on another connection that keeps fetching while the test runs; resolves with its count. */
function bystander(url: string): { stop: () => Promise<number> } {
  let running = true;
  let ok = 0;
  const done = (async () => {
    const c = await connect(url);
    try {
      while (running) {
        const r = await c.request({ path: '/index.html' });
        if (r.status === 200 && (await r.text()).startsWith('<!doctype')) ok++;
        await sleep(20);
      }
    } finally {
      c.destroy();
    }
    return ok;
  })();
  return { stop: async () => { running = false; return done; } };
}

describe('slow clients (issue 15): each stalled phase gives up in time', () => {
  let s: Child;
  beforeAll(async () => { s = await serve(); });
  afterAll(async () => { await s.stop(); });

  it('a connection that sends nothing is closed after the handshake deadline', async () => {
    const p = await rawPeer(s.port);
    const took = await closedAfter(p, Date.now());
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(1500);
  });

  it('half a preface (`PRI * HTTP/2.0\\r\\n`) is closed after the handshake deadline', async () => {
    const p = await rawPeer(s.port);
    const t0 = Date.now();
    p.socket.write('PRI * HTTP/2.0\r\n');
    const took = await closedAfter(p, t0);
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(1500);
  });

  it('a preface without SETTINGS is closed after the handshake deadline', async () => {
    const p = await rawPeer(s.port);
    const t0 = Date.now();
    p.socket.write(p.f.preface()); // and no SETTINGS
    const took = await closedAfter(p, t0);
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(1500);
  });

  it('half an HTTP/1.1 request head is closed after the handshake deadline', async () => {
    const p = await rawPeer(s.port);
    const t0 = Date.now();
    p.socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const took = await closedAfter(p, t0);
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(1500);
  });

  it('a header block that never ends (HEADERS without END_HEADERS) gets GOAWAY PROTOCOL_ERROR after the header deadline', async () => {
    const p = await h2cPeer(s.port);
    const open = Uint8Array.from(p.f.headers(1).request('GET', '/index.html').eos().encode());
    open[4] = open[4]! & ~0x4; // no END_HEADERS: a CONTINUATION must follow, and never does
    const t0 = Date.now();
    p.socket.write(open);
    const took = await closedAfter(p, t0);
    expect(goawayOf(p.received)?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(Buffer.from(goawayOf(p.received)!.debugData).toString()).toMatch(/header block not completed/);
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(2500);
  });

  it('a POST whose body never comes gets RST_STREAM CANCEL after the body deadline; the connection stays', async () => {
    const p = await h2cPeer(s.port);
    const t0 = Date.now();
    p.socket.write(p.f.headers(1).request('POST', '/echo').encode()); // no END_STREAM, no DATA
    await p.until((fs) => resetsOf(fs, 1).length > 0, 3000);
    const took = Date.now() - t0;
    expect(resetsOf(p.received, 1)[0]!.errorCode).toBe(ErrorCode.CANCEL);
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(1500);
    // the connection goes on
    p.socket.write(p.f.headers(3).request('GET', '/index.html').eos().encode());
    await p.until((fs) => fs.some((f) => f.type === FrameType.DATA && f.streamId === 3));
    expect(goawayOf(p.received)).toBeUndefined();
    p.socket.destroy();
  });

  it('a GET for a large file whose client keeps its window at 0 gets RST_STREAM CANCEL after the send deadline', async () => {
    const p = await h2cPeer(s.port, 0); // SETTINGS_INITIAL_WINDOW_SIZE 0: no DATA can flow
    const t0 = Date.now();
    p.socket.write(p.f.headers(1).request('GET', '/big.bin').eos().encode());
    await p.until((fs) => resetsOf(fs, 1).length > 0, 3000);
    const took = Date.now() - t0;
    expect(resetsOf(p.received, 1)[0]!.errorCode).toBe(ErrorCode.CANCEL);
    expect(dataOf(p.received, 1)).toBe(0);
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2000);
    expect(goawayOf(p.received)).toBeUndefined();
    p.socket.destroy();
  });

  it('a client that stops reading its socket is disconnected after the send deadline', async () => {
    const p = await h2cPeer(s.port, 0x7fffffff);
    // windows wide open (20 MB asked for), then the socket is never read: the server's writes back up
    p.socket.write(Buffer.concat([p.f.windowUpdate(0, 0x7fff0000).encode(), ...[1, 3, 5, 7].map((id) => p.f.headers(id).request('GET', '/big.bin').eos().encode())]));
    p.socket.pause();
    const t0 = Date.now();
    await sleep(100);
    expect((await s.stats()).connections).toBe(1); // it is backed up, not gone yet
    const after = await s.settled(3000, 0); // the server dropped it (a paused socket does not see that)
    expect(after.connections).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2500);
    p.socket.destroy();
  });

  it('a well-behaved client on another connection is unaffected by all of the above', async () => {
    const b = bystander(s.url);
    const stalls = await Promise.all([rawPeer(s.port), rawPeer(s.port), h2cPeer(s.port, 0)]);
    stalls[2]!.socket.write(stalls[2]!.f.headers(1).request('GET', '/big.bin').eos().encode());
    await sleep(800);
    const ok = await b.stop();
    expect(ok).toBeGreaterThan(5);
    for (const p of stalls) p.socket.destroy();
  });

  it('50 silent connections are all closed and their file descriptors released', async () => {
    await sleep(300);
    const before = s.fds();
    const peers = await Promise.all(Array.from({ length: 50 }, () => rawPeer(s.port)));
    await Promise.all(peers.map((p) => Promise.race([p.closed, deadline(3000)])));
    expect(peers.every((p) => p.closedAt > 0)).toBe(true);
    let after = s.fds();
    for (let i = 0; i < 50 && after > before; i++) {
      await sleep(20);
      after = s.fds();
    }
    expect(after).toBeLessThanOrEqual(before);
    expect(await s.settled(2000, 0)).toMatchObject({ connections: 0, sessions: 0 });
  });
});

describe('what the deadlines do not count, and what they see through', () => {
  it('a stream waiting its turn behind another (fifo) while the connection window is spent on that one is not reset', async () => {
    const s = await serve(['--scheduler', 'fifo'], 300);
    try {
      const p = await h2cPeer(s.port, 0x7fffffff); // stream windows wide open; the connection's 64 KiB
      p.socket.write(Buffer.concat([p.f.headers(1).request('GET', '/big.bin').eos().encode(), p.f.headers(3).request('GET', '/index.html').eos().encode()]));
      for (let i = 0; i < 15; i++) {
        await sleep(100);
        p.socket.write(p.f.windowUpdate(0, 16384).encode()); // a reader returning window as it consumes
      }
      expect(resetsOf(p.received, 3)).toEqual([]);
      expect(resetsOf(p.received, 1)).toEqual([]);
      expect(dataOf(p.received, 1)).toBeGreaterThan(65535 + 10 * 16384);
      p.socket.destroy();
    } finally {
      await s.stop();
    }
  });

  it('opening the window one octet at a time is no progress: the stream is reset at the send deadline anyway', async () => {
    const s = await serve([], 300);
    try {
      const p = await h2cPeer(s.port, 0);
      p.socket.write(p.f.headers(1).request('GET', '/big.bin').eos().encode());
      const trickle = setInterval(() => { if (!p.socket.destroyed) p.socket.write(p.f.windowUpdate(1, 1).encode()); }, 100);
      await p.until((fs) => resetsOf(fs, 1).length > 0, 3000).finally(() => clearInterval(trickle));
      expect(resetsOf(p.received, 1)[0]!.errorCode).toBe(ErrorCode.CANCEL);
      expect(dataOf(p.received, 1)).toBeLessThan(100);
      p.socket.destroy();
    } finally {
      await s.stop();
    }
  });

  it('empty DATA frames are not body octets: a body wait fed only those is reset at the body deadline', async () => {
    const s = await serve([], 300);
    try {
      const p = await h2cPeer(s.port);
      p.socket.write(p.f.headers(1).request('POST', '/echo').encode());
      const empties = setInterval(() => { if (!p.socket.destroyed) p.socket.write(p.f.data(1, '').encode()); }, 50);
      await p.until((fs) => resetsOf(fs, 1).length > 0, 3000).finally(() => clearInterval(empties));
      expect(resetsOf(p.received, 1)[0]!.errorCode).toBe(ErrorCode.CANCEL);
      p.socket.destroy();
    } finally {
      await s.stop();
    }
  });

  it('a HEADERS frame trickled an octet at a time meets the header deadline (the frame itself is part of the block)', async () => {
    const s = await serve([], 300);
    try {
      const p = await h2cPeer(s.port);
      const frame = p.f.headers(1).request('GET', '/index.html').eos().encode();
      let i = 0;
      const t0 = Date.now();
      const trickle = setInterval(() => { if (!p.socket.destroyed && i < frame.length) p.socket.write(frame.subarray(i, ++i)); }, 100);
      const took = await closedAfter(p, t0, 3000);
      clearInterval(trickle);
      expect(goawayOf(p.received)?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
      expect(took).toBeLessThan(1500);
    } finally {
      await s.stop();
    }
  });

  it('time while the server\'s own receive window is closed does not count against the body deadline', async () => {
    const { startServer } = await import('./helpers.js');
    const s = await startServer({
      bodyTimeout: 300,
      handler: async (req, res) => {
        if (req.path === '/late') await sleep(900); // its unread body holds the whole connection window meanwhile
        let n = 0;
        for await (const c of req.body) n += c.length;
        res.respond(200);
        res.end(`read ${n}`);
      },
    });
    const c = await connect(s.url);
    try {
      const late = c.request({ method: 'POST', path: '/late', body: Buffer.alloc(65535, 1) });
      await sleep(50);
      const eager = c.request({ method: 'POST', path: '/eager', body: Buffer.alloc(1000, 2) });
      expect(await (await late).text()).toBe('read 65535');
      expect(await (await eager).text()).toBe('read 1000');
    } finally {
      c.destroy();
      await s.h2.close();
    }
  });

  it('the CLI refuses a timeout Node cannot keep (above 2^31-1 ms) with one clear line', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [CLI, 'serve', site, '--port', '0', '--handshake-timeout', '2147483648'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--handshake-timeout must be at most 2147483647 ms/);
  });
});

describe('TLS handshake deadline', () => {
  itWith(['openssl'], 'a TLS connection that never sends a ClientHello, or never its preface after the handshake, is closed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'h2sched-tls-'));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const s = await serve(['--tls', '--cert', cert, '--key', key]);
    try {
      const silent = await rawPeer(s.port); // TCP only: no ClientHello
      expect(await closedAfter(silent, Date.now())).toBeLessThan(1500);
      const tls = await import('node:tls');
      const t0 = Date.now();
      const sock = tls.connect({ port: s.port, host: '127.0.0.1', ALPNProtocols: ['h2'], rejectUnauthorized: false });
      sock.on('error', () => undefined);
      sock.resume(); // read what comes (our SETTINGS), so that the close is seen
      const closed = new Promise<number>((r) => sock.on('close', () => r(Date.now() - t0)));
      await new Promise<void>((r) => sock.once('secureConnect', () => r())); // handshake done, then no preface
      const took = await Promise.race([closed, deadline(3000).then(() => Infinity)]);
      expect(took).toBeLessThan(1500);
    } finally {
      await s.stop();
    }
  });
});

describe('legitimate slow clients are never cut', () => {
  it('a download trickled at 16 KiB/s with the window kept open, and an upload at 1 KiB/s, outlive the deadlines several times over', async () => {
    const s = await serve([], 400);
    try {
      // download: 16 KiB stream window, opened 1,600 octets every 100 ms
      const d = await h2cPeer(s.port, 16384);
      d.socket.write(d.f.headers(1).request('GET', '/big.bin').eos().encode());
      // upload: 100 octets every 100 ms to the echo
      const u = await h2cPeer(s.port);
      u.socket.write(u.f.headers(1).request('POST', '/echo').encode());
      for (let i = 0; i < 25; i++) {
        await sleep(100);
        d.socket.write(Buffer.concat([d.f.windowUpdate(0, 1600).encode(), d.f.windowUpdate(1, 1600).encode()]));
        u.socket.write(Buffer.concat([u.f.data(1, Buffer.alloc(100, 1)).encode(), u.f.windowUpdate(0, 100).encode(), u.f.windowUpdate(1, 100).encode()]));
      }
      u.socket.write(u.f.data(1, '').eos().encode());
      await u.until((fs) => fs.some((f) => f.type === FrameType.DATA && f.streamId === 1 && (f as { endStream: boolean }).endStream), 3000);
      expect(dataOf(u.received, 1)).toBe(2500);
      expect(resetsOf(u.received, 1)).toEqual([]);
      expect(resetsOf(d.received, 1)).toEqual([]);
      expect(dataOf(d.received, 1)).toBeGreaterThanOrEqual(16384 + 20 * 1600); // it kept moving for 2.5 s
      expect(goawayOf(d.received)).toBeUndefined();
      d.socket.destroy();
      u.socket.destroy();
    } finally {
      await s.stop();
    }
  });
});

describe('--max-connections', () => {
  it('refuses the 11th connection at accept, logs it, and serves again when one closes', async () => {
    const s = await child(CLI, ['serve', site, '--port', '0', '--max-connections', '10']);
    try {
      const clients = await Promise.all(Array.from({ length: 10 }, () => connect(s.url)));
      for (const c of clients) expect((await c.request({ path: '/index.html' })).status).toBe(200);
      const extra = net.connect(s.port, '127.0.0.1');
      extra.on('error', () => undefined);
      const closed = await Promise.race([new Promise<boolean>((r) => extra.on('close', () => r(true))), deadline(2000).then(() => false)]);
      expect(closed).toBe(true);
      expect((await s.stats()).refused).toBe(1);
      for (let i = 0; i < 100 && !/refused 1 connection/.test(s.output()); i++) await sleep(20);
      expect(s.output()).toMatch(/refused 1 connection\(s\) over --max-connections \(1 in all\)/);
      clients[0]!.destroy();
      await sleep(100);
      const again = await connect(s.url);
      const r = await again.request({ path: '/index.html' });
      expect(r.status).toBe(200);
      await r.bytes();
      again.destroy();
      for (const c of clients.slice(1)) c.destroy();
    } finally {
      await s.stop();
    }
  });
});
