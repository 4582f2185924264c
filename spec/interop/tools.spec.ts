// Real HTTP/2 peers against h2sched: curl (h2c prior knowledge and TLS), nghttp (a page with its
// assets and an RFC 7540 priority tree), h2load (10,000 requests, zero failures). Each test skips,
// saying how to install the tool, when it is absent; CI installs them all.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { H2Event } from '../../lib/events.js';
import { demoSite } from '../../lib/node/demo.js';
import { itWith, startServer } from './helpers.js';

const run = promisify(execFile);

describe('curl', () => {
  itWith(['curl'], 'fetches the demo page over h2c with prior knowledge', async () => {
    const s = await startServer();
    try {
      const { stdout } = await run('curl', ['-sS', '--http2-prior-knowledge', '-o', '/dev/null', '-w', '%{http_version} %{http_code} %{size_download}', `${s.url}/js/app.js`]);
      expect(stdout).toBe(`2 200 ${demoSite().get('/js/app.js')!.body.length}`);
    } finally {
      await s.h2.close();
    }
  });

  itWith(['curl'], 'gets a 505 with a hint for plain HTTP/1.1', async () => {
    const s = await startServer();
    try {
      const { stdout } = await run('curl', ['-sS', '--http1.1', '-w', '\n%{http_code}', `${s.url}/`]);
      expect(stdout).toMatch(/HTTP\/2 only[\s\S]*505$/);
    } finally {
      await s.h2.close();
    }
  });

  itWith(['curl', 'openssl'], 'fetches over TLS with ALPN h2 (self-signed certificate made here)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'h2sched-tls-'));
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost']);
    const s = await startServer({ tls: { cert: readFileSync(path.join(dir, 'cert.pem')), key: readFileSync(path.join(dir, 'key.pem')) } });
    try {
      const { stdout } = await run('curl', ['-sSk', '--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code} %{size_download}', `${s.url}/`]);
      expect(stdout).toBe(`2 200 ${demoSite().get('/')!.body.length}`);
    } finally {
      await s.h2.close();
    }
  });
});

/** nghttp's "sorted by complete" table: request paths in completion order. */
function completionOrder(stdout: string): string[] {
  return stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((c) => c.length >= 7 && /^\d+$/.test(c[0]!) && c[4] === '200').map((c) => c.at(-1)!);
}

describe('nghttp', () => {
  itWith(['nghttp'], 'fetches the page with all its assets (-a) and sends its priority tree', async () => {
    const signals: H2Event[] = [];
    let done: string[] = [];
    const s = await startServer({ onEvents: (events) => signals.push(...events.filter((e) => e.type === 'PriorityUpdated' || e.type === 'RequestReceived')) });
    try {
      const { stdout } = await run('nghttp', ['-nas', `${s.url}/`]);
      done = completionOrder(stdout);
      expect(new Set(done)).toEqual(new Set(['/', '/css/site.css', '/js/vendor.js', '/js/app.js', ...[...demoSite().keys()].filter((p) => p.startsWith('/img/'))]));
    } finally {
      await s.h2.close();
    }
    // the anchors: PRIORITY frames on idle streams 3, 5, 7, 9, 11 before any request
    const anchors = signals.filter((e): e is Extract<H2Event, { type: 'PriorityUpdated' }> => e.type === 'PriorityUpdated' && e.streamId <= 11);
    expect(anchors.map((e) => e.streamId)).toEqual([3, 5, 7, 9, 11]);
    // every request hangs below one of them (HEADERS priority fields), none on the root
    const requests = signals.filter((e): e is Extract<H2Event, { type: 'RequestReceived' }> => e.type === 'RequestReceived');
    expect(requests.length).toBe(done.length);
    for (const r of requests) expect([3, 5, 7, 9, 11]).toContain(r.priority?.dependsOn);
  });

  itWith(['nghttp'], 'with nghttp\'s priority tree and constrained windows, CSS and JS finish before images under tree, not under round-robin', async () => {
    const order = async (scheduler: 'tree' | 'round-robin') => {
      const s = await startServer({ scheduler });
      try {
        const { stdout } = await run('nghttp', ['-nas', '-w', '20', '-W', '16', `${s.url}/`]); // large stream windows, a 64 KiB connection window: the scheduler arbitrates every byte
        return completionOrder(stdout);
      } finally {
        await s.h2.close();
      }
    };
    const critical = (o: string[]) => Math.max(...['/css/site.css', '/js/app.js', '/js/vendor.js'].map((p) => o.indexOf(p)));
    const firstImage = (o: string[]) => Math.min(...o.filter((p) => p.startsWith('/img/')).map((p) => o.indexOf(p)));
    const tree = await order('tree');
    const rr = await order('round-robin');
    expect(critical(tree)).toBeLessThan(firstImage(tree));
    expect(critical(rr)).toBeGreaterThan(firstImage(rr));
  });
});

describe('h2load', () => {
  itWith(['h2load'], 'serves 10,000 requests over 10 connections x 10 streams with zero failures, tripping no abuse budget', async () => {
    const errors: string[] = [];
    const s = await startServer({ onClose: (info) => { if (info.error) errors.push(info.error); } });
    try {
      const { stdout } = await run('h2load', ['-n', '10000', '-c', '10', '-m', '10', `${s.url}/css/site.css`], { maxBuffer: 1 << 20 });
      expect(stdout).toMatch(/requests: 10000 total, 10000 started, 10000 done, 10000 succeeded, 0 failed/);
    } finally {
      await s.h2.close();
    }
    expect(errors).toEqual([]); // no GOAWAY ENHANCE_YOUR_CALM (or any other error) on any connection
  }, 120000);
});
