// Review of d6d1b5f / bb0fdd2: attacks on the cheaper outbound header blocks that held. Kept as
// regression tests: remembered blocks against a real peer's decoder (nghttp2, through a node:http2
// client that keeps changing SETTINGS_HEADER_TABLE_SIZE), against an encoder that never reuses,
// across the scratch buffer's sizes, and prepared lists shared by connections with other options.
import fc from 'fast-check';
import http2 from 'node:http2';
import { prepareOutbound } from '../../lib/headers.js';
import { UsageError } from '../../lib/errors.js';
import { HpackDecoder } from '../../lib/hpack/decoder.js';
import { HpackEncoder } from '../../lib/hpack/encoder.js';
import type { HeaderField, HeaderInput } from '../../lib/hpack/types.js';
import { startServer } from '../interop/helpers.js';

const freeze = (l: Array<[string, string]>): readonly HeaderInput[] => Object.freeze(l.map((p) => Object.freeze(p)));

describe('review (held): remembered HPACK blocks on the wire', () => {
  const LISTS: Array<readonly HeaderInput[]> = [
    freeze([['content-type', 'text/plain'], ['etag', '"1-a"'], ['x-one', 'alpha'], ['content-length', '1']]),
    freeze([['content-type', 'text/html; charset=utf-8'], ['x-two', 'b'.repeat(40)], ['cache-control', 'no-cache'], ['content-length', '1']]),
    // 20000 octets: a block above MAX_FRAME_SIZE (HEADERS + CONTINUATION), never indexed (> 3/4 of the table)
    freeze([['x-big', 'z'.repeat(20000)], ['x-three', 'gamma'], ['content-length', '1']]),
    freeze([['set-cookie', 'sid=abcdef0123456789abcdef; Path=/'], ['x-one', 'alpha'], ['vary', 'accept-encoding']]),
    freeze([['x-mid', 'm'.repeat(2000)], ['x-mid2', 'n'.repeat(1000)], ['x-one', 'beta']]),
    freeze([]),
  ];

  function get(client: http2.ClientHttp2Session, p: string): Promise<http2.IncomingHttpHeaders> {
    return new Promise((resolve, reject) => {
      const req = client.request({ ':path': p });
      let h: http2.IncomingHttpHeaders = {};
      req.on('response', (x) => { h = x; });
      req.on('data', () => undefined);
      req.on('end', () => resolve(h));
      req.on('error', reject);
      req.end();
    });
  }

  it('a node:http2 client changing SETTINGS_HEADER_TABLE_SIZE at random (0, shrink then grow back, 8192) decodes every response of frozen and fresh lists, concurrent streams and CONTINUATION included', async () => {
    const server = await startServer({
      handler: (req, res) => {
        const u = new URL(req.path, 'http://x');
        const list = LISTS[Number(u.searchParams.get('i'))]!;
        res.respond(Number(u.searchParams.get('s')), u.searchParams.get('f') === '1' ? list.map((p) => [p[0], p[1]] as [string, string]) : list);
        res.end('x');
      },
    });
    try {
      const step = fc.oneof(
        { arbitrary: fc.record({ k: fc.constant('req' as const), i: fc.nat(LISTS.length - 1), s: fc.constantFrom(200, 200, 404), f: fc.boolean(), n: fc.integer({ min: 1, max: 3 }) }), weight: 6 },
        { arbitrary: fc.record({ k: fc.constant('size' as const), size: fc.constantFrom(0, 0, 64, 100, 256, 4096, 4096, 8192) }), weight: 2 },
      );
      await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 25 }), async (steps) => {
        const client = http2.connect(server.url);
        const errors: unknown[] = [];
        client.on('error', (e) => errors.push(e));
        try {
          for (const st of steps) {
            if (st.k === 'size') {
              await new Promise<void>((r) => client.settings({ headerTableSize: st.size }, () => r()));
              continue;
            }
            const rs = await Promise.all(Array.from({ length: st.n }, () => get(client, `/r?i=${st.i}&s=${st.s}&f=${st.f ? 1 : 0}`)));
            for (const h of rs) {
              expect(h[':status']).toBe(st.s);
              for (const [n, v] of LISTS[st.i]!) {
                const got = h[n as string];
                expect([n, Array.isArray(got) ? got.join('|') : got]).toEqual([n, v]);
              }
            }
          }
          expect(errors).toEqual([]);
        } finally {
          client.close();
        }
      }), { numRuns: 60 });
    } finally {
      await server.h2.close();
    }
  }, 120000);

  it('an encoder given frozen lists (remembered blocks) writes the octets of an encoder given unfrozen copies (never remembered), through any size changes', () => {
    const name = fc.constantFrom('content-type', 'etag', 'x-a', 'x-b', 'accept-ranges', 'content-length', 'authorization', 'cookie', 'set-cookie', ':path', 'x-c');
    const value = fc.oneof(
      fc.constantFrom('', 'a', 'text/plain', 'bytes', '"6-abc"', 'v'.repeat(40), 'session=s', 'z'.repeat(3000)),
      fc.uint8Array({ maxLength: 90 }).map((a) => Buffer.from(a).toString('latin1')),
    );
    const field = fc.oneof({ arbitrary: fc.tuple(name, value), weight: 5 }, { arbitrary: fc.tuple(name, value, fc.boolean()), weight: 1 });
    const list = fc.array(field, { maxLength: 7 });
    const step = fc.oneof(
      { arbitrary: fc.record({ k: fc.constant('frozen' as const), i: fc.nat(4) }), weight: 8 },
      { arbitrary: fc.record({ k: fc.constant('fresh' as const), l: list }), weight: 2 },
      { arbitrary: fc.record({ k: fc.constant('size' as const), size: fc.constantFrom(0, 1, 33, 64, 100, 256, 1000, 4096, 8192, 65536) }), weight: 2 },
    );
    let reused = 0;
    fc.assert(fc.property(fc.array(list, { minLength: 5, maxLength: 5 }), fc.constantFrom('auto', 'always', 'never'), fc.constantFrom(4096, 256, 0, 65536), fc.array(step, { maxLength: 60 }), (lists, huffman, cap, steps) => {
      const frozen: Array<readonly HeaderField[]> = lists.map((l) => Object.freeze(l.map((f) => Object.freeze(f))));
      const a = new HpackEncoder({ huffman: huffman as 'auto', maxTableSize: cap });
      const b = new HpackEncoder({ huffman: huffman as 'auto', maxTableSize: cap });
      const peer = new HpackDecoder({ maxHeaderListSize: 1 << 24 });
      const last = new Map<number, Uint8Array>();
      for (const st of steps) {
        if (st.k === 'size') {
          a.setMaxTableSize(st.size);
          b.setMaxTableSize(st.size);
          peer.setMaxTableSize(st.size);
          continue;
        }
        const l = st.k === 'frozen' ? frozen[st.i]! : st.l;
        const x = a.encodeFields(l);
        if (st.k === 'frozen') {
          if (last.get(st.i) === x) reused++;
          last.set(st.i, x);
        }
        expect(Buffer.from(x).toString('hex')).toBe(Buffer.from(b.encodeFields(l.map((f) => [...f] as unknown as HeaderField))).toString('hex'));
        expect(peer.decode(x).map(([n, v]) => [n, v])).toEqual(l.map(([n, v]) => [n, v]));
        expect(peer.dynamicEntries()).toEqual(a.dynamicEntries());
      }
    }), { numRuns: 1500 });
    expect(reused).toBeGreaterThan(200); // the runs did reuse blocks (about 500 times)
  });

  it('shrink to 0 then grow back to 4096 before the next block: both updates are sent (RFC 7541 §4.2) and the block remembered before is not reused', () => {
    const enc = new HpackEncoder();
    const peer = new HpackDecoder();
    const list: readonly HeaderField[] = Object.freeze([Object.freeze(['x-a', 'v'] as const), Object.freeze(['x-b', 'w'] as const)]);
    peer.decode(enc.encodeFields(list)); // inserts both
    const remembered = enc.encodeFields(list); // both indexed: remembered
    expect(enc.encodeFields(list)).toBe(remembered);
    enc.setMaxTableSize(0);
    enc.setMaxTableSize(4096);
    peer.setMaxTableSize(0);
    peer.setMaxTableSize(4096);
    const after = enc.encodeFields(list);
    expect(after).not.toBe(remembered);
    expect(Array.from(after.subarray(0, 4))).toEqual([0x20, 0x3f, 0xe1, 0x1f]); // size 0, then size 4096
    expect(peer.decode(after)).toEqual([['x-a', 'v'], ['x-b', 'w']]);
    expect(peer.dynamicEntries()).toEqual(enc.dynamicEntries());
    // SETTINGS_HEADER_TABLE_SIZE 0: nothing indexed from then on, and the blocks still decode
    enc.setMaxTableSize(0);
    peer.setMaxTableSize(0);
    for (let i = 0; i < 3; i++) expect(peer.decode(enc.encodeFields(list))).toEqual([['x-a', 'v'], ['x-b', 'w']]);
    expect(enc.tableEntries).toBe(0);
  });

  it('blocks above the 4 KiB and 64 KiB scratch sizes: whole, and no block handed out earlier changes when later ones are written', () => {
    const enc = new HpackEncoder();
    const peer = new HpackDecoder({ maxHeaderListSize: 1 << 24 });
    const big = Object.freeze([Object.freeze(['x-huge', 'h'.repeat(100000)] as const), Object.freeze(['x-small', 's'] as const)]) as readonly HeaderField[];
    const mid = Object.freeze([Object.freeze(['x-mid', 'm'.repeat(30000)] as const)]) as readonly HeaderField[];
    const kept: Array<[Uint8Array, string]> = [];
    for (let round = 0; round < 3; round++) {
      for (const l of [big, mid, [['x-tiny', String(round)]] as HeaderField[], big]) {
        const b = enc.encodeFields(l);
        kept.push([b, Buffer.from(b).toString('hex')]);
        expect(peer.decode(b).map(([n, v]) => [n, v])).toEqual(l.map(([n, v]) => [n, v]));
      }
    }
    for (const [b, hex] of kept) expect(Buffer.from(b).toString('hex')).toBe(hex);
  });
});

describe('review (held): prepared lists shared across connections with other options', () => {
  const STRICT = { normalize: true, validate: true, splitCookies: false, connectProtocol: false };
  const LOOSE = { normalize: false, validate: false, splitCookies: false, connectProtocol: false };

  it('a lenient connection\'s prepared result never serves a strict one, alternating either way', () => {
    const list = freeze([[':status', '200'], ['Content-Type', 'text/plain'], ['Connection', 'close'], ['cookie', 'a=1; b=2']]);
    for (let i = 0; i < 3; i++) {
      expect(prepareOutbound(list, 'response', LOOSE).fields).toEqual([[':status', '200'], ['Content-Type', 'text/plain'], ['Connection', 'close'], ['cookie', 'a=1; b=2']]);
      expect(prepareOutbound(list, 'response', STRICT).fields).toEqual([[':status', '200'], ['content-type', 'text/plain'], ['cookie', 'a=1; b=2']]);
      expect(prepareOutbound(list, 'response', { ...STRICT, splitCookies: true }).fields).toEqual([[':status', '200'], ['content-type', 'text/plain'], ['cookie', 'a=1'], ['cookie', 'b=2']]);
    }
    // a block only a lenient connection accepts throws for a strict one every time, whichever came first
    const bad = freeze([[':status', '200'], ['connection', 'close'], ['x-a', 'line\r\nbreak']]);
    for (let i = 0; i < 3; i++) {
      expect(() => prepareOutbound(bad, 'response', STRICT)).toThrow(UsageError);
      expect(prepareOutbound(bad, 'response', LOOSE).fields).toHaveLength(3);
      expect(() => prepareOutbound(bad, 'response', { ...STRICT, normalize: false })).toThrow(UsageError);
    }
  });
});
