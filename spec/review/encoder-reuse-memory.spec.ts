// Review of bb0fdd2 (lib/hpack/encoder.ts `reuse`): each connection's encoder remembers one coded
// block per frozen field list it coded without inserting, and forgets them only on a table size
// update or when the list itself is collected. Stale entries (the table moved on) are kept too.
// The static handler answers each cached file with its own frozen list (lib/node/file-cache.ts),
// so a client that asks for N distinct cached files (HEAD is enough) makes its connection keep N
// blocks (+ WeakMap entries and records) for as long as it stays open and the files stay cached.
//
// Observed: with 1000 cached files, a connection that asked for each once keeps ~200 KiB more
// than one that asked 1000 times for the same file (~350 vs ~150 KiB per connection; with the
// store of remembered blocks disabled both are ~125-155 KiB). Per encoder: ~240 KiB for 1024
// lists (0dd91bb's encoder: ~4 KiB; this one ~180 KiB of heap + ~56 KiB of buffers). Expected: what a peer can make a connection keep does not
// grow with the number of distinct responses it asks for (bounded memo, e.g. a few entries).
import http2 from 'node:http2';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { HpackEncoder } from '../../lib/hpack/encoder.js';
import type { HeaderField } from '../../lib/hpack/types.js';
import { staticHandler } from '../../lib/node/static.js';
import { startServer } from '../interop/helpers.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function used(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function head(client: http2.ClientHttp2Session, p: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = client.request({ ':path': p, ':method': 'HEAD' });
    let status = 0;
    req.on('response', (h) => { status = Number(h[':status']); });
    req.on('data', () => undefined);
    req.on('end', () => resolve(status));
    req.on('error', reject);
    req.end();
  });
}

describe('review: per-connection memory of remembered HPACK blocks (bb0fdd2)', () => {
  it('review finding, fixed: a connection that asks for 1000 distinct cached files keeps no more than one that asks for one file 1000 times', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'review-reuse-'));
    const N = 1000;
    const CONNS = 20;
    for (let i = 0; i < N; i++) writeFileSync(path.join(dir, `f${i}.txt`), 'x'.repeat(i + 1));
    const server = await startServer({ handler: staticHandler(dir) });
    /** Memory kept per open connection after each asked for N files (distinct or the same). */
    const perConnection = async (distinct: boolean): Promise<number> => {
      const clients: http2.ClientHttp2Session[] = [];
      const before = used();
      for (let c = 0; c < CONNS; c++) {
        const client = http2.connect(server.url);
        clients.push(client);
        for (let i = 0; i < N; i += 50) {
          const batch = Array.from({ length: 50 }, (_, k) => head(client, distinct ? `/f${i + k}.txt` : '/f0.txt'));
          for (const s of await Promise.all(batch)) expect(s).toBe(200);
        }
      }
      const kept = (used() - before) / CONNS;
      for (const c of clients) c.close();
      await new Promise((r) => setTimeout(r, 200));
      return kept;
    };
    try {
      await perConnection(true); // the file cache is shared: filled once, before measuring
      const same = await perConnection(false);
      const distinct = await perConnection(true);
      // observed ~200 KiB more per connection; noise between runs is ~30 KiB
      expect((distinct - same) / 1024).toBeLessThan(64);
    } finally {
      await server.h2.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120000);

  it('review finding, fixed: one encoder that coded 1024 distinct frozen response lists keeps about what it kept before the change (~4 KiB), not ~240 KiB', () => {
    const lists: Array<readonly HeaderField[]> = Array.from({ length: 1024 }, (_, i) => Object.freeze([
      Object.freeze([':status', '200'] as const), Object.freeze(['content-type', 'text/plain; charset=utf-8'] as const),
      Object.freeze(['etag', `"${(1000 + i).toString(16)}-18c2f3a4b5d"`] as const), Object.freeze(['last-modified', 'Tue, 01 Jul 2025 10:00:00 GMT'] as const),
      Object.freeze(['accept-ranges', 'bytes'] as const), Object.freeze(['content-length', String(100 + i)] as const),
    ]));
    const encoders: HpackEncoder[] = [];
    const before = used();
    for (let c = 0; c < 100; c++) {
      const e = new HpackEncoder();
      for (const l of lists) e.encodeFields(l);
      encoders.push(e);
    }
    const perEncoder = (used() - before) / encoders.length;
    // the lists stay alive (as a cached file's headers do): their remembered blocks with them
    expect(lists).toHaveLength(1024);
    expect(encoders).toHaveLength(100);
    expect(perEncoder / 1024).toBeLessThan(32);
  });
});
