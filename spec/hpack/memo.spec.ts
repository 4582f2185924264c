// The process-wide memo of coded string literals (lib/hpack/encoder.ts): blocks coded with it
// are the blocks coded without it (RFC 7541 §5.2 strings, byte for byte), across memo resets;
// credentials and cookies are never kept in it.
import fc from 'fast-check';
import { HpackDecoder } from '../../lib/hpack/decoder.js';
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
