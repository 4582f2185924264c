// The HPACK adapter's own guarantees: round trips under changing table sizes, size updates in
// both directions (RFC 7541 §4.2, §6.3), never-indexed fields (§6.2.3, §7.1.3), the header list
// limit (RFC 9113 §6.5.2, §10.5.1), COMPRESSION_ERROR for every malformed block (RFC 9113 §4.3),
// and the hpack.js defects the adapter works around.
import fc from 'fast-check';
import hpack from 'hpack.js';
import { ErrorCode } from '../../lib/constants.js';
import { ConnectionError, H2Error, StreamError, UsageError } from '../../lib/errors.js';
import { HeaderCodec } from '../../lib/hpack/index.js';
import { HpackDecoder } from '../../lib/hpack/decoder.js';
import { HpackEncoder, isSensitiveByDefault } from '../../lib/hpack/encoder.js';
import type { HeaderField, HeaderInput } from '../../lib/hpack/types.js';
import { unhex } from '../helpers/frames.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const byteString = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const name = fc.oneof(
  fc.constantFrom(':method', ':path', ':status', 'cookie', 'authorization', 'user-agent', 'accept', 'constructor', '__proto__', 'toString'),
  fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz-0123456789'), minLength: 1, maxLength: 20 }),
  byteString,
);
const field = fc.tuple(name, byteString, fc.boolean());

/** What the decoder must give back for what was sent: sensitive fields flagged. */
function expected(list: ReadonlyArray<readonly [string, string, boolean]>): HeaderField[] {
  return list.map(([n, v, s]) => (s || isSensitiveByDefault(n, v) ? [n, v, true] : [n, v]));
}

describe('round trip (property)', () => {
  it('decode(encode(list)) is the list for sequences of blocks sharing one context, with table size changes between them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(field, { maxLength: 15 }), fc.option(fc.integer({ min: 0, max: 8192 }), { nil: undefined })), { maxLength: 12 }),
        fc.integer({ min: 0, max: 8192 }),
        (blocks, cap) => {
          const enc = new HpackEncoder({ maxTableSize: cap });
          const dec = new HpackDecoder();
          for (const [list, newSize] of blocks) {
            if (newSize !== undefined) {
              // our SETTINGS_HEADER_TABLE_SIZE changes: the peer's encoder learns it, our decoder enforces it
              dec.setMaxTableSize(newSize);
              enc.setMaxTableSize(newSize);
            }
            const input: HeaderInput[] = list.map(([n, v, s]) => (s ? [n, v, true] : [n, v]));
            expect(dec.decode(enc.encode(input))).toEqual(expected(list));
            expect(dec.dynamicEntries()).toEqual(enc.dynamicEntries());
            expect(dec.tableSize).toBeLessThanOrEqual(Math.min(cap, newSize ?? 4096, 8192));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('decodes a block given as a plain Uint8Array view (not a Buffer), as the frame decoder yields it', () => {
    const c = new HeaderCodec();
    const b = c.encode([['x-raw', 'plain-literal'], ['x-huff', 'abcabcabcabc']]);
    const view = new Uint8Array(b.length + 4).subarray(2, 2 + b.length);
    view.set(b);
    expect(c.decode(view)).toEqual([['x-raw', 'plain-literal'], ['x-huff', 'abcabcabcabc']]);
  });

  it('takes names and values as bytes too, and UTF-8 encodes strings with chars above 0xFF', () => {
    const c = new HeaderCodec();
    const out = c.decode(c.encode([[Buffer.from('x-bin'), Uint8Array.from([0, 255, 10])], ['x-text', 'é€']]));
    expect(out).toEqual([['x-bin', '\u0000\u00ff\n'], ['x-text', Buffer.from('é€', 'utf8').toString('latin1')]]);
  });
});

describe('dynamic table size updates (RFC 7541 §4.2, §6.3)', () => {
  it('the encoder shrinks its table at once and signals it at the start of the next block', () => {
    const e = new HpackEncoder();
    e.encode([['x-a', '1']]);
    e.setMaxTableSize(100);
    expect(e.tableSize).toBeLessThanOrEqual(100);
    expect(hex(e.encode([[':method', 'GET']]))).toBe('3f4582'); // 001 + 100 (31 + 69), then indexed 2
    expect(hex(e.encode([[':method', 'GET']]))).toBe('82'); // only once
  });

  it('the encoder sends the smallest size then the final one when the limit fell and rose between blocks', () => {
    const e = new HpackEncoder();
    e.setMaxTableSize(0);
    e.setMaxTableSize(4096);
    expect(hex(e.encode([[':method', 'GET']]))).toBe('203fe11f82');
    const d = new HpackDecoder();
    d.setMaxTableSize(0);
    d.setMaxTableSize(4096);
    expect(d.decode(unhex('203fe11f82'))).toEqual([[':method', 'GET']]);
  });

  it('the encoder never uses more than its own cap whatever the peer allows', () => {
    const e = new HpackEncoder({ maxTableSize: 256 });
    e.setMaxTableSize(65536);
    for (let i = 0; i < 50; i++) e.encode([[`x-${i}`, 'v'.repeat(30)]]);
    expect(e.tableSize).toBeLessThanOrEqual(256);
  });

  it('the decoder requires a size update at the start of the first block after its limit fell below the table size', () => {
    const d = new HpackDecoder();
    d.decode(unhex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
    d.setMaxTableSize(0);
    expect(() => d.decode(unhex('82'))).toThrow(expect.objectContaining({ errorCode: ErrorCode.COMPRESSION_ERROR }));
    const ok = new HpackDecoder();
    ok.setMaxTableSize(0);
    expect(ok.decode(unhex('20 82'))).toEqual([[':method', 'GET']]);
  });

  it.each([
    ['after the first field', '82 20'],
    ['above the SETTINGS limit', '3fe21f'], // 4097
  ])('the decoder rejects a size update %s as COMPRESSION_ERROR', (_n, h) => {
    expect(() => new HpackDecoder().decode(unhex(h))).toThrow(expect.objectContaining({ errorCode: ErrorCode.COMPRESSION_ERROR }));
  });
});

describe('never-indexed fields (RFC 7541 §6.2.3, §7.1.3)', () => {
  it.each([
    ['authorization', 'Bearer abc'],
    ['proxy-authorization', 'Basic xyz'],
    ['cookie', 'sid=short'],
  ])('sends %s never-indexed by default and the decoder reports it as sensitive', (n, v) => {
    const c = new HeaderCodec();
    const b = c.encode([[n, v]]);
    expect(b[0]! & 0xf0).toBe(0x10);
    expect(c.decode(b)).toEqual([[n, v, true]]);
    expect(c.encoder.tableEntries).toBe(0);
    expect(c.decoder.tableSize).toBe(0);
  });

  it('indexes a long cookie, and never indexes a field the caller marks sensitive', () => {
    const c = new HeaderCodec();
    c.decode(c.encode([['cookie', 'session=0123456789abcdefghij']]));
    expect(c.encoder.tableEntries).toBe(1);
    const b = c.encode([['x-api-key', 'k', true]]);
    expect(b[0]! & 0xf0).toBe(0x10);
    expect(c.decode(b)).toEqual([['x-api-key', 'k', true]]);
  });

  it('keeps a never-indexed field never-indexed when it is forwarded (decode → encode)', () => {
    const a = new HeaderCodec();
    const b = new HeaderCodec();
    const fwd = b.encode(a.decode(unhex('1008 7061 7373 776f 7264 0673 6563 7265 74')));
    expect(fwd[0]! & 0xf0).toBe(0x10);
  });
});

describe('SETTINGS_MAX_HEADER_LIST_SIZE while decoding (RFC 9113 §6.5.2, §10.5.1)', () => {
  it('refuses a list over the limit with a stream error, after keeping the table in step', () => {
    const e = new HpackEncoder();
    const d = new HpackDecoder({ maxHeaderListSize: 200 });
    const big = e.encode([['x-a', 'a'.repeat(100)], ['x-b', 'b'.repeat(100)]]);
    expect(() => d.decode(big, 7)).toThrow(StreamError);
    try {
      d.decode(big, 7);
    } catch (err) {
      expect(err).toMatchObject({ streamId: 7, errorCode: ErrorCode.ENHANCE_YOUR_CALM });
    }
    // both entries were inserted, so a block indexing them still decodes
    const next = e.encode([['x-b', 'b'.repeat(100)]]);
    expect(d.decode(next)).toEqual([['x-b', 'b'.repeat(100)]]);
  });

  it('counts name + value + 32 per field (an empty field costs 32)', () => {
    const d = new HpackDecoder({ maxHeaderListSize: 64 });
    expect(d.decode(unhex('0000 00 0000 00'))).toHaveLength(2); // two empty literal fields: 64
    expect(() => d.decode(unhex('0000 00 0000 00 0000 00'))).toThrow(StreamError); // 96
  });

  it('defuses an HPACK bomb: one 3 KB entry referenced 20,000 times throws without building the list', () => {
    const e = new HpackEncoder();
    const d = new HpackDecoder();
    const insert = e.encode([['x-bomb', 'z'.repeat(3000)]]);
    d.decode(insert);
    const bomb = new Uint8Array(20000).fill(0xbe); // indexed field 62: the bomb entry
    const before = process.memoryUsage().heapUsed;
    expect(() => d.decode(bomb)).toThrow(expect.objectContaining({ errorCode: ErrorCode.ENHANCE_YOUR_CALM }));
    // materialized, the list would be 60 MB of strings plus 20,000 tuples
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(16 * 1024 * 1024);
  });
});

describe('malformed blocks are COMPRESSION_ERROR connection errors (RFC 9113 §4.3)', () => {
  it.each([
    ['index 0', '80'],
    ['an index past the dynamic table', 'ff 0f'],
    ['a truncated integer', 'ff'],
    ['an integer longer than 32 bits', 'ff ff ff ff ff ff 0f'],
    ['a string longer than the block', '40 7f 00 61'],
    ['a truncated literal name', '00 05 61'],
    ['Huffman padding of more than 7 bits', '00 81 ff 00'],
    ['Huffman padding that is not all ones', '00 81 00 00'],
    ['the Huffman EOS symbol in a string', '00 84 ff ff ff ff 00'],
  ])('%s', (_n, h) => {
    const err = (() => {
      try {
        new HpackDecoder().decode(unhex(h));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).errorCode).toBe(ErrorCode.COMPRESSION_ERROR);
  });

  it('throws only the project\'s protocol errors on random blocks (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), (blocks) => {
        const d = new HpackDecoder({ maxHeaderListSize: 1024 });
        for (const b of blocks) {
          try {
            d.decode(b);
          } catch (e) {
            expect(e).toBeInstanceOf(H2Error);
            if (e instanceof ConnectionError) return;
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects a table size that is not a 32-bit unsigned integer as a usage error', () => {
    expect(() => new HpackDecoder().setMaxTableSize(-1)).toThrow(UsageError);
    expect(() => new HpackEncoder().setMaxTableSize(1.5)).toThrow(UsageError);
  });
});

describe('hpack.js defects and what the adapter does about them', () => {
  it('1: hpack.js ignores a {size} table option (it reads maxSize): the adapter passes maxSize', () => {
    expect(hpack.table.create({ size: 256 } as unknown as { maxSize: number }).maxSize).toBeUndefined();
    const e = new HpackEncoder({ maxTableSize: 256 });
    for (let i = 0; i < 20; i++) e.encode([[`x-${i}`, 'v'.repeat(40)]]);
    expect(e.tableSize).toBeLessThanOrEqual(256);
  });

  it('9: obuf answers take(0) with the deprecated new Buffer(0): patched to a shared empty Buffer, empty values still decode', () => {
    new HpackDecoder(); // applies the patch
    const reader = hpack.decoder.create() as unknown as { buffer: { take(n: number): Buffer } };
    const a = reader.buffer.take(0);
    expect(a.length).toBe(0);
    expect(reader.buffer.take(0)).toBe(a); // shared, no allocation (and no deprecation check)
    const c = new HeaderCodec();
    const list: HeaderInput[] = [['x-empty', ''], ['y', '']];
    expect(c.decode(c.encode(list))).toEqual(list);
  });

  it('10: wbuf allocates with the deprecated new Buffer(n): the encoder writes blocks itself, never through hpack.js\'s writer', () => {
    const created = jest.spyOn(hpack.encoder, 'create');
    try {
      const e = new HpackEncoder();
      const d = new HpackDecoder();
      const list: HeaderInput[] = [[':status', '200'], ['x-long', 'v'.repeat(5000)], ['x-short', 'a'], ['x-new', 'b']];
      for (let i = 0; i < 3; i++) expect(d.decode(e.encode(list))).toEqual(list);
      expect(created).not.toHaveBeenCalled();
      hpack.encoder.create(); // the spy does see a call
      expect(created).toHaveBeenCalledTimes(1);
    } finally {
      created.mockRestore();
    }
  });

  it('3: hpack.js crashes on the name __proto__ (plain-object map): the adapter uses Maps', () => {
    const t = hpack.table.create({ maxSize: 4096 }) as unknown as { reverseLookup(n: string, v: string): number };
    expect(() => t.reverseLookup('__proto__', 'y')).toThrow(TypeError);
    const c = new HeaderCodec();
    const list: HeaderInput[] = [['__proto__', 'y'], ['constructor', 'x'], ['toString', 'z']];
    expect(c.decode(c.encode(list))).toEqual(list);
    expect(c.decode(c.encode(list))).toEqual(list); // and again, now from the dynamic table
  });

  it('4: hpack.js mangles chars above 0xFF: the adapter UTF-8 encodes them explicitly', () => {
    expect(hpack.encoder.create).toBeDefined();
    const c = new HeaderCodec();
    const [[, v]] = c.decode(c.encode([['x', '€']])) as [HeaderField];
    expect(Buffer.from(v, 'latin1').toString('utf8')).toBe('€');
  });

  it('5: hpack.js searches only the newest 32 entries: the adapter finds older ones', () => {
    const e = new HpackEncoder({ maxTableSize: 65536 });
    e.setMaxTableSize(65536);
    const list: HeaderInput[] = Array.from({ length: 40 }, (_, i) => [`x-h${i}`, `value-${i}`]);
    e.encode(list);
    expect(e.encode(list).length).toBe(40); // every field found, even those 40 entries deep: one indexed octet each
  });

  it('6: hpack.js accepts a size update after a field: the adapter rejects it', () => {
    const d = hpack.decompressor.create({ table: { maxSize: 4096 } } as never) as unknown as { write(b: Buffer): void; execute(): void; on(e: string, f: () => void): void };
    d.on('data', () => undefined);
    d.write(Buffer.from('8220', 'hex'));
    expect(() => d.execute()).not.toThrow();
    expect(() => new HpackDecoder().decode(unhex('8220'))).toThrow(ConnectionError);
  });

  it('8: hpack.js throws a raw TypeError on a truncated integer: the adapter maps it to COMPRESSION_ERROR', () => {
    const d = hpack.decompressor.create({ table: { maxSize: 4096 } } as never) as unknown as { write(b: Buffer): void; _execute(): void };
    d.write(Buffer.from('ff', 'hex'));
    expect(() => d._execute()).toThrow(TypeError);
    expect(() => new HpackDecoder().decode(unhex('ff'))).toThrow(expect.objectContaining({ errorCode: ErrorCode.COMPRESSION_ERROR }));
  });
});
