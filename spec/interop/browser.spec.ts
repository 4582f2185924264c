// A real browser: headless Chromium loads the demo site from h2sched over TLS with ALPN h2 (a
// self-signed certificate made here). The page and every asset must arrive over HTTP/2 (the
// server speaks nothing else: TLS without ALPN h2 gets a 505), the page must render (a screenshot
// that is not blank) and run its scripts; the priority signals Chromium sent are recorded.
// Then the CLI as `npm start` runs it: Chromium opens the URL it printed, and a plain http://
// navigation to the same port lands on the https:// page.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import type { H2Event } from '../../lib/events.js';
import { demoSite } from '../../lib/node/demo.js';
import type { Handler } from '../../lib/node/session.js';
import { staticHandler } from '../../lib/node/static.js';
import { child, itWith, startServer } from './helpers.js';

const run = promisify(execFile);

const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--ignore-certificate-errors', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update', '--disable-default-apps', '--disable-sync',
  '--disable-extensions', '--no-first-run', '--no-default-browser-check', '--metrics-recording-only',
  '--window-size=1024,900',
];

interface Seen {
  path: string;
  streamId: number;
  priorityHeader: string | undefined;
  fields: string;
}

describe('headless Chromium', () => {
  itWith(['chromium', 'openssl'], 'loads the demo site over TLS + ALPN h2: every asset over HTTP/2, rendered, scripts run; priority signals recorded', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'h2sched-chromium-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const seen: Seen[] = [];
    const frames: string[] = [];
    const serveStatic = staticHandler(undefined);
    const handler: Handler = (req, res) => {
      const f = req.priorityFields;
      seen.push({
        path: req.path, streamId: req.streamId, priorityHeader: req.header('priority'),
        fields: f ? `dependsOn=${f.dependsOn} weight=${f.weight}${f.exclusive ? ' exclusive' : ''}` : '-',
      });
      return serveStatic(req, res);
    };
    const onEvents = (events: readonly H2Event[]) => {
      for (const e of events) {
        if (e.type === 'PriorityUpdateReceived') frames.push(`PRIORITY_UPDATE stream ${e.prioritizedStreamId}: ${e.fieldValue}`);
        if (e.type === 'RemoteSettingsChanged') frames.push(`SETTINGS ${[...e.changedSettings.values()].map((c) => `${c.setting}=${c.newValue}`).join(' ')}`);
      }
    };
    const errors: string[] = [];
    const s = await startServer({ handler, onEvents, onClose: (info) => { if (info.error) errors.push(info.error); }, tls: { cert: readFileSync(path.join(dir, 'cert.pem')), key: readFileSync(path.join(dir, 'key.pem')) } });
    const shot = path.join(dir, 'shot.png');
    // CSS, 2 scripts, 2 fonts, 6 images (the page and its info request are not in the waterfall)
    const assetCount = [...demoSite().keys()].filter((p) => p !== '/' && p !== '/index.html').length;
    try {
      await run('chromium', [...CHROMIUM_FLAGS, `--user-data-dir=${path.join(dir, 'p1')}`, `--screenshot=${shot}`, `${s.url}/`], { timeout: 60000 });
      const dom = await run('chromium', [...CHROMIUM_FLAGS, `--user-data-dir=${path.join(dir, 'p2')}`, '--virtual-time-budget=5000', '--dump-dom', `${s.url}/`], { timeout: 60000, maxBuffer: 1 << 24 });
      expect(dom.stdout).toMatch(/<body [^>]*data-loaded="yes"/); // app.js ran after vendor.js
      // the page says what it is: its own protocol, the scheduler, a waterfall of its assets
      expect(dom.stdout).toMatch(/<body [^>]*data-protocol="h2"/);
      expect(dom.stdout).toMatch(/<body [^>]*data-scheduler="tree"/);
      expect(dom.stdout).toMatch(/<b id="protocol">HTTP\/2 \(h2\)<\/b>/);
      const bars = /data-bars="(\d+)"/.exec(dom.stdout);
      expect(Number(bars?.[1])).toBeGreaterThanOrEqual(assetCount);
      expect((dom.stdout.match(/class="bar"/g) ?? []).length).toBe(Number(bars?.[1]));
    } finally {
      await s.h2.close();
    }

    expect(errors).toEqual([]); // two page loads trip no abuse budget
    // every asset the page references arrived, over HTTP/2 (nothing else is served)
    const assets = [...demoSite().keys()].filter((p) => p !== '/index.html');
    for (const p of assets) expect(seen.map((x) => x.path)).toContain(p);

    // rendered: the header's blue at the top, the page's light background below, many colours in the images
    const png = PNG.sync.read(readFileSync(shot));
    const at = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
    expect(png.width).toBeGreaterThan(500);
    const [r, g, b] = at(5, 5);
    expect([r, g, b].map((c, i) => Math.abs(c! - [0x1d, 0x3f, 0x8c][i]!)).every((d) => d <= 8)).toBe(true);
    const colours = new Set<number>();
    for (let i = 0; i < png.data.length; i += 4 * 7) colours.add((png.data[i]! << 16) | (png.data[i + 1]! << 8) | png.data[i + 2]!);
    expect(colours.size).toBeGreaterThan(1000);

    const table = seen.map((x) => `  stream ${String(x.streamId).padStart(3)}  ${x.path.padEnd(26)} HEADERS priority: ${x.fields.padEnd(36)} priority header: ${x.priorityHeader ?? '-'}`);
    console.log(`Chromium's priority signals (two page loads):\n${table.join('\n')}\n${frames.map((f) => `  ${f}`).join('\n')}`);
    // Chromium sends both schemes: RFC 7540 fields on HEADERS and, for non-default urgency, the RFC 9218 header
    expect(seen.some((x) => x.fields !== '-')).toBe(true);
  }, 180000);

  itWith(['chromium'], 'opens the URL `h2sched serve` prints (TLS by default, its development certificate) over h2; http:// on the same port lands there too (308)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'h2sched-chromium-'));
    // as npm start runs it (node dist/node/cli.js serve), on a free port
    const s = await child(path.resolve('dist/node/cli.js'), ['serve', '--port', '0']);
    try {
      expect(s.printed).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
      const dump = async (url: string, profile: string, extra: string[] = []) => (await run('chromium', [...CHROMIUM_FLAGS, ...extra, `--user-data-dir=${path.join(dir, profile)}`, '--virtual-time-budget=5000', '--dump-dom', url], { timeout: 60000, maxBuffer: 1 << 24 })).stdout;
      const direct = await dump(s.printed, 'p1');
      expect(direct).toMatch(/<body [^>]*data-protocol="h2"/);
      expect(direct).toMatch(/<body [^>]*data-loaded="yes"/);
      // Chromium speaks HTTP/2 only over TLS, so h2 here means it ended on https://; its net log
      // shows that our 308 took it there (not an upgrade of its own)
      const netlog = path.join(dir, 'netlog.json');
      const redirected = await dump(`http://127.0.0.1:${s.port}/`, 'p2', [`--log-net-log=${netlog}`]);
      expect(redirected).toMatch(/<body [^>]*data-protocol="h2"/);
      expect(readFileSync(netlog, 'utf8')).toContain('"HTTP/1.1 308 Permanent Redirect"');
      expect(s.output()).toMatch(/connection \d+ from 127\.0\.0\.1/);
    } finally {
      s.proc.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    }
  }, 180000);

  itWith(['chromium', 'certutil'], 'trusting the development certificate as the README says (certutil into the NSS store) lets Chromium open the URL without --ignore-certificate-errors; untrusted, it refuses', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'h2sched-chromium-'));
    const cache = path.join(dir, 'cache');
    const s = await child(path.resolve('dist/node/cli.js'), ['serve', '--port', '0'], { XDG_CACHE_HOME: cache });
    const strict = CHROMIUM_FLAGS.filter((f) => f !== '--ignore-certificate-errors');
    const open = async (home: string) => {
      const r = await run('chromium', [...strict, `--user-data-dir=${path.join(home, 'profile')}`, '--virtual-time-budget=5000', '--dump-dom', s.printed], { timeout: 60000, maxBuffer: 1 << 24, env: { ...process.env, HOME: home } });
      return r.stdout + r.stderr;
    };
    try {
      const trusting = path.join(dir, 'trusting');
      const nssdb = path.join(trusting, '.pki', 'nssdb');
      mkdirSync(nssdb, { recursive: true });
      execFileSync('certutil', ['-d', `sql:${nssdb}`, '-N', '--empty-password']);
      execFileSync('certutil', ['-d', `sql:${nssdb}`, '-A', '-t', 'P,,', '-n', 'h2sched-localhost', '-i', path.join(cache, 'h2sched', 'localhost-cert.pem')]);
      expect(await open(trusting)).toMatch(/<body [^>]*data-protocol="h2"/);
      const untrusting = path.join(dir, 'untrusting');
      mkdirSync(untrusting);
      const refused = await open(untrusting);
      expect(refused).not.toMatch(/data-protocol="h2"/);
      expect(refused).toMatch(/ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      s.proc.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    }
  }, 180000);
});
