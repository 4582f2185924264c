// The `h2sched serve` command as users run it: the built CLI (dist/, made by `npm test`) in a child
// process. First line = URL with --port 0, one log line per connection, static files with content
// types, HEAD and 404s, --help, argument errors, TLS (by default with the development certificate,
// kept in a temporary XDG_CACHE_HOME here), and a graceful drain on SIGTERM / SIGINT.
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '../../lib/node/client.js';
import { demoSite } from '../../lib/node/demo.js';
import { itWith, testCacheHome } from './helpers.js';

const CLI = path.resolve('dist/node/cli.js');

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/node/cli.js is missing: run `npm run build` (npm test does it)');
});

interface Running {
  proc: ChildProcessWithoutNullStreams;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `h2sched serve ...args` and resolves with the URL from its first line. */
function serve(args: string[]): Promise<Running> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { env: { ...process.env, XDG_CACHE_HOME: testCacheHome() } });
  let out = '';
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    proc.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl > 0) resolve({ proc, url: out.slice(0, nl).replace(/\/$/, ''), output: () => out, exited });
    });
    void exited.then((code) => reject(new Error(`h2sched exited (${code}) before printing its URL: ${out}`)));
  });
}

/** A client of the CLI's TLS port that trusts the development certificate (and checks it is for 127.0.0.1). */
function trusting(url: string, options: Parameters<typeof connect>[1] = {}) {
  return connect(url, { ...options, tls: { ca: readFileSync(path.join(testCacheHome(), 'h2sched', 'localhost-cert.pem')) } });
}

function cli(args: string[], cacheHome = testCacheHome()): { status: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_CACHE_HOME: cacheHome } });
    return { status: 0, stdout, stderr: '' };
  } catch (e) {
    const x = e as { status: number; stdout: string; stderr: string };
    return { status: x.status, stdout: x.stdout, stderr: x.stderr };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('h2sched CLI', () => {
  it('--help documents every option and exits 0', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    for (const opt of ['--port', '--host', '--tls', '--no-tls', '--cert', '--key', '--workers', '--scheduler', '--idle-timeout', 'tree', 'round-robin', 'fifo', 'extensible', 'POST', 'XDG_CACHE_HOME', '308']) {
      expect(r.stdout).toContain(opt);
    }
  });

  it('refuses bad arguments with exit code 2 and a reason', () => {
    expect(cli(['serve', '--scheduler', 'lottery'])).toMatchObject({ status: 2, stderr: expect.stringContaining('unknown --scheduler lottery') });
    expect(cli(['serve', '--port', '70000'])).toMatchObject({ status: 2, stderr: 'h2sched: --port must be an integer 0–65535, not 70000\nsee h2sched serve --help\n' });
    expect(cli(['serve', '--bogus'])).toMatchObject({ status: 2 });
    expect(cli(['launch'])).toMatchObject({ status: 2, stderr: expect.stringContaining('unknown command launch') });
    // every mistake: one line saying what, one saying where to look, status 2 — never the whole usage
    const mistakes: Array<[string[], RegExp]> = [
      [['serve', '--idle-timeout', 'abc'], /^h2sched: --idle-timeout must be a whole number, not abc$/],
      [['serve', '--port=-1'], /^h2sched: --port must be an integer 0–65535, not -1$/],
      [['serve', '--port', '-1'], /^h2sched: Option '--port' argument is ambiguous$/],
      [['serve', '/no/such/dir'], /^h2sched: cannot serve \/no\/such\/dir: no such directory$/],
      [['serve', 'package.json'], /^h2sched: cannot serve package\.json: not a directory$/],
      [['serve', '--tls', '--cert', '/no/cert.pem', '--key', '/no/key.pem'], /^h2sched: cannot read --cert \/no\/cert\.pem: ENOENT$/],
      [['serve', '--cert', 'x.pem'], /^h2sched: --cert needs --key$/],
      [['serve', '--key', 'x.pem'], /^h2sched: --key needs --cert$/],
      [['serve', '--no-tls', '--cert', 'x.pem', '--key', 'y.pem'], /^h2sched: --cert and --key serve TLS: leave out --no-tls$/],
      [['serve', '--tls', '--no-tls'], /^h2sched: --tls and --no-tls contradict each other$/],
      [['serve', '--workers', '0'], /^h2sched: --workers must be a whole number 1–1024 or auto, not 0$/],
      [['serve', '--workers', 'many'], /^h2sched: --workers must be a whole number 1–1024 or auto, not many$/],
      [['serve', '--log', 'xml'], /^h2sched: --log must be text, json or none, not xml$/],
      [['serve', '--bogus'], /^h2sched: Unknown option '--bogus'$/],
      [['serve', '--handshake-timeout', '2147483648'], /^h2sched: --handshake-timeout must be at most 2147483647 ms/],
    ];
    // refused before anything is done: no development certificate is made for a mistake
    const untouched = mkdtempSync(path.join(tmpdir(), 'h2sched-cache-'));
    for (const [args, first] of mistakes) {
      const r = cli(args, untouched);
      const lines = r.stderr.trimEnd().split('\n');
      expect([args.join(' '), r.status, lines.length]).toEqual([args.join(' '), 2, 2]);
      expect(lines[0]).toMatch(first);
      expect(lines[1]).toBe('see h2sched serve --help');
    }
    expect(existsSync(path.join(untouched, 'h2sched'))).toBe(false);
  });

  it('prints its https:// URL first with --port 0, serves the demo site with the development certificate, logs connections, and drains on SIGTERM', async () => {
    const s = await serve([]);
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const client = await trusting(s.url, { connection: { localSettings: { initialWindowSize: 16384 } } });
    const page = await client.request({ path: '/' });
    expect((await page.bytes()).equals(demoSite().get('/')!.body)).toBe(true);
    await until(() => /connection 1 from 127\.0\.0\.1:\d+/.test(s.output()));
    // a large response in flight, not read yet: the drain must let it finish
    const vendor = await client.request({ path: '/js/vendor.js' });
    s.proc.kill('SIGTERM');
    await until(() => s.output().includes('SIGTERM: draining 1 connection(s)'));
    expect((await vendor.bytes()).equals(demoSite().get('/js/vendor.js')!.body)).toBe(true);
    expect(await s.exited).toBe(0);
    expect(s.output()).toMatch(/connection closed: 2 requests, \d+ bytes in, \d+ bytes out/);
    expect(client.isClosed).toBe(true);
  });

  it('serves a directory: content types, content-length, HEAD, index.html, 404, no escaping the root; SIGINT exits', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'h2sched-www-'));
    mkdirSync(path.join(root, 'sub'));
    const files: Record<string, [Buffer, string]> = {
      'index.html': [Buffer.from('<!doctype html><title>t</title>'), 'text/html; charset=utf-8'],
      'style.css': [Buffer.from('body{}'), 'text/css; charset=utf-8'],
      'sub/font.woff2': [randomBytes(30000), 'font/woff2'],
      'sub/pic.png': [randomBytes(5), 'image/png'],
      'empty.json': [Buffer.alloc(0), 'application/json; charset=utf-8'],
      'big.bin': [randomBytes(5 << 20), 'application/octet-stream'],
    };
    for (const [name, [body]] of Object.entries(files)) writeFileSync(path.join(root, name), body);
    writeFileSync(path.join(tmpdir(), 'h2sched-secret.txt'), 'secret');
    const s = await serve([root, '--scheduler', 'round-robin']);
    await until(() => s.output().includes('scheduler round-robin'));
    const client = await trusting(s.url);
    try {
      for (const [name, [body, type]] of Object.entries(files)) {
        const r = await client.request({ path: `/${name}` });
        expect([name, r.status, r.header('content-type'), r.header('content-length')]).toEqual([name, 200, type, String(body.length)]);
        expect((await r.bytes()).equals(body)).toBe(true);
      }
      const index = await client.request({ path: '/' });
      expect(await index.text()).toBe(files['index.html']![0].toString());
      const head = await client.request({ method: 'HEAD', path: '/big.bin' });
      expect(head.header('content-length')).toBe(String(5 << 20));
      expect((await head.bytes()).length).toBe(0);
      for (const p of ['/missing.txt', '/../h2sched-secret.txt', '/%2e%2e/h2sched-secret.txt', '/sub/../../h2sched-secret.txt']) {
        const r = await client.request({ path: p });
        expect([p, r.status]).toEqual([p, 404]);
        await r.bytes();
      }
    } finally {
      await client.close();
    }
    s.proc.kill('SIGINT');
    expect(await s.exited).toBe(0);
    expect(s.output()).toContain('SIGINT: draining');
  });

  it('--log json writes one JSON object per line after the URL; --log none writes only the URL', async () => {
    const j = await serve(['--log', 'json']);
    const n = await serve(['--log', 'none']);
    try {
      for (const s of [j, n]) {
        const c = await trusting(s.url);
        await (await c.request({ path: '/' })).bytes();
        await c.close();
      }
      await until(() => /"event":"closed"/.test(j.output()));
      const lines = j.output().trimEnd().split('\n');
      expect(lines[0]).toBe(`${j.url}/`);
      const events = lines.slice(1).map((l) => JSON.parse(l) as { event: string; time: string; requests?: number });
      expect(events.map((e) => e.event)).toEqual(['listening', 'certificate', 'connection', 'closed']);
      expect(events[3]!.requests).toBe(1);
      expect(Number.isNaN(Date.parse(events[0]!.time))).toBe(false);
      await sleep(100);
      expect(n.output()).toBe(`${n.url}/\n`);
    } finally {
      j.proc.kill('SIGTERM');
      n.proc.kill('SIGTERM');
      await Promise.all([j.exited, n.exited]);
    }
  });

  itWith(['openssl'], 'serves TLS with ALPN h2 with --tls --cert --key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'h2sched-tls-'));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const s = await serve(['--tls', '--cert', cert, '--key', key]);
    expect(s.url).toMatch(/^https:\/\//);
    const client = await connect(s.url, { tls: { ca: readFileSync(cert), checkServerIdentity: () => undefined } });
    try {
      const r = await client.request({ path: '/css/site.css' });
      expect(r.header('content-type')).toBe('text/css; charset=utf-8');
      expect((await r.bytes()).equals(demoSite().get('/css/site.css')!.body)).toBe(true);
    } finally {
      await client.close();
      s.proc.kill('SIGTERM');
      await s.exited;
    }
  });

  itWith(['curl'], 'accepts an HTTP/1.1 Upgrade: h2c from curl --http2 and answers over HTTP/2', async () => {
    const s = await serve([]);
    try {
      const out = execFileSync('curl', ['-sS', '--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code} %{size_download}', `${s.url.replace('https:', 'http:')}/js/app.js`], { encoding: 'utf8' });
      expect(out).toBe(`2 200 ${demoSite().get('/js/app.js')!.body.length}`);
    } finally {
      s.proc.kill('SIGTERM');
      await s.exited;
    }
  });
});
