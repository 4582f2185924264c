// RFC 7541 Appendix C: every example, decoded with the expected fields and dynamic table, and
// the request examples reproduced byte for byte by the encoder (with and without Huffman).
import { HpackDecoder } from '../../lib/hpack/decoder.js';
import { HpackEncoder } from '../../lib/hpack/encoder.js';
import { unhex } from '../helpers/frames.js';

interface Example { id: string; hex: string; fields: Array<[string, string]>; table: Array<[string, string]>; size: number }

const REQ1: Array<[string, string]> = [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']];
const REQ2: Array<[string, string]> = [...REQ1, ['cache-control', 'no-cache']];
const REQ3: Array<[string, string]> = [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']];
const T1: Array<[string, string]> = [[':authority', 'www.example.com']];
const T2: Array<[string, string]> = [['cache-control', 'no-cache'], ...T1];
const T3: Array<[string, string]> = [['custom-key', 'custom-value'], ...T2];
const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RESP1: Array<[string, string]> = [[':status', '302'], ['cache-control', 'private'], ['date', DATE1], ['location', 'https://www.example.com']];
const RESP2: Array<[string, string]> = [[':status', '307'], ...RESP1.slice(1)];
const RESP3: Array<[string, string]> = [[':status', '200'], ['cache-control', 'private'], ['date', DATE2], ['location', 'https://www.example.com'],
  ['content-encoding', 'gzip'], ['set-cookie', COOKIE]];
const RT1: Array<[string, string]> = [['location', 'https://www.example.com'], ['date', DATE1], ['cache-control', 'private'], [':status', '302']];
const RT2: Array<[string, string]> = [[':status', '307'], ...RT1.slice(0, 3)];
const RT3: Array<[string, string]> = [['set-cookie', COOKIE], ['content-encoding', 'gzip'], ['date', DATE2]];

const C3: Example[] = [
  { id: 'C.3.1', hex: '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d', fields: REQ1, table: T1, size: 57 },
  { id: 'C.3.2', hex: '8286 84be 5808 6e6f 2d63 6163 6865', fields: REQ2, table: T2, size: 110 },
  { id: 'C.3.3', hex: '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65', fields: REQ3, table: T3, size: 164 },
];
const C4: Example[] = [
  { id: 'C.4.1', hex: '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', fields: REQ1, table: T1, size: 57 },
  { id: 'C.4.2', hex: '8286 84be 5886 a8eb 1064 9cbf', fields: REQ2, table: T2, size: 110 },
  { id: 'C.4.3', hex: '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf', fields: REQ3, table: T3, size: 164 },
];
const C5: Example[] = [
  { id: 'C.5.1', hex: '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
    fields: RESP1, table: RT1, size: 222 },
  { id: 'C.5.2', hex: '4803 3330 37c1 c0bf', fields: RESP2, table: RT2, size: 222 },
  { id: 'C.5.3', hex: '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
    fields: RESP3, table: RT3, size: 215 },
];
const C6: Example[] = [
  { id: 'C.6.1', hex: '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
    fields: RESP1, table: RT1, size: 222 },
  { id: 'C.6.2', hex: '4883 640e ffc1 c0bf', fields: RESP2, table: RT2, size: 222 },
  { id: 'C.6.3', hex: '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
    fields: RESP3, table: RT3, size: 215 },
];

describe('RFC 7541 Appendix C.2: literal field representations', () => {
  it.each([
    ['C.2.1 literal with indexing', '400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572', ['custom-key', 'custom-header'], 55],
    ['C.2.2 literal without indexing', '040c 2f73 616d 706c 652f 7061 7468', [':path', '/sample/path'], 0],
    ['C.2.3 literal never indexed', '1008 7061 7373 776f 7264 0673 6563 7265 74', ['password', 'secret', true], 0],
    ['C.2.4 indexed', '82', [':method', 'GET'], 0],
  ])('%s', (_id, hex, field, size) => {
    const d = new HpackDecoder();
    expect(d.decode(unhex(hex))).toEqual([field]);
    expect(d.tableSize).toBe(size);
  });
});

describe.each([
  ['C.3 requests without Huffman', C3, 4096],
  ['C.4 requests with Huffman', C4, 4096],
  ['C.5 responses without Huffman, 256-octet table', C5, 256],
  ['C.6 responses with Huffman, 256-octet table', C6, 256],
])('RFC 7541 Appendix %s', (_name, examples, tableSize) => {
  it('decodes every block to the listed fields and dynamic table, with one decoder for the sequence', () => {
    const d = new HpackDecoder({ maxTableSize: tableSize });
    for (const ex of examples) {
      expect(d.decode(unhex(ex.hex))).toEqual(ex.fields);
      expect(d.dynamicEntries()).toEqual(ex.table);
      expect(d.tableSize).toBe(ex.size);
    }
  });

  it('round-trips every header list through our encoder with the same table evolution', () => {
    const e = new HpackEncoder({ maxTableSize: tableSize });
    const d = new HpackDecoder({ maxTableSize: tableSize });
    for (const ex of examples) {
      expect(d.decode(e.encode(ex.fields))).toEqual(ex.fields);
      expect(d.dynamicEntries()).toEqual(e.dynamicEntries());
    }
  });
});

describe('the encoder reproduces the request examples byte for byte', () => {
  it.each([
    ['C.3 (Huffman off)', C3, 'never' as const],
    ['C.4 (Huffman when shorter)', C4, 'auto' as const],
  ])('%s', (_n, examples, huffman) => {
    const e = new HpackEncoder({ huffman });
    for (const ex of examples) {
      expect(Buffer.from(e.encode(ex.fields)).toString('hex')).toBe(ex.hex.replace(/ /g, ''));
    }
  });
});

