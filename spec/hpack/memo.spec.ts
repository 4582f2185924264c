// The process-wide memo of coded string literals (lib/hpack/encoder.ts): blocks coded with it
// are the blocks coded without it (RFC 7541 §5.2 strings, byte for byte), across memo resets;
// credentials and cookies are never kept in it. The decoder's memo of Huffman-coded literals
// (lib/hpack/decoder.ts) gives what decoding bit by bit gives, and keeps no secret either.
import fc from 'fast-check';
import { ErrorCode } from '../../lib/constants.js';
import { ConnectionError } from '../../lib/errors.js';
import { decodeMemoHolds, HpackDecoder } from '../../lib/hpack/decoder.js';
import { HpackEncoder, stringMemoHolds } from '../../lib/hpack/encoder.js';

const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
const value = fc.string({ minLength: 0, maxLength: 150 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x'));

describe('HPACK string memo', () => {
  it('a warm memo codes every block exactly as a cold one, and the blocks decode to their fields', () => {
    fc.assert(fc.property(fc.array(fc.array(fc.tuple(token, value), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }), fc.constantFrom('auto', 'always', 'never'), (blocks, huffman) => {
      const warm = new HpackEncoder({ huffman: huffman as 'auto' });
      const again = new HpackEncoder({ huffman: huffman as 'auto' });
      const dec = new HpackDecoder();
      for (const b of blocks) {
        const a = warm.encode(b);
        expect(Buffer.from(again.encode(b)).equals(Buffer.from(a))).toBe(true); // second encoder: memo hits
        expect(dec.decode(a).map(([n, v]) => [n, v])).toEqual(b);
      }
    }), { numRuns: 200 });
  });

  it('keeps working when the memo fills up and is emptied (5,000 distinct values)', () => {
    const enc = new HpackEncoder();
    const dec = new HpackDecoder();
    for (let i = 0; i < 5000; i++) {
      const fields: Array<[string, string]> = [['etag', `"${i}-abc"`], ['content-length', String(i)]];
      expect(dec.decode(enc.encode(fields)).map(([n, v]) => [n, v])).toEqual(fields);
    }
  });

  it('never keeps credentials or cookies', () => {
    const enc = new HpackEncoder();
    enc.encode([['authorization', 'Bearer secret-token-1'], ['cookie', 'session=a-long-secret-cookie-value'], ['set-cookie', 'id=secret-set-cookie'], ['x-note', 'kept-value-1'], ['x-private', 'marked-secret', true]]);
    expect(stringMemoHolds('Bearer secret-token-1')).toBe(false);
    expect(stringMemoHolds('session=a-long-secret-cookie-value')).toBe(false);
    expect(stringMemoHolds('id=secret-set-cookie')).toBe(false);
    expect(stringMemoHolds('marked-secret')).toBe(false);
    expect(stringMemoHolds('kept-value-1')).toBe(true);
  });
});

describe('HPACK decoder memo of Huffman-coded literals', () => {
  const octets = fc.uint8Array({ minLength: 0, maxLength: 90 }).map((a) => Buffer.from(a).toString('latin1'));

  it('blocks decode to their fields the first time (memo filled) and every time after (memo hits), in every Huffman mode', () => {
    fc.assert(fc.property(fc.array(fc.tuple(token, octets), { minLength: 1, maxLength: 8 }), fc.constantFrom('auto', 'always', 'never'), (fields, huffman) => {
      // never indexed: each block carries every literal again, so the second decode reads the same strings
      const block = new HpackEncoder({ huffman: huffman as 'auto' }).encode(fields.map(([n, v]) => [n, v, true] as const));
      const plain = new HpackEncoder({ huffman: huffman as 'auto' }).encode(fields);
      for (let i = 0; i < 2; i++) {
        expect(new HpackDecoder().decode(block)).toEqual(fields.map(([n, v]) => [n, v, true]));
        expect(new HpackDecoder().decode(plain).map(([n, v]) => [n, v])).toEqual(fields);
      }
    }), { numRuns: 300 });
  });

  it('never keeps credentials, cookies or never-indexed values; keeps other short values', () => {
    const enc = new HpackEncoder({ huffman: 'always' });
    const block = enc.encode([[':path', '/kept/path-1'], ['authorization', 'Bearer decode-secret-1'], ['cookie', 'sid=decode-secret-cookie-2'], ['x-private', 'decode-marked-3', true]]);
    expect(new HpackDecoder().decode(block).map(([n, v]) => [n, v])).toEqual([[':path', '/kept/path-1'], ['authorization', 'Bearer decode-secret-1'], ['cookie', 'sid=decode-secret-cookie-2'], ['x-private', 'decode-marked-3']]);
    expect(decodeMemoHolds('/kept/path-1')).toBe(true);
    expect(decodeMemoHolds('Bearer decode-secret-1')).toBe(false);
    expect(decodeMemoHolds('sid=decode-secret-cookie-2')).toBe(false);
    expect(decodeMemoHolds('decode-marked-3')).toBe(false);
  });

  it('a Huffman string with bad padding is COMPRESSION_ERROR every time (never remembered), and good blocks still decode', () => {
    // `x-a` literal without indexing, value: Huffman, one octet 0x00 (symbol '0' = 00000, then padding 000 — not EOS bits)
    const bad = Buffer.from([0x00, 0x03, 0x78, 0x2d, 0x61, 0x81, 0x00]);
    for (let i = 0; i < 3; i++) {
      let err: unknown;
      try {
        new HpackDecoder().decode(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as ConnectionError).errorCode).toBe(ErrorCode.COMPRESSION_ERROR);
    }
    const good = new HpackEncoder({ huffman: 'always' }).encode([['x-a', '0']]);
    expect(new HpackDecoder().decode(good)).toEqual([['x-a', '0']]);
  });
});
