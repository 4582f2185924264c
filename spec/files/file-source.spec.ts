// FileSource on real files: the octets handed over are the file's, in order, whatever the read
// sizes, read-ahead requests and timing; read-ahead stays under its cap; the descriptor is never
// released while a read is in flight; a file that shrinks fails the body instead of ending it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { UsageError } from '../../lib/errors.js';
import { filePrefetchHeld, FileSource, type FileReadMode, setFilePrefetchLimit } from '../../lib/node/file-source.js';
import type { PullSourceListener } from '../../lib/sender/source.js';

let dir: string;
let file: string;
let content: Buffer;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h2sched-fs-'));
  file = path.join(dir, 'data.bin');
  content = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7 + (i >> 8)) % 256));
  fs.writeFileSync(file, content);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const tick = () => new Promise((r) => setImmediate(r));
async function until(ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 1));
}

/** Drives a source the way the sender does: prefetch, read when something is available. */
async function drain(src: FileSource, reads: number[], prefetches: number[]): Promise<Buffer> {
  const out: Buffer[] = [];
  let error: Error | undefined;
  const listener: PullSourceListener = { available: () => undefined, error: (e) => { error = e; } };
  src.start(listener);
  let i = 0;
  let idle = 0;
  while (src.remaining > 0) {
    if (error) throw error;
    src.prefetch(prefetches[i % prefetches.length]!);
    if (src.available > 0) {
      out.push(Buffer.from(src.read(Math.min(reads[i % reads.length]!, src.available))));
      idle = 0;
    } else if (++idle > 10000) throw new Error('the source never made progress');
    i++;
    if (i % 3 === 0) await tick();
  }
  if (error) throw error; // a failed source is closed: nothing remains, but the body is short
  src.close();
  return Buffer.concat(out);
}

describe('FileSource', () => {
  it('hands over exactly the range\'s octets, in order, in every mode, whatever the read sizes and read-ahead asked', async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom<FileReadMode>('prefetch', 'async', 'sync'),
      fc.integer({ min: 0, max: 299_999 }), fc.integer({ min: 0, max: 300_000 }),
      fc.array(fc.integer({ min: 1, max: 40_000 }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.integer({ min: 0, max: 200_000 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 1024, max: 70_000 }),
      async (mode, start, len, reads, prefetches, chunkSize) => {
        const length = Math.min(len, content.length - start);
        const fd = fs.openSync(file, 'r');
        let closed = 0;
        const src = new FileSource(fd, start, length, { mode, chunkSize, onClose: () => closed++ });
        try {
          const got = await drain(src, reads, prefetches.map((p) => p + 1));
          expect(got.equals(content.subarray(start, start + length))).toBe(true);
        } finally {
          // the descriptor is the source's until onClose (a superseded read may be in flight)
          src.close();
          await until(() => closed > 0);
          fs.closeSync(fd);
        }
        expect(closed).toBe(1);
      },
    ), { numRuns: 120 });
  }, 60_000);

  it('reads ahead no further than its cap (plus one read chunk), and only when asked', async () => {
    const fd = fs.openSync(file, 'r');
    try {
      let released = false;
      const src = new FileSource(fd, 0, content.length, { maxPrefetch: 40_000, chunkSize: 16_384, onClose: () => { released = true; } });
      src.start({ available: () => undefined, error: () => undefined });
      for (let i = 0; i < 20; i++) await tick();
      expect(src.buffered).toBe(0); // nothing asked yet
      src.prefetch(1_000_000);
      await until(() => src.buffered >= 40_000);
      await new Promise((r) => setTimeout(r, 20)); // time to read further, were it to
      expect(src.buffered).toBeGreaterThanOrEqual(40_000);
      expect(src.buffered).toBeLessThan(40_000 + 16_384);
      src.close();
      await until(() => released);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('all sources of the process together read ahead at most the process cap (plus a frame each), and give it back when closed', async () => {
    setFilePrefetchLimit(100_000);
    const fd = fs.openSync(file, 'r');
    let released = 0;
    const sources = Array.from({ length: 10 }, () => new FileSource(fd, 0, content.length, { mode: 'async', onClose: () => released++ }));
    try {
      expect(filePrefetchHeld()).toBe(0);
      for (const src of sources) {
        src.start({ available: () => undefined, error: () => undefined });
        src.prefetch(65_536);
      }
      await until(() => sources.every((x) => x.buffered > 0)); // each may still read a frame: none starves
      await new Promise((r) => setTimeout(r, 30));
      expect(filePrefetchHeld()).toBeLessThanOrEqual(100_000 + 10 * 16_384 + 65_536);
      expect(filePrefetchHeld()).toBe(sources.reduce((n, x) => n + x.buffered, 0));
    } finally {
      for (const src of sources) src.close();
      await until(() => released === 10);
      fs.closeSync(fd);
      setFilePrefetchLimit(64 * 1024 * 1024);
    }
    expect(filePrefetchHeld()).toBe(0);
  });

  it('tells its listener when octets arrive after it had none (async), and hands memory nobody rewrites', async () => {
    const fd = fs.openSync(file, 'r');
    try {
      let calls = 0;
      let released = false;
      const src = new FileSource(fd, 0, 100_000, { mode: 'async', onClose: () => { released = true; } });
      src.start({ available: () => calls++, error: () => undefined });
      expect(src.available).toBe(0);
      src.prefetch(50_000);
      while (src.available === 0) await tick();
      expect(calls).toBe(1);
      const first = src.read(1000);
      const copy = Buffer.from(first);
      src.prefetch(200_000);
      for (let i = 0; i < 30; i++) await tick();
      while (src.available > 0) src.read(16_384);
      expect(Buffer.from(first).equals(copy)).toBe(true);
      src.close();
      await until(() => released);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('keeps its descriptor until a read in flight completes, then releases it once', async () => {
    const fd = fs.openSync(file, 'r');
    try {
      let released = 0;
      const src = new FileSource(fd, 0, content.length, { mode: 'async', onClose: () => released++ });
      src.start({ available: () => undefined, error: () => undefined });
      src.prefetch(65_536); // a read is now in flight
      src.close();
      expect(released).toBe(0);
      await until(() => released > 0);
      expect(released).toBe(1);
      src.close();
      expect(released).toBe(1);
      expect(src.remaining).toBe(0);
      expect(src.available).toBe(0);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('a file that shrank while being sent fails the body (listener error, or a throw from read) instead of ending it short', async () => {
    const small = path.join(dir, 'shrinks.bin');
    fs.writeFileSync(small, content.subarray(0, 100_000));
    for (const mode of ['async', 'sync'] as const) {
      const fd = fs.openSync(small, 'r');
      try {
        const src = new FileSource(fd, 0, 200_000, { mode }); // says 200,000: the file has 100,000
        const failed = drain(src, [16_384], [80_000]).then(() => undefined, (e: Error) => e);
        await expect(failed).resolves.toBeInstanceOf(Error);
        expect(String((await failed)!.message)).toMatch(/ended .* early/);
      } finally {
        fs.closeSync(fd);
      }
    }
  });
});

describe('FileSource: found by the review (issue 13)', () => {
  it('5. a range that is not whole numbers is a UsageError at construction', () => {
    expect(() => new FileSource(3, 10 / 3, 5)).toThrow(UsageError);
    expect(() => new FileSource(3, 0, -1)).toThrow(UsageError);
    expect(() => new FileSource(-1, 0, 1)).toThrow(UsageError);
  });

  it('5b. a read refused at the call gives its budget back and releases the descriptor once closed', async () => {
    let released = 0;
    const io = { read: () => { throw new Error('EBADF'); }, readSync: () => 0 };
    const src = new FileSource(3, 0, 100_000, { mode: 'async', io, onClose: () => released++ });
    src.start({ available: () => undefined, error: () => undefined });
    expect(() => src.prefetch(65_536)).toThrow('EBADF');
    expect(filePrefetchHeld()).toBe(0);
    src.close();
    expect(released).toBe(1);
  });

  it('3. a read is never larger than a chunk, whatever the sender may send', () => {
    const fd = fs.openSync(file, 'r');
    try {
      const src = new FileSource(fd, 0, content.length, { mode: 'sync', chunkSize: 65_536 });
      src.start({ available: () => undefined, error: () => undefined });
      expect(src.read(16_777_215).length).toBe(65_536);
      src.close();
    } finally {
      fs.closeSync(fd);
    }
  });
});
