// The encoder writes blocks itself (lib/hpack/encoder.ts: prefix integers, RFC 7541 §5.1, and
// string literals, §5.2, Huffman-coded with Appendix B's code). Checked octet for octet against
// hpack.js's own bit writer, which the encoder used before, over every octet value and length.
import fc from 'fast-check';
import hpack from 'hpack.js';
import { HpackDecoder } from '../../lib/hpack/decoder.js';
import { HpackEncoder } from '../../lib/hpack/encoder.js';

type Mode = 'auto' | 'always' | 'never';

/** hpack.js's writer: a field without indexing whose name is static index 34 (etag), then the value. */
function reference(value: string, mode: Mode): Buffer {
  if (value === '') return Buffer.from([0x80 | 34]); // the static table's own `etag: ""` entry
  const w = hpack.encoder.create();
  w.encodeBits(0b0000, 4);
  w.encodeInt(34);
  const bytes = Buffer.from(value, 'latin1');
  let bits = 0;
  for (const b of bytes) bits += hpack.huffman.encode[b]![0];
  const huffman = mode === 'always' || (mode === 'auto' && (bits + 7) >>> 3 < bytes.length);
  w.encodeStr(bytes, huffman);
  return Buffer.concat(w.render());
}

/** The block an encoder with room for any size writes after the peer's SETTINGS_HEADER_TABLE_SIZE of `size`. */
function sizeUpdate(size: number): Buffer {
  const e = new HpackEncoder({ maxTableSize: 0xffffffff });
  e.setMaxTableSize(size);
  return Buffer.from(e.encode([]));
}

const octets = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => Buffer.from(a).toString('latin1'));

describe('HPACK block writer', () => {
  it('string literals (RFC 7541 §5.2) are hpack.js\'s octets for any octets, length and Huffman mode, and decode back', () => {
    fc.assert(fc.property(octets, fc.constantFrom<Mode>('auto', 'always', 'never'), (value, mode) => {
      const e = new HpackEncoder({ huffman: mode });
      const block = Buffer.from(e.encode([['etag', value]]));
      expect(block.equals(reference(value, mode))).toBe(true);
      expect(new HpackDecoder().decode(block)).toEqual([['etag', value]]);
    }), { numRuns: 1000 });
  });

  it('prefix integers (RFC 7541 §5.1) are hpack.js\'s octets below 2^31, in a table size update (5-bit prefix)', () => {
    fc.assert(fc.property(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0x7fffffff - 31 })), (size) => {
      const block = sizeUpdate(size);
      const w = hpack.encoder.create();
      // growing past the table's current 4096: the smallest size, then the final one (§4.2)
      if (size > 4096) {
        w.encodeBits(0b001, 3);
        w.encodeInt(4096);
      }
      w.encodeBits(0b001, 3);
      w.encodeInt(size);
      const ref = Buffer.concat(w.render());
      // a size equal to the default 4096 needs no update at all
      if (size === 4096) expect(block.length).toBe(0);
      else expect(block.equals(ref)).toBe(true);
    }), { numRuns: 1000 });
  });

  it('prefix integers up to 2^32-1 decode back with RFC 7541 §5.1\'s own algorithm (hpack.js\'s writer loops forever from 2^31)', () => {
    fc.assert(fc.property(fc.integer({ min: 4097, max: 0xffffffff }), (size) => {
      const block = sizeUpdate(size);
      // the second update is the final size: 001 + 5-bit prefix
      let i = block.indexOf(0x3f, 1);
      expect(block[0]! >> 5).toBe(1);
      expect(block[i]! >> 5).toBe(1);
      // decode I from the next octets: I = 2^N - 1, then 7 bits at a time, least significant first
      let value = 31;
      let m = 0;
      for (;;) {
        const b = block[++i]!;
        value += (b & 0x7f) * 2 ** m;
        m += 7;
        if ((b & 0x80) === 0) break;
      }
      expect(i).toBe(block.length - 1);
      expect(value).toBe(size);
    }), { numRuns: 1000 });
  });

  it('a block larger than the 4 KiB scratch buffer is written whole, and the next small one after it too', () => {
    const e = new HpackEncoder();
    const d = new HpackDecoder({ maxHeaderListSize: 1 << 20 });
    const big: Array<[string, string]> = Array.from({ length: 40 }, (_, i) => [`x-f${i}`, String(i).repeat(3000).slice(0, 3000)]);
    expect(d.decode(e.encode(big))).toEqual(big);
    expect(d.decode(e.encode([['x-small', 'a']]))).toEqual([['x-small', 'a']]);
  });

  it('a frozen list coded again reuses its block only while the table is unchanged: any mix of repeats, new fields and size changes decodes right', () => {
    const token = fc.constantFrom('content-type', 'etag', 'x-a', 'x-b', 'accept-ranges', 'content-length', 'authorization', 'cookie');
    const value = fc.constantFrom('', 'a', 'text/plain', 'bytes', '"6-abc"', 'v'.repeat(40), 'session=s');
    const list = fc.array(fc.tuple(token, value), { maxLength: 5 });
    // steps: code list i of a few frozen lists, code a fresh (unfrozen) list, or change the table size
    const step = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant('frozen' as const), i: fc.nat(3) }), weight: 8 },
      { arbitrary: fc.record({ kind: fc.constant('fresh' as const), fields: list }), weight: 1 },
      { arbitrary: fc.record({ kind: fc.constant('size' as const), size: fc.constantFrom(0, 64, 256, 4096) }), weight: 1 },
    );
    let reusedInAll = 0;
    fc.assert(fc.property(fc.array(list, { minLength: 4, maxLength: 4 }), fc.array(step, { maxLength: 40 }), (lists, steps) => {
      const frozen = lists.map((l) => Object.freeze(l.map((f) => Object.freeze(f))));
      const enc = new HpackEncoder();
      const dec = new HpackDecoder();
      const blocks = new Map<number, Uint8Array>();
      for (const st of steps) {
        if (st.kind === 'size') {
          dec.setMaxTableSize(st.size);
          enc.setMaxTableSize(st.size);
          continue;
        }
        const fields = st.kind === 'frozen' ? frozen[st.i]! : st.fields;
        const block = enc.encodeFields(fields);
        if (st.kind === 'frozen' && blocks.get(st.i) === block) reusedInAll++;
        if (st.kind === 'frozen') blocks.set(st.i, block);
        expect(dec.decode(block).map(([n, v]) => [n, v])).toEqual(fields.map(([n, v]) => [n, v]));
        expect(dec.dynamicEntries()).toEqual(enc.dynamicEntries());
      }
    }), { numRuns: 1000 });
    expect(reusedInAll).toBeGreaterThan(200); // the runs did exercise the reuse (about 500 times)
  });

  it('a frozen list answered again and again is coded once per table state (the same block returned)', () => {
    const enc = new HpackEncoder();
    const fields = Object.freeze([[':status', '200'], ['content-type', 'text/plain'], ['etag', '"1-a"']].map((f) => Object.freeze(f as [string, string])));
    const first = enc.encodeFields(fields); // inserts content-type
    const second = enc.encodeFields(fields); // all hits now: remembered
    expect(second).not.toBe(first);
    expect(enc.encodeFields(fields)).toBe(second);
    enc.encodeFields([['x-new', 'inserted']]); // the table changed: coded again
    const fourth = enc.encodeFields(fields);
    expect(fourth).not.toBe(second);
    expect(Buffer.from(fourth).equals(Buffer.from(second))).toBe(false); // content-type's index moved by one
    enc.setMaxTableSize(4096); // no change: still the same
    expect(enc.encodeFields(fields)).toBe(enc.encodeFields(fields));
  });
});
