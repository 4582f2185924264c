// Review of d6d1b5f / bb0fdd2: `encodeFields` is new public API (HpackEncoder and HeaderCodec are
// re-exported by lib/index.ts). Through H2Connection it only ever gets `prepareOutbound`'s fields
// (byte strings; frozen only when every pair was a frozen string pair), and that path is fine —
// but called directly it trusts its input in two ways the rest of the codec does not.
import { ErrorCode } from '../../lib/constants.js';
import { ConnectionError, UsageError } from '../../lib/errors.js';
import { HeaderCodec } from '../../lib/hpack/index.js';
import { HpackDecoder } from '../../lib/hpack/decoder.js';
import { HpackEncoder } from '../../lib/hpack/encoder.js';
import type { HeaderField } from '../../lib/hpack/types.js';

function outcome(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return e instanceof ConnectionError ? `ConnectionError ${e.errorCode}` : (e as Error).constructor.name;
  }
}

describe('review: HpackEncoder.encodeFields / HeaderCodec.encodeFields called directly', () => {
  // Observed: a frozen list is taken for unchangeable, but only the list is frozen: a pair in it
  // can still change, and the block remembered for the list is returned with the old value.
  // Expected: the field's current value (as encode() and prepareOutbound's isFixed() do: a list
  // is only "fixed" when its pairs are frozen too).
  it('review finding, fixed: a frozen list whose pair changed is coded with the pair\'s new value, not a remembered block with the old one', () => {
    const enc = new HpackEncoder();
    const dec = new HpackDecoder();
    const pair: [string, string] = ['content-length', '10'];
    const list: readonly HeaderField[] = Object.freeze([pair]);
    expect(dec.decode(enc.encodeFields(list))).toEqual([['content-length', '10']]);
    expect(dec.decode(enc.encodeFields(list))).toEqual([['content-length', '10']]); // remembered now
    pair[1] = '99999';
    expect(dec.decode(enc.encodeFields(list))).toEqual([['content-length', '99999']]); // observed: '10'
  });

  // Observed: a char above 0xFF makes the Huffman length lookup read HUFFMAN[code] === undefined
  // → TypeError, after the fields before it were inserted into the dynamic table. No block comes
  // out, yet the table holds `x-a: v`: the next block refers to index 62, which the peer's
  // decoder never got (COMPRESSION_ERROR on the peer). encode() takes the same strings as UTF-8.
  // Expected: UsageError before anything changes (or the UTF-8 octets, as encode() sends), and
  // the encoder still in step with the peer.
  it('review finding, fixed: a value with a char above 0xFF throws UsageError, not TypeError', () => {
    let thrown: unknown;
    try {
      new HeaderCodec().encodeFields([['x-a', 'v'], ['x-b', 'price \u20ac']]);
    } catch (e) {
      thrown = e;
    }
    expect((thrown as Error).constructor.name).toBe('UsageError'); // observed: TypeError
  });

  it('review finding, fixed: after encodeFields threw on a char above 0xFF, the encoder is still in step with the peer (no entry of the unsent block in its table)', () => {
    const codec = new HeaderCodec();
    const peer = new HpackDecoder();
    expect(() => codec.encodeFields([['x-a', 'v'], ['x-b', 'price \u20ac']])).toThrow();
    // the peer saw no block, so the next one must decode there
    expect(outcome(() => peer.decode(codec.encodeFields([['x-a', 'v']])))).toBe('ok'); // observed: ConnectionError 9 (index 62 unknown)
  });

  // Observed: U+0100 indexes HUFFMAN[256], the EOS code, which RFC 7541 §5.2 forbids in a string
  // ("A Huffman-encoded string literal containing the EOS symbol MUST be treated as a decoding
  // error"): with huffman 'always' the block is a COMPRESSION_ERROR at any conforming peer; with
  // 'auto' / 'never' the char is cut to its low octet (NUL, or U+20AC → 0xAC) and sent silently.
  // Expected: never an EOS on the wire, never a silently changed value — UsageError, or what
  // encode() sends for the same strings (their UTF-8 octets).
  it('review finding, fixed: U+0100 in a value is never sent as the EOS symbol (huffman always)', () => {
    const sent = (e: HpackEncoder): string => {
      try {
        return JSON.stringify(new HpackDecoder().decode(e.encodeFields([['x-a', '\u0100']])));
      } catch (err) {
        return err instanceof UsageError ? 'UsageError at the sender' : `peer: ${String(err)}`;
      }
    };
    const utf8 = JSON.stringify(new HpackDecoder().decode(new HpackEncoder().encode([['x-a', '\u0100']])));
    expect([utf8, 'UsageError at the sender']).toContain(sent(new HpackEncoder({ huffman: 'always' }))); // observed: peer: COMPRESSION_ERROR (EOS in encoding)
  });

  it('review finding, fixed: U+0100 in a value is not cut to a NUL octet (huffman auto)', () => {
    const sent = (e: HpackEncoder): string => {
      try {
        return JSON.stringify(new HpackDecoder().decode(e.encodeFields([['x-a', '\u0100']])));
      } catch (err) {
        return err instanceof UsageError ? 'UsageError at the sender' : `peer: ${String(err)}`;
      }
    };
    const utf8 = JSON.stringify(new HpackDecoder().decode(new HpackEncoder().encode([['x-a', '\u0100']])));
    expect([utf8, 'UsageError at the sender']).toContain(sent(new HpackEncoder({ huffman: 'auto' }))); // observed: [["x-a","\u0000"]]
  });

  it('(held) the same misuse through encode() is sent as UTF-8 octets, and a codec used only through encode() stays in step', () => {
    const codec = new HeaderCodec();
    const peer = new HpackDecoder();
    expect(peer.decode(codec.encode([['x-a', 'v'], ['x-b', 'price \u20ac']]))).toEqual([['x-a', 'v'], ['x-b', 'price \u00e2\u0082\u00ac']]);
    expect(peer.decode(codec.encode([['x-a', 'v']]))).toEqual([['x-a', 'v']]);
    expect(outcome(() => peer.decode(codec.encode([['x-a', 'v']])))).toBe('ok');
    expect(ErrorCode.COMPRESSION_ERROR).toBe(9);
  });
});
