// Server safety on real sockets against child processes (the built `h2sched serve`, and a server
// whose handlers make careless mistakes): the regressions of issue 12, each asserting that the
// process is alive and answers afterwards and that nothing of the streams is left (stream records
// from the server's IPC stats, file descriptors from /proc/PID/fd).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode, FrameType } from '../../lib/constants.js';
import type { Frame, GoawayFrame } from '../../lib/frame/types.js';
import { connect } from '../../lib/node/client.js';
import { child, deadline, goawayOf, h2cPeer, itWith, rawPeer, resetsOf } from './helpers.js';

const CLI = path.resolve('dist/node/cli.js');
const CARELESS = path.resolve('spec/interop/fixtures/careless-server.mjs');

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/node/cli.js is missing: run `npm run build` (npm test does it)');
});

const zero = { exchanges: 0, senderStreams: 0, schedulerStreams: 0, engineStreams: 0 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hasHeaders = (id: number) => (fs: Frame[]) => fs.some((f) => f.type === FrameType.HEADERS && f.streamId === id);
const ended = (id: number) => (fs: Frame[]) => fs.some((f) => f.streamId === id && (f.type === FrameType.DATA || f.type === FrameType.HEADERS) && (f as { endStream: boolean }).endStream);

/** A raw h2c connection past the handshake (our SETTINGS, and the ACK of the server's). */
/** The server answers a normal request: it is alive and well. */
async function answers(url: string): Promise<void> {
  const client = await connect(url);
  try {
    const r = await client.request({ path: '/' });
    expect(r.status).toBeLessThan(500);
    await r.bytes();
  } finally {
    client.destroy();
  }
}

let site: string;
beforeAll(() => {
  site = mkdtempSync(path.join(tmpdir(), 'h2sched-safety-'));
  writeFileSync(path.join(site, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(path.join(site, 'big.bin'), randomBytes(5 << 20));
});

describe('server safety (issue 12), against child processes', () => {
  for (const scheduler of ['round-robin', 'tree']) {
    it(`1. trailers + RST_STREAM in one write after the response started do not kill the process (--scheduler ${scheduler})`, async () => {
      const s = await child(CLI, ['serve', site, '--port', '0', '--scheduler', scheduler]);
      try {
        const p = await h2cPeer(s.port);
        const ids = [1, 3, 5, 7, 9, 11, 13, 15];
        for (const id of ids) p.socket.write(Buffer.concat([p.f.headers(id).request('POST', '/echo').encode(), p.f.data(id, 'abc').encode()]));
        await p.until((fs) => ids.every((id) => hasHeaders(id)(fs)));
        // every stream: trailers (HEADERS + END_STREAM) and RST_STREAM, all in one write
        p.socket.write(Buffer.concat(ids.flatMap((id) => [p.f.headers(id).trailers([['x-t', '1']]).encode(), p.f.reset(id).cancel().encode()])));
        await sleep(200);
        expect(s.alive()).toBe(true);
        expect(goawayOf(p.received)).toBeUndefined(); // the connection itself is fine
        expect(await s.settled()).toMatchObject(zero);
        p.socket.destroy();
        await answers(s.url);
      } finally {
        await s.stop();
      }
    });
  }

  it('2. a handler\'s bad trailers throw UsageError at the call; the stream is reset, the process lives', async () => {
    const s = await child(CARELESS, []);
    try {
      const client = await connect(s.url);
      for (const p of ['/bad-trailers', '/bad-trailers-uncaught', '/throw-after-respond']) {
        const r = await client.request({ path: p });
        expect(r.status).toBe(200);
        await expect(r.bytes()).rejects.toThrow(/reset \(error code 2\)/); // INTERNAL_ERROR after headers
      }
      const boom = await client.request({ path: '/throw-sync' });
      expect(boom.status).toBe(500);
      await boom.bytes();
      expect(s.output()).toMatch(/usage: UsageError .*trailers/);
      const failing = await client.request({ path: '/failing-source' });
      await expect(failing.bytes()).rejects.toThrow(/error code 2/);
      expect(s.alive()).toBe(true);
      expect(await s.settled()).toMatchObject(zero);
      expect(await (await client.request({ path: '/x' })).text()).toBe('hello /x');
      client.destroy();
    } finally {
      await s.stop();
    }
  });

  it('2b. after the client resets, the handler\'s writes return false and a pending pipe rejects with its source destroyed', async () => {
    const s = await child(CARELESS, []);
    try {
      const client = await connect(s.url);
      const a = await client.request({ path: '/write-after-reset' });
      const b = await client.request({ path: '/hanging-source' });
      a.cancel();
      b.cancel();
      await (async () => {
        for (let i = 0; i < 200 && !/after-reset: false,false/.test(s.output()); i++) await sleep(10);
      })();
      expect(s.output()).toMatch(/after-reset: false,false/);
      expect(s.output()).toMatch(/hanging-source: destroyed/);
      expect(s.output()).toMatch(/hanging-source: pipe rejected StreamClosedError after destroy/);
      expect(await s.settled()).toMatchObject(zero);
      client.destroy();
    } finally {
      await s.stop();
    }
  });

  it('2c. a pipe() the handler never awaits: the client resets mid-body, the source is destroyed and the process lives', async () => {
    const s = await child(CARELESS, []);
    try {
      const client = await connect(s.url);
      for (let i = 0; i < 5; i++) {
        const r = await client.request({ path: '/pipe-floating' });
        r.cancel();
      }
      for (let i = 0; i < 100 && (s.output().match(/pipe-floating: destroyed/g) ?? []).length < 5; i++) await sleep(10);
      expect((s.output().match(/pipe-floating: destroyed/g) ?? []).length).toBe(5);
      expect(s.alive()).toBe(true);
      expect(await s.settled()).toMatchObject(zero);
      client.destroy();
    } finally {
      await s.stop();
    }
  });

  it('the CLI survives a closed stdout (EPIPE) and keeps serving', async () => {
    const s = await child(CLI, ['serve', site, '--port', '0']);
    try {
      s.proc.stdout!.destroy(); // nobody reads its log any more
      await sleep(50);
      for (let i = 0; i < 3; i++) await answers(s.url); // each connection writes log lines
      await sleep(50);
      expect(s.alive()).toBe(true);
    } finally {
      await s.stop();
    }
  });

  it('3. 1,001 requests with bad percent-encoding on one connection each get 400 and leave nothing behind', async () => {
    const s = await child(CLI, ['serve', site, '--port', '0']);
    try {
      const client = await connect(s.url);
      const statuses = new Map<number, number>();
      for (let i = 0; i < 1001; i += 50) {
        const batch = await Promise.all(Array.from({ length: Math.min(50, 1001 - i) }, () => client.request({ path: '/%' })));
        for (const r of batch) {
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          await r.bytes();
        }
      }
      expect([...statuses]).toEqual([[400, 1001]]);
      expect(client.isClosed).toBe(false);
      expect(await s.settled()).toMatchObject({ ...zero, sessions: 1 });
      const ok = await client.request({ path: '/' });
      expect(ok.status).toBe(200);
      await ok.bytes();
      client.destroy();
    } finally {
      await s.stop();
    }
  });

  it('4. 20 clients that drop a 5 MB download mid-body leave no file descriptor behind (but the open-file cache\'s one)', async () => {
    const s = await child(CLI, ['serve', site, '--port', '0']);
    try {
      await answers(s.url); // warm up: the first connection's one-time fds are in the baseline
      await sleep(100);
      const before = s.fds();
      await Promise.all(Array.from({ length: 20 }, async () => {
        const client = await connect(s.url);
        const r = await client.request({ path: '/big.bin' });
        const it = r.body[Symbol.asyncIterator]();
        await it.next(); // some of the body arrived: the file is open and being read
        client.destroy();
      }));
      // the 20 streams shared the cache's one descriptor of big.bin; it stays with its cache entry
      const cached = ((await s.stats()) as unknown as { files: { openFiles: number } }).files.openFiles;
      expect(cached).toBe(1);
      let after = s.fds();
      for (let i = 0; i < 100 && after > before + cached; i++) {
        await sleep(30);
        after = s.fds();
      }
      expect(after).toBeLessThanOrEqual(before + cached);
      expect(await s.settled(3000, 0)).toMatchObject({ ...zero, connections: 0 });
      await answers(s.url);
    } finally {
      await s.stop();
    }
  });

  it('5. a connection error closes the socket within 1 s even when the peer keeps writing', async () => {
    const s = await child(CLI, ['serve', site, '--port', '0']);
    try {
      const p = await h2cPeer(s.port);
      const writer = setInterval(() => { if (!p.socket.destroyed) p.socket.write(p.f.ping().encode()); }, 5);
      const t0 = Date.now();
      p.socket.write(p.f.data(0, 'x').encode()); // DATA on stream 0: connection error PROTOCOL_ERROR
      await Promise.race([p.closed, deadline(3000)]);
      clearInterval(writer);
      expect(goawayOf(p.received)?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
      expect(p.closedAt).toBeGreaterThan(0);
      expect(p.closedAt - t0).toBeLessThan(1500);
      expect(await s.settled(3000, 0)).toMatchObject({ ...zero, connections: 0 });
    } finally {
      await s.stop();
    }
  });

  it('5b. a rapid-reset flood is answered with GOAWAY ENHANCE_YOUR_CALM and the socket is gone within 1 s', async () => {
    const s = await child(CLI, ['serve', site, '--port', '0']);
    try {
      const p = await h2cPeer(s.port);
      let id = 1;
      let pairs = 0;
      let goawayAt = 0;
      const flood = setInterval(() => {
        if (p.socket.destroyed) return;
        const chunk: Uint8Array[] = [];
        for (let i = 0; i < 200; i++, id += 2, pairs++) chunk.push(p.f.headers(id).request('GET', '/').eos().encode(), p.f.reset(id).cancel().encode());
        p.socket.write(Buffer.concat(chunk));
        if (goawayAt === 0 && goawayOf(p.received)) goawayAt = Date.now();
      }, 2);
      await Promise.race([p.closed, deadline(5000)]);
      clearInterval(flood);
      expect(goawayOf(p.received)?.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
      expect(p.closedAt).toBeGreaterThan(0);
      if (goawayAt > 0) expect(p.closedAt - goawayAt).toBeLessThan(1500);
      expect(await s.settled(3000, 0)).toMatchObject({ ...zero, connections: 0 });
      expect(s.alive()).toBe(true);
      console.log(`rapid reset: ${pairs} HEADERS+RST pairs written before the close`);
    } finally {
      await s.stop();
    }
  });

  it('6. graceful shutdown: frames on streams above the last id are ignored, the accepted request completes (RFC 9113 §6.8)', async () => {
    const s = await child(CLI, ['serve', site, '--port', '0']);
    try {
      const p = await h2cPeer(s.port);
      p.socket.write(Buffer.concat([p.f.headers(1).request('POST', '/echo').encode(), p.f.data(1, 'hello ').encode()]));
      await p.until(hasHeaders(1));
      s.proc.kill('SIGTERM');
      // first GOAWAY (last id 2^31-1) + PING; we do not answer the PING: the final GOAWAY comes anyway
      await p.until((fs) => fs.filter((f) => f.type === FrameType.GOAWAY).length >= 2, 4000);
      const [notice, last] = p.received.filter((f) => f.type === FrameType.GOAWAY) as GoawayFrame[];
      expect(notice!.lastStreamId).toBe(0x7fffffff);
      expect(last!.lastStreamId).toBe(1);
      expect(last!.errorCode).toBe(ErrorCode.NO_ERROR);
      // the client had not seen it: a new stream, its DATA, and the end of stream 1, in one write
      p.socket.write(Buffer.concat([
        p.f.headers(3).request('POST', '/echo').encode(), p.f.data(3, 'ignored').encode(), p.f.data(1, 'world').eos().encode(),
      ]));
      await p.until(ended(1));
      const body = Buffer.concat(p.received.filter((f) => f.type === FrameType.DATA && f.streamId === 1).map((f) => (f as { data: Uint8Array }).data));
      expect(body.toString()).toBe('hello world');
      expect(p.received.some((f) => f.streamId === 3 && f.type !== FrameType.RST_STREAM)).toBe(false);
      expect(p.received.filter((f) => f.type === FrameType.GOAWAY).every((g) => (g as GoawayFrame).errorCode === ErrorCode.NO_ERROR)).toBe(true);
      await p.closed;
      expect(await s.exited).toBe(0);
    } finally {
      await s.stop();
    }
  });

  itWith(['h2load'], '6b. SIGTERM during an h2load run: every request that got response headers completes', async () => {
    const s = await child(CLI, ['serve', site, '--port', '0']);
    try {
      const { spawn } = await import('node:child_process');
      const load = spawn('h2load', ['-n', '100000', '-c', '4', '-m', '10', `${s.url}/index.html`]);
      let out = '';
      load.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const done = new Promise<void>((r) => load.on('exit', () => r()));
      await sleep(1000);
      s.proc.kill('SIGTERM');
      await done;
      expect(await s.exited).toBe(0);
      const m = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
      const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
      expect(m).not.toBeNull();
      const [succeeded] = [Number(m![4])];
      const headered = Number(codes![1]) + Number(codes![2]) + Number(codes![3]) + Number(codes![4]);
      expect(succeeded).toBeGreaterThan(0);
      expect(headered).toBe(succeeded); // no request that got HEADERS back was cut short
    } finally {
      await s.stop();
    }
  }, 30000);

  it('7a. octets that are neither the preface nor HTTP/1.1 get GOAWAY PROTOCOL_ERROR and a close (RFC 9113 §3.4)', async () => {
    const s = await child(CLI, ['serve', site, '--port', '0']);
    try {
      const p = await rawPeer(s.port);
      p.socket.write('INVALID CONNECTION PREFACE\r\n\r\n');
      await Promise.race([p.closed, deadline(3000)]);
      expect(p.closedAt).toBeGreaterThan(0);
      expect(goawayOf(p.received)?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
      expect(p.received.some((f) => f.type === FrameType.DATA)).toBe(false);
      await answers(s.url);
    } finally {
      await s.stop();
    }
  });

  it('7b. HEADERS on a stream closed by END_STREAM both ways is a connection error STREAM_CLOSED (RFC 9113 §5.1)', async () => {
    const s = await child(CLI, ['serve', site, '--port', '0']);
    try {
      const p = await h2cPeer(s.port);
      p.socket.write(p.f.headers(1).request('GET', '/').eos().encode());
      await p.until(ended(1));
      await sleep(50);
      p.socket.write(p.f.headers(1).request('GET', '/').eos().encode());
      await Promise.race([p.closed, deadline(3000)]);
      expect(goawayOf(p.received)?.errorCode).toBe(ErrorCode.STREAM_CLOSED);
      expect(resetsOf(p.received, 1)).toEqual([]);
      expect(s.alive()).toBe(true);
    } finally {
      await s.stop();
    }
  });

  itWith(['openssl'], 'TLS: 1.2 or later with ciphers RFC 9113 §9.2.2 allows; older versions and CBC suites are refused', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'h2sched-tls-'));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const s = await child(CLI, ['serve', site, '--port', '0', '--tls', '--cert', cert, '--key', key]);
    const handshakeWith = (args: string[]): boolean => {
      try {
        const out = execFileSync('openssl', ['s_client', '-connect', `127.0.0.1:${s.port}`, '-alpn', 'h2', ...args], { input: '', encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 5000 });
        return /ALPN protocol: h2/.test(out);
      } catch {
        return false;
      }
    };
    try {
      expect(handshakeWith(['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256'])).toBe(true);
      expect(handshakeWith(['-tls1_3'])).toBe(true);
      expect(handshakeWith(['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-SHA256'])).toBe(false); // CBC: on the block list
      expect(handshakeWith(['-tls1_2', '-cipher', 'AES128-GCM-SHA256'])).toBe(false); // no ephemeral key exchange
      expect(handshakeWith(['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'])).toBe(false);
      expect(s.alive()).toBe(true);
    } finally {
      await s.stop();
    }
  }, 30000);
});
