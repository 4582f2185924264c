// `h2sched serve DIR` as a static server (issue 13), against the built CLI in a child process:
// RFC 9110 validators, conditionals and ranges; dotfiles, symlinks and directories; the open-file
// cache (changes seen after --cache-valid, descriptors bounded by --cache-entries); a file that
// changes while it is sent resets its stream; and priorities on real files with nghttp -p.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StreamClosedError } from '../../lib/errors.js';
import { connect, type H2Client } from '../../lib/node/client.js';
import { child, type Child, has, itWith } from './helpers.js';

const CLI = path.resolve('dist/node/cli.js');
let site: string;
let outside: string;
let big: Buffer;
let s: Child;
let client: H2Client;

beforeAll(async () => {
  site = fs.mkdtempSync(path.join(tmpdir(), 'h2sched-files-'));
  outside = fs.mkdtempSync(path.join(tmpdir(), 'h2sched-outside-'));
  big = randomBytes(3_000_000);
  fs.writeFileSync(path.join(site, 'index.html'), '<!doctype html><title>files</title>');
  fs.writeFileSync(path.join(site, 'a.txt'), 'hello, files\n');
  fs.writeFileSync(path.join(site, 'big.bin'), big);
  fs.writeFileSync(path.join(site, '.env'), 'SECRET=1\n');
  fs.mkdirSync(path.join(site, '.git'));
  fs.writeFileSync(path.join(site, '.git', 'config'), '[core]\n');
  fs.mkdirSync(path.join(site, 'sub'));
  fs.writeFileSync(path.join(site, 'sub', 'index.html'), '<p>sub</p>');
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'outside\n');
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(site, 'out.txt'));
  fs.symlinkSync(outside, path.join(site, 'out-dir'));
  fs.symlinkSync(path.join(site, 'a.txt'), path.join(site, 'in.txt'));
  s = await child(CLI, ['serve', site, '--port', '0', '--log', 'none', '--cache-valid', '100']);
  client = await connect(s.url);
});
afterAll(async () => {
  client?.destroy();
  await s?.stop();
  fs.rmSync(site, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

async function get(p: string, headers: Array<[string, string]> = [], method = 'GET') {
  const r = await client.request({ method, path: p, headers });
  const body = await r.bytes();
  return { status: r.status, h: (n: string) => r.header(n), headers: r.headers, body };
}

describe('h2sched serve DIR: HTTP semantics (RFC 9110)', () => {
  it('GET carries content-type, length, a strong ETag, Last-Modified and Accept-Ranges; HEAD the same headers and no body', async () => {
    const g = await get('/a.txt');
    expect(g.status).toBe(200);
    expect(g.body.toString()).toBe('hello, files\n');
    expect(g.h('content-type')).toBe('text/plain; charset=utf-8');
    expect(g.h('content-length')).toBe('13');
    expect(g.h('etag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(g.h('last-modified')).toBe(fs.statSync(path.join(site, 'a.txt')).mtime.toUTCString());
    expect(g.h('accept-ranges')).toBe('bytes');
    const h = await get('/a.txt', [], 'HEAD');
    expect(h.status).toBe(200);
    expect(h.body.length).toBe(0);
    expect(h.headers).toEqual(g.headers);
    const hb = await get('/big.bin', [['range', 'bytes=0-9']], 'HEAD'); // Range is for GET only
    expect(hb.status).toBe(200);
    expect(hb.h('content-length')).toBe(String(big.length));
  });

  it('If-None-Match / If-Modified-Since → 304 with the validators and no body; other tags → 200', async () => {
    const { h } = await get('/a.txt');
    const etag = h('etag')!;
    const n1 = await get('/a.txt', [['if-none-match', etag]]);
    expect(n1.status).toBe(304);
    expect(n1.body.length).toBe(0);
    expect(n1.h('etag')).toBe(etag);
    expect((await get('/a.txt', [['if-none-match', `"nope", ${etag}`]])).status).toBe(304);
    expect((await get('/a.txt', [['if-none-match', '"nope"']])).status).toBe(200);
    expect((await get('/a.txt', [['if-modified-since', h('last-modified')!]])).status).toBe(304);
    expect((await get('/a.txt', [['if-modified-since', 'Thu, 01 Jan 1970 00:00:00 GMT']])).status).toBe(200);
    expect((await get('/big.bin', [['if-none-match', (await get('/big.bin', [], 'HEAD')).h('etag')!]])).status).toBe(304);
  });

  it('If-Match / If-Unmodified-Since that fail → 412; `*` and a matching tag pass', async () => {
    const etag = (await get('/a.txt', [], 'HEAD')).h('etag')!;
    expect((await get('/a.txt', [['if-match', '"other"']])).status).toBe(412);
    expect((await get('/a.txt', [['if-match', `W/${etag}`]])).status).toBe(412); // strong comparison
    expect((await get('/a.txt', [['if-match', etag]])).status).toBe(200);
    expect((await get('/a.txt', [['if-match', '*']])).status).toBe(200);
    expect((await get('/a.txt', [['if-unmodified-since', 'Thu, 01 Jan 1970 00:00:00 GMT']])).status).toBe(412);
  });

  it('one range → 206 with Content-Range and exactly those octets, from memory and from the file; suffix ranges too', async () => {
    const r = await get('/big.bin', [['range', 'bytes=100-199']]);
    expect(r.status).toBe(206);
    expect(r.h('content-range')).toBe(`bytes 100-199/${big.length}`);
    expect(r.h('content-length')).toBe('100');
    expect(r.body.equals(big.subarray(100, 200))).toBe(true);
    const tail = await get('/big.bin', [['range', 'bytes=-70000']]);
    expect(tail.status).toBe(206);
    expect(tail.body.equals(big.subarray(big.length - 70000))).toBe(true);
    const mid = await get('/big.bin', [['range', 'bytes=1000000-']]);
    expect(mid.body.equals(big.subarray(1_000_000))).toBe(true);
    const small = await get('/a.txt', [['range', 'bytes=7-']]);
    expect(small.status).toBe(206);
    expect(small.body.toString()).toBe('files\n');
  });

  it('unsatisfiable → 416 with `bytes */size`; several ranges or a malformed one → the whole file with 200', async () => {
    const r = await get('/big.bin', [['range', `bytes=${big.length}-`]]);
    expect(r.status).toBe(416);
    expect(r.h('content-range')).toBe(`bytes */${big.length}`);
    const several = await get('/a.txt', [['range', 'bytes=0-1,5-6']]);
    expect(several.status).toBe(200);
    expect(several.body.toString()).toBe('hello, files\n');
    expect((await get('/a.txt', [['range', 'bytes=x-y']])).status).toBe(200);
    expect((await get('/a.txt', [['range', 'lines=1-2']])).status).toBe(200);
  });

  it('If-Range: the current ETag or date keeps the range; an old one sends the whole file', async () => {
    const head = await get('/a.txt', [], 'HEAD');
    expect((await get('/a.txt', [['range', 'bytes=0-4'], ['if-range', head.h('etag')!]])).status).toBe(206);
    expect((await get('/a.txt', [['range', 'bytes=0-4'], ['if-range', head.h('last-modified')!]])).status).toBe(206);
    const old = await get('/a.txt', [['range', 'bytes=0-4'], ['if-range', '"0-0"']]);
    expect(old.status).toBe(200);
    expect(old.body.length).toBe(13);
  });
});

describe('h2sched serve DIR: what is served', () => {
  it('dotfiles and dot-directories are not found; symlinks out of the root are not found, inside it they are', async () => {
    expect((await get('/.env')).status).toBe(404);
    expect((await get('/.git/config')).status).toBe(404);
    expect((await get('/%2eenv')).status).toBe(404);
    expect((await get('/out.txt')).status).toBe(404);
    expect((await get('/out-dir/secret.txt')).status).toBe(404);
    expect((await get('/..%2f..%2fetc%2fpasswd')).status).toBe(404);
    const inside = await get('/in.txt');
    expect(inside.status).toBe(200);
    expect(inside.body.toString()).toBe('hello, files\n');
  });

  it('--dotfiles allow serves them', async () => {
    const allow = await child(CLI, ['serve', site, '--port', '0', '--log', 'none', '--dotfiles', 'allow']);
    const c = await connect(allow.url);
    try {
      const r = await c.request({ path: '/.env' });
      expect(r.status).toBe(200);
      expect((await r.bytes()).toString()).toBe('SECRET=1\n');
    } finally {
      c.destroy();
      await allow.stop();
    }
  });

  it('a directory without its slash is redirected (301, query kept); with it, its index.html; a bad percent-encoding is 400', async () => {
    const r = await get('/sub?x=1');
    expect(r.status).toBe(301);
    expect(r.h('location')).toBe('/sub/?x=1');
    const idx = await get('/sub/');
    expect(idx.status).toBe(200);
    expect(idx.body.toString()).toBe('<p>sub</p>');
    expect(idx.h('content-type')).toBe('text/html; charset=utf-8');
    expect((await get('/')).body.toString()).toContain('<title>files</title>');
    expect((await get('/%')).status).toBe(400);
    expect((await get('/%C3%28')).status).toBe(400);
    expect((await get('/nothing-here')).status).toBe(404);
  });

  it('a changed file is served changed once --cache-valid has passed (new ETag)', async () => {
    const file = path.join(site, 'changing.txt');
    fs.writeFileSync(file, 'one');
    const first = await get('/changing.txt');
    expect(first.body.toString()).toBe('one');
    fs.writeFileSync(file, 'two!');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 10_000));
    await new Promise((r) => setTimeout(r, 150));
    const second = await get('/changing.txt');
    expect(second.body.toString()).toBe('two!');
    expect(second.h('etag')).not.toBe(first.h('etag'));
  });
});

describe('h2sched serve DIR: its flags', () => {
  it('each mistake in a file-serving flag is one line and status 2', () => {
    for (const [flag, value, msg] of [
      ['--dotfiles', 'maybe', '--dotfiles must be deny or allow, not maybe'],
      ['--file-reads', 'fast', '--file-reads must be prefetch, async or sync, not fast'],
      ['--cache-entries', '0', '--cache-entries must be at least 1'],
      ['--cache-memory', '-1', '--cache-memory must be a whole number, not -1'],
      ['--cache-file-max', '1e3', '--cache-file-max must be a whole number, not 1e3'],
      ['--cache-valid', '9999999999', '--cache-valid must be at most 2147483647 ms'],
      ['--read-ahead', 'lots', '--read-ahead must be a whole number, not lots'],
    ]) {
      let status = 0;
      let stderr = '';
      try {
        execFileSync(process.execPath, [CLI, 'serve', site, '--port', '0', `${flag}=${value}`], { encoding: 'utf8', stdio: 'pipe' });
      } catch (e) {
        status = (e as { status: number }).status;
        stderr = (e as { stderr: string }).stderr;
      }
      expect(status).toBe(2);
      expect(stderr.split('\n')[0]).toContain(`h2sched: ${msg}`);
      expect(stderr.split('\n')[1]).toBe('see h2sched serve --help');
    }
  });

  it('--help lists the cache, dotfiles, read-ahead and file-read flags with their defaults', () => {
    const help = execFileSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
    for (const f of ['--dotfiles MODE', '--cache-entries N', '--cache-memory N', '--cache-file-max N', '--cache-valid MS', '--read-ahead N', '--file-reads MODE']) expect(help).toContain(f);
    expect(help).toContain('(default 1024)');
    expect(help).toContain('(default prefetch)');
  });
});

describe('h2sched serve DIR: bodies from files', () => {
  it('20 concurrent downloads of a 3 MB file are byte-exact and share one descriptor', async () => {
    const before = s.fds();
    const bodies = await Promise.all(Array.from({ length: 20 }, async () => (await client.request({ path: '/big.bin' })).bytes()));
    for (const b of bodies) expect(b.equals(big)).toBe(true);
    const stats = (await s.stats()) as unknown as { files: { openFiles: number; hits: number } };
    expect(stats.files.openFiles).toBe(1);
    expect(s.fds()).toBeLessThanOrEqual(before + 1);
  });

  it('descriptors stay within --cache-entries once the responses reading evicted files are done', async () => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'h2sched-many-'));
    for (let i = 0; i < 8; i++) fs.writeFileSync(path.join(dir, `f${i}.bin`), randomBytes(400_000));
    const small = await child(CLI, ['serve', dir, '--port', '0', '--log', 'none', '--cache-entries', '2']);
    const c = await connect(small.url);
    try {
      // warm up (the first file read starts libuv's pool and its descriptors): one file cached
      await (await c.request({ path: '/f0.bin' })).bytes();
      const base = small.fds() - 1;
      for (let round = 0; round < 2; round++) {
        await Promise.all(Array.from({ length: 8 }, async (_, i) => {
          const b = await (await c.request({ path: `/f${i}.bin` })).bytes();
          expect(b.equals(fs.readFileSync(path.join(dir, `f${i}.bin`)))).toBe(true);
        }));
      }
      // a superseded read-ahead may still be in flight for a moment: its descriptor is freed when it lands
      let st = (await small.stats()) as unknown as { files: { openFiles: number; entries: number } };
      for (let i = 0; i < 50 && st.files.openFiles > 2; i++) {
        await new Promise((r) => setTimeout(r, 20));
        st = (await small.stats()) as unknown as { files: { openFiles: number; entries: number } };
      }
      expect(st.files.entries).toBeLessThanOrEqual(2);
      expect(st.files.openFiles).toBeLessThanOrEqual(2);
      let fds = small.fds();
      for (let i = 0; i < 50 && fds > base + 2; i++) {
        await new Promise((r) => setTimeout(r, 20));
        fds = small.fds();
      }
      expect(fds).toBeLessThanOrEqual(base + 2);
    } finally {
      c.destroy();
      await small.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file cut short while it is sent resets its stream instead of ending it short; the server goes on', async () => {
    const file = path.join(site, 'shrinks.bin');
    fs.writeFileSync(file, randomBytes(4_000_000));
    const r = await client.request({ path: '/shrinks.bin' });
    expect(r.header('content-length')).toBe('4000000');
    const it = r.body[Symbol.asyncIterator]();
    await it.next();
    fs.truncateSync(file, 1000);
    let got = 0;
    const failed = (async () => {
      for (let n = await it.next(); !n.done; n = await it.next()) got += n.value.length;
    })();
    await expect(failed).rejects.toBeInstanceOf(StreamClosedError);
    expect(got).toBeLessThan(4_000_000);
    expect((await get('/a.txt')).status).toBe(200);
  });
});

/** Shares of DATA octets per stream until the first stream completes, from `nghttp -nv` output. */
function shares(out: string): number[] {
  const per = new Map<number, number>();
  let total = 0;
  for (const line of out.split('\n')) {
    const m = /recv DATA frame <length=(\d+), flags=0x(\d+), stream_id=(\d+)>/.exec(line);
    if (!m) continue;
    const n = Number(m[1]);
    const id = Number(m[3]);
    per.set(id, (per.get(id) ?? 0) + n);
    total += n;
    if ((Number.parseInt(m[2]!, 16) & 1) === 1) break;
  }
  return [...per.keys()].sort((a, b) => a - b).map((id) => per.get(id)! / total);
}

describe('priorities on real files (nghttp -p 1 -p 64 -p 256, three 2 MB siblings)', () => {
  const IDEAL = [1 / 321, 64 / 321, 256 / 321];
  let dir: string;
  let weights: Child;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(tmpdir(), 'h2sched-weights-'));
    for (const f of ['a', 'b', 'c']) fs.writeFileSync(path.join(dir, `${f}.bin`), randomBytes(2_000_000));
    weights = await child(CLI, ['serve', dir, '--port', '0', '--log', 'none']);
    // the files' first lookups open them asynchronously, each response starting when its file is
    // open: the first to be ready may take the first window alone. Measured on a warm cache.
    if (has('nghttp')) execFileSync('nghttp', ['-n', `${weights.url}/a.bin`, `${weights.url}/b.bin`, `${weights.url}/c.bin`]);
  });
  afterAll(async () => {
    await weights?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const run = (extra: string[]) => shares(execFileSync('nghttp', ['-nv', ...extra, '-p', '1', '-p', '64', '-p', '256',
    `${weights.url}/a.bin`, `${weights.url}/b.bin`, `${weights.url}/c.bin`], { encoding: 'utf8', maxBuffer: 64 << 20 }));

  itWith(['nghttp'], 'each stream\'s share is its weight / the sum, ±0.02, when only the connection window limits (1 MiB stream windows)', async () => {
    for (let i = 0; i < 3; i++) {
      const got = run(['-w', '20']);
      expect(got).toHaveLength(3);
      got.forEach((x, k) => expect(Math.abs(x - IDEAL[k]!)).toBeLessThanOrEqual(0.02));
    }
  });

  // With 64 KiB stream windows nghttp acknowledges a stream's octets only once half its window is
  // consumed; the heaviest stream then often finds its own window at 0 while the connection's is
  // open, and that turn goes to the next stream (RFC 9113 §5.2: flow control comes first). In the
  // 4-frame rounds a 64 KiB connection window makes, it is held to 3 of 4 frames at worst (0.75).
  itWith(['nghttp'], 'with nghttp\'s 64 KiB stream windows: the order holds, w1 within ±0.01, w256 at least 3 of every 4 frames', async () => {
    for (let i = 0; i < 3; i++) {
      const got = run([]);
      expect(got[0]!).toBeLessThan(got[1]!);
      expect(got[1]!).toBeLessThan(got[2]!);
      expect(Math.abs(got[0]! - IDEAL[0]!)).toBeLessThanOrEqual(0.01);
      expect(got[2]!).toBeGreaterThanOrEqual(0.745);
    }
  });
});

// The hostile review of issue 13: each finding, reproduced, as a test.
describe('found by the review (issue 13)', () => {
  it('1. a directory without its slash behind `//` or `/\\` redirects to a path on this server, never `//host`', async () => {
    for (const p of ['//sub', '/%2Fsub', '//sub?x=1']) {
      const r = await get(p);
      expect(r.status).toBe(301);
      expect(r.h('location')!.startsWith('//')).toBe(false);
      expect(r.h('location')).toMatch(/^\/sub\/(\?x=1)?$/);
    }
    expect((await get('//evil.example/sub')).status).toBe(404); // the host-looking segment is a path segment
  });

  it('2. a peer\'s 16 MiB MAX_FRAME_SIZE and windows do not make 16 MiB frames or reads: DATA frames stay ≤ 64 KiB', async () => {
    const net = await import('node:net');
    const { FrameDecoder } = await import('../../lib/frame/decoder.js');
    const { FrameType, CLIENT_PREFACE } = await import('../../lib/constants.js');
    const { frameFactory } = await import('../helpers/frames.js');
    const f = frameFactory();
    const socket = net.connect(s.port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const decoder = new FrameDecoder({ expectPreface: false, maxFrameSize: 16_777_215 });
    const sizes: number[] = [];
    let got = 0;
    const done = new Promise<void>((resolve) => socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      for (let fr = decoder.next(); fr !== null; fr = decoder.next()) {
        if (fr.type === FrameType.DATA && fr.streamId === 1) {
          sizes.push((fr as { data: Uint8Array }).data.length);
          got += (fr as { data: Uint8Array }).data.length;
          if (got >= big.length) resolve();
        }
      }
    }));
    socket.write(Buffer.concat([
      CLIENT_PREFACE,
      f.settings().maxFrameSize(16_777_215).initialWindowSize(0x7fffffff).encode(),
      f.windowUpdate(0, 0x7fffffff - 65535).encode(),
      f.headers(1).request('GET', '/big.bin').eos().encode(),
    ]));
    await done;
    socket.destroy();
    expect(got).toBe(big.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(65_536);
  }, 20_000);

  it('3. a suffix range longer than the file is the whole file (206), alone or with others', async () => {
    const r = await get('/a.txt', [['range', 'bytes=-100']]);
    expect(r.status).toBe(206);
    expect(r.h('content-range')).toBe('bytes 0-12/13');
    expect(r.body.toString()).toBe('hello, files\n');
    const two = await get('/a.txt', [['range', 'bytes=-5,-100']]);
    expect(two.status).toBe(206);
    expect(two.h('content-range')).toBe('bytes 0-12/13');
  });

  it('4. If-Match / If-None-Match sent as several lines are one list (RFC 9110 §5.3)', async () => {
    const etag = (await get('/a.txt', [], 'HEAD')).h('etag')!;
    expect((await get('/a.txt', [['if-match', etag], ['if-match', '"x"']])).status).toBe(200);
    expect((await get('/a.txt', [['if-none-match', etag], ['if-none-match', '"x"']])).status).toBe(304);
  });

  it('5. If-None-Match with the current ETag and Cache-Control: no-cache is still 304 (the origin evaluates preconditions, RFC 9110 §13.2.1)', async () => {
    const etag = (await get('/a.txt', [], 'HEAD')).h('etag')!;
    expect((await get('/a.txt', [['if-none-match', etag], ['cache-control', 'no-cache']])).status).toBe(304);
  });
});

describe('found by the review (issue 13): handlers and the server', () => {
  it('7. sendSource() or pipe() refused with a UsageError (after end, twice, bad trailers) closes the source it was given', async () => {
    const { startServer } = await import('./helpers.js');
    const { BufferSource } = await import('../../lib/sender/source.js');
    const { Readable } = await import('node:stream');
    const closed: string[] = [];
    const errors: string[] = [];
    const srv = await startServer({
      handler: (_req, res) => {
        const a = new BufferSource(Buffer.from('a'));
        a.close = () => closed.push('badTrailers');
        try { void res.sendSource(a, [['bad name', 'x']]); } catch (e) { errors.push((e as Error).name); }
        const b = new BufferSource(Buffer.from('b'));
        b.close = () => closed.push('first');
        void res.sendSource(b);
        const c = new BufferSource(Buffer.from('c'));
        c.close = () => closed.push('twice');
        try { void res.sendSource(c); } catch (e) { errors.push((e as Error).name); }
        const r = Readable.from(['x']);
        r.on('close', () => closed.push('pipe'));
        try { void res.pipe(r); } catch (e) { errors.push((e as Error).name); }
      },
    });
    const c = await connect(srv.url);
    try {
      const r = await c.request({ path: '/' });
      expect((await r.bytes()).toString()).toBe('b');
      await new Promise((res) => setTimeout(res, 50));
      expect(errors).toEqual(['UsageError', 'UsageError', 'UsageError']);
      expect(closed.sort()).toEqual(['badTrailers', 'first', 'pipe', 'twice']);
    } finally {
      c.destroy();
      await srv.h2.close();
    }
  });

  it('12. a pull source that never gives anything is cut after sendTimeout (CANCEL), and closed', async () => {
    const { startServer } = await import('./helpers.js');
    let closes = 0;
    const stuck = { remaining: 1000, available: 0, start: () => undefined, read: () => new Uint8Array(0), prefetch: () => undefined, close: () => { closes++; } };
    const srv = await startServer({ sendTimeout: 300, handler: (_req, res) => { void res.sendSource(stuck).catch(() => undefined); } });
    const c = await connect(srv.url);
    try {
      const r = await c.request({ path: '/' });
      const t0 = Date.now();
      await expect(r.bytes()).rejects.toBeInstanceOf(StreamClosedError);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(closes).toBe(1);
      expect(srv.h2.stats()).toMatchObject({ exchanges: 0, senderStreams: 0 });
    } finally {
      c.destroy();
      await srv.h2.close();
    }
  });

  it('13. serving `/` itself: a path off the fast path (a query, an escape) is found like any other', async () => {
    const { staticHandler } = await import('../../lib/node/static.js');
    const { startServer } = await import('./helpers.js');
    const handler = staticHandler('/');
    const srv = await startServer({ handler });
    const c = await connect(srv.url);
    const target = encodeURI(path.join(site, 'a.txt'));
    try {
      for (const p of [target, `${target}?v=1`, target.replace('a.txt', '%61.txt')]) {
        const r = await c.request({ path: p });
        expect([p, r.status]).toEqual([p, 200]);
        expect((await r.bytes()).toString()).toBe('hello, files\n');
      }
    } finally {
      c.destroy();
      await srv.h2.close();
      handler.close();
    }
  });

  it('9. a lookup that fails for want of descriptors answers 503 with Retry-After, not 404', async () => {
    const { staticHandler } = await import('../../lib/node/static.js');
    const { FileCache } = await import('../../lib/node/file-cache.js');
    const { startServer } = await import('./helpers.js');
    const handler = staticHandler(site);
    const lookup = jest.spyOn(FileCache.prototype, 'lookup').mockRejectedValue(Object.assign(new Error('EMFILE'), { code: 'EMFILE' }));
    const srv = await startServer({ handler });
    const c = await connect(srv.url);
    try {
      const r = await c.request({ path: '/a.txt' });
      expect(r.status).toBe(503);
      expect(r.header('retry-after')).toBe('1');
    } finally {
      lookup.mockRestore();
      c.destroy();
      await srv.h2.close();
      handler.close();
    }
  });
});
