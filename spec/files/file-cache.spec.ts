// The open-file cache: a cached path costs no system call until `validMs` passed; then one stat
// keeps it or replaces it; entries and memory stay under their bounds; no descriptor outlives
// both its entry and the sources reading from it; nothing outside the root is ever found.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type CachedFile, FileCache } from '../../lib/node/file-cache.js';

let root: string;
let outside: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'h2sched-cache-'));
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'h2sched-outside-'));
  fs.writeFileSync(path.join(root, 'small.txt'), 'hello');
  fs.writeFileSync(path.join(root, 'big.bin'), Buffer.alloc(300_000, 7));
  fs.mkdirSync(path.join(root, 'dir'));
  fs.writeFileSync(path.join(outside, 'secret'), 'no');
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

const at = (p: string) => path.join(root, p);
const fdCount = () => fs.readdirSync('/proc/self/fd').length;
async function file(cache: FileCache, p: string): Promise<CachedFile> {
  const e = await cache.lookup(at(p));
  if (e?.kind !== 'file') throw new Error(`${p} is not a cached file`);
  return e;
}

describe('FileCache', () => {
  it('small files are held in memory (no descriptor), larger ones keep one descriptor; both carry validators and a type', async () => {
    const cache = new FileCache(root, { memoryFileMax: 1000 });
    const small = await file(cache, 'small.txt');
    expect(small.body?.toString()).toBe('hello');
    expect(small.contentType).toBe('text/plain; charset=utf-8');
    expect(small.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/); // strong: usable with If-Range
    expect(new Date(small.lastModified).getTime()).toBe(Math.floor(fs.statSync(at('small.txt')).mtimeMs / 1000) * 1000);
    const big = await file(cache, 'big.bin');
    expect(big.body).toBeUndefined();
    expect(cache.stats()).toMatchObject({ entries: 2, openFiles: 1, memory: 5 });
    expect((await cache.lookup(at('dir')))?.kind).toBe('directory');
    cache.close();
  });

  it('a cached path is answered without a system call until validMs, then one stat keeps it or replaces it', async () => {
    const cache = new FileCache(root, { validMs: 400 });
    const first = await file(cache, 'small.txt');
    const stat = jest.spyOn(fs.promises, 'stat');
    expect(cache.peek(at('small.txt'))).toBe(first);
    expect(await cache.lookup(at('small.txt'))).toBe(first);
    expect(stat).not.toHaveBeenCalled();
    await new Promise((r) => setTimeout(r, 450));
    expect(cache.peek(at('small.txt'))).toBeUndefined(); // stale: lookup checks it
    expect(await cache.lookup(at('small.txt'))).toBe(first); // unchanged: the same entry
    expect(stat).toHaveBeenCalledTimes(1);
    fs.writeFileSync(at('small.txt'), 'changed!');
    fs.utimesSync(at('small.txt'), new Date(), new Date(Date.now() + 5000));
    await new Promise((r) => setTimeout(r, 450));
    const next = await file(cache, 'small.txt');
    expect(next).not.toBe(first);
    expect(next.body?.toString()).toBe('changed!');
    expect(next.etag).not.toBe(first.etag);
    stat.mockRestore();
    cache.close();
  });

  it('a path asked for past half its validMs is checked again in the background: in use, it never goes stale, and a change is picked up without a request waiting', async () => {
    const cache = new FileCache(root, { validMs: 1000 });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const first = await file(cache, 'small.txt');
    const stat = jest.spyOn(fs.promises, 'stat');
    try {
      await sleep(600); // past half: the hit starts one stat
      expect(cache.peek(at('small.txt'))).toBe(first);
      expect(cache.peek(at('small.txt'))).toBe(first); // one check at a time
      expect(stat).toHaveBeenCalledTimes(1);
      await sleep(100);
      await sleep(500); // 1200 ms after the load: stale without the check
      expect(cache.peek(at('small.txt'))).toBe(first); // (and past half again: another check)
      expect(cache.stats().misses).toBe(1); // background checks are not misses
      await sleep(100); // that check is done before the file changes
      fs.writeFileSync(at('small.txt'), 'changed!');
      fs.utimesSync(at('small.txt'), new Date(), new Date(Date.now() + 5000));
      await sleep(500); // past half again: this hit serves the entry it has, and checks
      expect(cache.peek(at('small.txt'))).toBe(first);
      await sleep(100);
      const next = cache.peek(at('small.txt'));
      expect(next).not.toBe(first);
      expect((next as CachedFile).body?.toString()).toBe('changed!');
    } finally {
      stat.mockRestore();
      cache.close();
    }
  });

  it('concurrent lookups of a path share one load', async () => {
    const cache = new FileCache(root);
    const before = fdCount();
    const all = await Promise.all(Array.from({ length: 20 }, () => cache.lookup(at('big.bin'))));
    expect(new Set(all).size).toBe(1);
    expect(cache.stats()).toMatchObject({ misses: 1, openFiles: 1 });
    expect(fdCount()).toBe(before + 1);
    cache.close();
  });

  it('stays under its entry and memory bounds, evicting the least recently used', async () => {
    for (let i = 0; i < 30; i++) fs.writeFileSync(at(`f${i}.txt`), Buffer.alloc(1000, i));
    const cache = new FileCache(root, { entries: 10, memory: 5000 });
    for (let i = 0; i < 30; i++) {
      await cache.lookup(at(`f${i}.txt`));
      const s = cache.stats();
      expect(s.entries).toBeLessThanOrEqual(10);
      expect(s.memory).toBeLessThanOrEqual(5000);
    }
    expect(cache.peek(at('f29.txt'))).toBeDefined();
    expect(cache.peek(at('f0.txt'))).toBeUndefined();
    cache.close();
    expect(cache.stats().memory).toBe(0);
  });

  it('an evicted descriptor stays open while a source reads from it, and closes when the last one is closed', async () => {
    for (let i = 0; i < 5; i++) fs.writeFileSync(at(`b${i}.bin`), Buffer.alloc(2000, i));
    const cache = new FileCache(root, { entries: 2, memoryFileMax: 100 });
    const before = fdCount();
    const b0 = await file(cache, 'b0.bin');
    const s1 = b0.source(0, 2000);
    const s2 = b0.source(10, 100);
    for (let i = 1; i < 5; i++) await cache.lookup(at(`b${i}.bin`)); // b0 is evicted
    expect(cache.peek(at('b0.bin'))).toBeUndefined();
    expect(cache.stats().openFiles).toBe(3); // two cached + b0 held by its sources
    s1.close();
    expect(cache.stats().openFiles).toBe(3);
    s2.close();
    s2.close(); // idempotent: released once
    expect(cache.stats().openFiles).toBe(2);
    cache.close();
    expect(cache.stats().openFiles).toBe(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(fdCount()).toBeLessThanOrEqual(before);
  });

  it('an entry evicted before anyone read from it is no longer usable (its descriptor is closed): a new lookup opens it again', async () => {
    fs.writeFileSync(at('c.bin'), Buffer.alloc(2000, 3));
    const cache = new FileCache(root, { entries: 1, memoryFileMax: 100 });
    const big = await file(cache, 'big.bin');
    expect(big.usable).toBe(true);
    await file(cache, 'c.bin'); // evicts big.bin, which nobody reads
    expect(big.usable).toBe(false);
    expect(() => big.source(0, 10)).toThrow(/look it up again/);
    const again = await file(cache, 'big.bin');
    expect(again.usable).toBe(true);
    again.source(0, 10).close();
    cache.close();
  });

  it('finds nothing outside the root, through symlinks or dot-dot, and nothing that is not a file or directory', async () => {
    fs.symlinkSync(path.join(outside, 'secret'), at('link-out'));
    fs.symlinkSync(outside, at('dir-out'));
    fs.symlinkSync(at('small.txt'), at('link-in'));
    const cache = new FileCache(root);
    expect(await cache.lookup(at('link-out'))).toBeUndefined();
    expect(await cache.lookup(at('dir-out/secret'))).toBeUndefined();
    expect(await cache.lookup(path.join(root, '..', path.basename(outside), 'secret'))).toBeUndefined();
    expect(await cache.lookup(at('missing'))).toBeUndefined();
    expect(await cache.lookup('/dev/null')).toBeUndefined();
    expect((await file(cache, 'link-in')).body?.toString()).toBe('hello');
    cache.close();
  });

  it('after close() nothing is found and every descriptor is closed', async () => {
    const cache = new FileCache(root, { memoryFileMax: 0 });
    await file(cache, 'big.bin');
    await file(cache, 'small.txt');
    expect(cache.stats().openFiles).toBe(2);
    cache.close();
    expect(cache.stats().openFiles).toBe(0);
    expect(await cache.lookup(at('small.txt'))).toBeUndefined();
  });
});

describe('FileCache: found by the review (issue 13)', () => {
  it('1. a directory on the way swapped for a symlink out of the root between realpath and open is caught on the descriptor', async () => {
    fs.symlinkSync(outside, at('swapped'));
    const cache = new FileCache(root);
    // realpath saw a directory inside the root; by the time of open() it is a symlink outside
    const real = jest.spyOn(fs.promises, 'realpath').mockImplementation(async (p) => (String(p).includes('swapped') ? path.join(root, 'swapped', 'secret') : String(p)));
    try {
      expect(await cache.lookup(at('swapped/secret'))).toBeUndefined();
      expect(cache.stats().openFiles).toBe(0);
    } finally {
      real.mockRestore();
      cache.close();
    }
  });

  it('1b. a last component swapped for a symlink since realpath is refused (O_NOFOLLOW)', async () => {
    fs.symlinkSync(path.join(outside, 'secret'), at('last'));
    const cache = new FileCache(root);
    const real = jest.spyOn(fs.promises, 'realpath').mockImplementation(async (p) => String(p));
    try {
      expect(await cache.lookup(at('last'))).toBeUndefined();
    } finally {
      real.mockRestore();
      cache.close();
    }
  });

  it('9. running out of descriptors is an error (→ 503), not "not found"', async () => {
    const cache = new FileCache(root, { memoryFileMax: 0 });
    const real = jest.spyOn(fs.promises, 'realpath').mockImplementation(async () => {
      throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
    });
    try {
      await expect(cache.lookup(at('big.bin'))).rejects.toMatchObject({ code: 'EMFILE' });
    } finally {
      real.mockRestore();
    }
    expect((await cache.lookup(at('big.bin')))?.kind).toBe('file'); // and it recovers
    cache.close();
  });

  it('14. a file held in memory gives a pull source too', async () => {
    const cache = new FileCache(root);
    const small = await file(cache, 'small.txt');
    const src = small.source(1, 3);
    expect(src.remaining).toBe(3);
    expect(Buffer.from(src.read(10)).toString()).toBe('ell');
    cache.close();
  });
});

describe('FileCache: revalidation after a swap (review of issue 13, finding 1)', () => {
  it('a cached file replaced by a symlink out of the root is not found once revalidated', async () => {
    fs.writeFileSync(at('swap.txt'), 'inside');
    const cache = new FileCache(root, { validMs: 0 });
    expect((await file(cache, 'swap.txt')).body?.toString()).toBe('inside');
    fs.rmSync(at('swap.txt'));
    fs.symlinkSync(path.join(outside, 'secret'), at('swap.txt'));
    expect(await cache.lookup(at('swap.txt'))).toBeUndefined();
    cache.close();
  });
});
