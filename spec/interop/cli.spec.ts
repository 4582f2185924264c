// The `h2sched serve` command as users run it: the built CLI (dist/, made by `npm test`) in a child
// process. First line = URL with --port 0, one log line per connection, static files with content
// types, HEAD and 404s, --help, argument errors, TLS, and a graceful drain on SIGTERM / SIGINT.
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '../../lib/node/client.js';
import { demoSite } from '../../lib/node/demo.js';
import { itWith } from './helpers.js';

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
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args]);
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

function cli(args: string[]): { status: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, stdout, stderr: '' };
  } catch (e) {
    const x = e as { status: number; stdout: string; stderr: string };
    return { status: x.status, stdout: x.stdout, stderr: x.stderr };
  }
}

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
    for (const opt of ['--port', '--host', '--tls', '--cert', '--key', '--scheduler', '--idle-timeout', 'tree', 'round-robin', 'fifo', 'extensible', 'POST']) {
      expect(r.stdout).toContain(opt);
    }
  });

  it('refuses bad arguments with exit code 2 and a reason', () => {
    expect(cli(['serve', '--scheduler', 'lottery'])).toMatchObject({ status: 2, stderr: expect.stringContaining('unknown --scheduler lottery') });
    expect(cli(['serve', '--port', '70000'])).toMatchObject({ status: 2, stderr: expect.stringContaining('bad --port') });
    expect(cli(['serve', '--tls'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--tls needs --cert and --key') });
    expect(cli(['serve', '--bogus'])).toMatchObject({ status: 2 });
    expect(cli(['launch'])).toMatchObject({ status: 2, stderr: expect.stringContaining('unknown command launch') });
  });

  it('prints its URL first with --port 0, serves the demo site, logs connections, and drains on SIGTERM', async () => {
    const s = await serve([]);
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = await connect(s.url, { connection: { localSettings: { initialWindowSize: 16384 } } });
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
    const client = await connect(s.url);
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
      const out = execFileSync('curl', ['-sS', '--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code} %{size_download}', `${s.url}/js/app.js`], { encoding: 'utf8' });
      expect(out).toBe(`2 200 ${demoSite().get('/js/app.js')!.body.length}`);
    } finally {
      s.proc.kill('SIGTERM');
      await s.exited;
    }
  });
});
