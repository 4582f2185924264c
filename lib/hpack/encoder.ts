/**
 * HPACK encoder (RFC 7541) over hpack.js's Huffman code and table, writing blocks itself (prefix
 * integers and Huffman bits straight into one reused buffer; hpack.js's bit writer allocated
 * per block and per string), with the fixes hpack.js's defects need: a full-depth `Map` index
 * of the dynamic table (hpack.js searches only the newest 32 entries and crashes on names such
 * as `constructor`), dynamic table size updates emitted at the start of the next block
 * (smallest, then final, RFC 7541 §4.2), Huffman only when it is shorter, and never-indexed
 * fields for secrets.
 */
import hpack from 'hpack.js';
import { DEFAULT_HEADER_TABLE_SIZE } from '../constants.js';
import { isByteString, toByteString } from '../bytes.js';
import { UsageError } from '../errors.js';
import { STATIC_INDEX, STATIC_LENGTH } from './static.js';
import type { HeaderField, HeaderInput } from './types.js';

/** Options of {@link HpackEncoder}. */
export interface HpackEncoderOptions {
  /**
   * Most octets our encoder's dynamic table may use, whatever the peer allows (its
   * SETTINGS_HEADER_TABLE_SIZE is the other bound). Default 4096.
   */
  maxTableSize?: number;
  /** `'auto'` (default): Huffman when shorter; `'always'`; `'never'`. */
  huffman?: 'auto' | 'always' | 'never';
}

/**
 * Fields not worth a dynamic table entry: values that change on nearly every message, so
 * indexing them would only evict reusable entries.
 */
const NO_INDEX: ReadonlySet<string> = new Set([
  ':path', 'content-length', 'content-range', 'etag', 'if-modified-since', 'if-none-match', 'last-modified',
  'location', 'range', 'set-cookie', 'x-request-id',
]);

/**
 * Default never-indexed rule, as python h2: credentials, and cookies short enough to guess
 * (RFC 7541 §7.1.3).
 */
export function isSensitiveByDefault(name: string, value: string): boolean {
  return name === 'authorization' || name === 'proxy-authorization' || (name === 'cookie' && value.length < 20);
}

type Table = ReturnType<typeof hpack.table.create>;

/** RFC 7541 Appendix B, from hpack.js: `[bit length, code]` per octet (and EOS at 256). */
const HUFFMAN = hpack.huffman.encode;

/** Coded string literals shared by every encoder of the process: one map per Huffman mode. */
const STRING_MEMO: Record<'auto' | 'always' | 'never', Map<string, Uint8Array>> = { auto: new Map(), always: new Map(), never: new Map() };
/** Strings longer than this are coded each time; the memo is emptied when it reaches MEMO_ENTRIES. */
const MEMO_STRING_MAX = 128;
const MEMO_ENTRIES = 4096;
/** @internal For tests: whether a string's coding is in the process-wide memo (any Huffman mode). */
export function stringMemoHolds(s: string): boolean {
  return STRING_MEMO.auto.has(s) || STRING_MEMO.always.has(s) || STRING_MEMO.never.has(s);
}

/** Fields whose values are never kept in the process-wide memo. */
const SECRET_NAMES: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** Octets of the Huffman code of a byte string (RFC 7541 §5.2, padded to a whole octet). */
function huffmanLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN[s.charCodeAt(i)]![0];
  return (bits + 7) >>> 3;
}

/** Blocks of fixed field lists an encoder remembers (the last ones coded). */
const REUSE_SLOTS = 8;

/** A plain data property of `o` (not a getter), or undefined. */
function dataOf(o: object, key: number): { value: unknown } | undefined {
  const d = Object.getOwnPropertyDescriptor(o, key);
  return d !== undefined && 'value' in d ? { value: d.value as unknown } : undefined;
}

/**
 * A header list that cannot change: a frozen array of frozen arrays whose name and value are
 * strings held in plain data properties (a getter could answer differently each time), and whose
 * third element, if any, is a boolean or undefined. Checked once, when a result is remembered
 * for the list.
 */
export function isFixedFieldList(list: readonly (readonly unknown[])[]): boolean {
  if (!Array.isArray(list) || !Object.isFrozen(list)) return false;
  for (let i = 0; i < list.length; i++) {
    const pair = dataOf(list, i)?.value;
    if (!Array.isArray(pair) || !Object.isFrozen(pair) || pair.length < 2 || pair.length > 3) return false;
    const name = dataOf(pair, 0);
    const value = dataOf(pair, 1);
    if (typeof name?.value !== 'string' || typeof value?.value !== 'string') return false;
    if (pair.length === 3) {
      const flag = dataOf(pair, 2);
      if (flag === undefined || (typeof flag.value !== 'boolean' && flag.value !== undefined)) return false;
    }
  }
  return true;
}

/** The buffer blocks are written into (encoding is synchronous: one for the process). */
const SCRATCH_SIZE = 4096;
const SCRATCH_KEEP = 65536;
let scratch: Uint8Array = Buffer.allocUnsafe(SCRATCH_SIZE);

/** A larger buffer holding the first `used` octets of `out`. */
function grow(out: Uint8Array, used: number, need: number): Uint8Array {
  const bigger = Buffer.allocUnsafe(Math.max(need, out.length * 2));
  bigger.set(out.subarray(0, used));
  return bigger;
}

/** Most octets a field can take: two integers and two strings (Huffman codes ≤ 30 bits per octet). */
function fieldBound(name: string, value: string): number {
  return 16 + 4 * (name.length + value.length);
}

/**
 * Writes an integer with an N-bit prefix (RFC 7541 §5.1) at `pos`; `first` holds the bits that
 * go before the prefix in the first octet. Returns the position after it.
 * @internal (the decoder uses it too)
 */
export function writeInt(out: Uint8Array, pos: number, first: number, prefixBits: number, n: number): number {
  const max = (1 << prefixBits) - 1;
  if (n < max) {
    out[pos++] = first | n;
    return pos;
  }
  out[pos++] = first | max;
  n -= max;
  while (n >= 128) {
    out[pos++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

/** Writes a string literal (RFC 7541 §5.2) of a byte string, Huffman-coded or raw. */
function writeString(out: Uint8Array, pos: number, s: string, huffman: 'auto' | 'always' | 'never'): number {
  const hlen = huffman === 'never' ? -1 : huffmanLength(s);
  if (hlen < 0 || (huffman === 'auto' && hlen >= s.length)) {
    pos = writeInt(out, pos, 0, 7, s.length);
    for (let i = 0; i < s.length; i++) out[pos++] = s.charCodeAt(i);
    return pos;
  }
  pos = writeInt(out, pos, 0x80, 7, hlen);
  let acc = 0; // fewer than 8 pending bits between symbols
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const code = HUFFMAN[s.charCodeAt(i)]!;
    let len = code[0];
    const value = code[1];
    while (len > 0) {
      // at most 24 bits at a time, so the accumulator stays within 31 bits
      const take = len > 24 ? len - 24 : len;
      acc = (acc << take) | ((value >>> (len - take)) & ((1 << take) - 1));
      bits += take;
      len -= take;
      while (bits >= 8) {
        bits -= 8;
        out[pos++] = (acc >>> bits) & 0xff;
      }
      acc &= (1 << bits) - 1;
    }
  }
  // > As the Huffman-encoded data doesn't always end at an octet boundary, some padding is
  // > inserted after it, up to the next octet boundary ... the most significant bits of the code
  // > corresponding to the EOS (end-of-string) symbol.   RFC 7541 §5.2
  if (bits > 0) out[pos++] = ((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xff;
  return pos;
}

/** Encoding side of one connection's HPACK context. */
export class HpackEncoder {
  private readonly table: Table;
  private readonly cap: number;
  private readonly huffman: 'auto' | 'always' | 'never';
  /** name → value → absolute insertion number of the newest entry with both. */
  private readonly exact: Map<string, Map<string, number>>;
  /** name → absolute insertion number of the newest entry with that name. */
  private readonly names: Map<string, number>;
  private inserted: number;
  /**
   * The last few blocks of fixed field lists (see {@link isFixedFieldList}) that changed nothing
   * in the table, with the table's state they were coded against; a small ring, so a connection
   * asked for many different responses holds no more (shared blocks: callers must not write
   * into a returned block).
   */
  private readonly reuse: Array<{ fields: readonly HeaderField[]; inserted: number; maxSize: number; block: Uint8Array } | undefined>;
  private reuseNext: number;
  private pendingMin: number;
  private pendingFinal: number;

  constructor(options: HpackEncoderOptions = {}) {
    this.cap = options.maxTableSize ?? DEFAULT_HEADER_TABLE_SIZE;
    this.huffman = options.huffman ?? 'auto';
    // Until the peer's SETTINGS arrive, the RFC default of 4096 is the limit (RFC 9113 §6.5.2),
    // and the peer's decoder starts with a table of that size: a smaller cap must be announced
    // in the first block, or the two tables would evict differently.
    const initial = Math.min(this.cap, DEFAULT_HEADER_TABLE_SIZE);
    this.table = hpack.table.create({ maxSize: initial });
    this.exact = new Map();
    this.names = new Map();
    this.inserted = 0;
    this.reuse = [];
    this.reuseNext = 0;
    this.pendingMin = initial < DEFAULT_HEADER_TABLE_SIZE ? initial : -1;
    this.pendingFinal = this.pendingMin;
  }

  /** Octets held by the dynamic table (RFC 7541 §4.1 measure). */
  get tableSize(): number {
    return this.table.size;
  }

  /** The dynamic table's entries, newest first (RFC 7541 §2.3.2 index order). */
  dynamicEntries(): Array<readonly [string, string]> {
    return this.table.dynamic.map((e) => [e.name, e.value] as const).reverse();
  }

  /** Number of entries in the dynamic table. */
  get tableEntries(): number {
    return this.table.dynamic.length;
  }

  /**
   * Applies the peer's SETTINGS_HEADER_TABLE_SIZE. The table shrinks now (so nothing is
   * referenced that the peer has evicted) and the size update goes at the start of the next
   * block; a shrink followed by growth before that block sends both (RFC 7541 §4.2).
   */
  setMaxTableSize(peerLimit: number): void {
    if (!Number.isInteger(peerLimit) || peerLimit < 0 || peerLimit > 0xffffffff) throw new UsageError(`table size ${peerLimit} is not a 32-bit unsigned integer`);
    const size = Math.min(peerLimit, this.cap);
    if (size === this.table.maxSize && this.pendingFinal < 0) return;
    this.pendingMin = this.pendingMin < 0 ? Math.min(size, this.table.maxSize) : Math.min(this.pendingMin, size);
    this.pendingFinal = size;
    // hpack.js defect 2: updateSize cannot grow past the size it was created with.
    this.table.protocolMaxSize = Math.max(this.table.protocolMaxSize, size);
    this.table.updateSize(size);
  }

  /** Encodes one header block. */
  encode(headers: readonly HeaderInput[]): Uint8Array {
    const fields: HeaderField[] = [];
    for (const h of headers) {
      const name = toByteString(h[0]);
      const value = toByteString(h[1]);
      fields.push(h[2] === undefined ? [name, value] : [name, value, h[2]]);
    }
    return this.encodeByteStrings(fields);
  }

  /**
   * Encodes one header block of fields whose names and values are byte strings already (one
   * char per octet, as `prepareOutbound` leaves them); `encode` takes any input. A fixed list
   * (frozen, of frozen string pairs) coded again while the table is unchanged gets the same block.
   * @throws UsageError for a char above 0xFF, before anything changes.
   */
  encodeFields(fields: readonly HeaderField[]): Uint8Array {
    for (let i = 0; i < fields.length; i++) {
      const h = fields[i]!;
      if (typeof h[0] !== 'string' || typeof h[1] !== 'string' || !isByteString(h[0]) || !isByteString(h[1])) throw new UsageError(`header ${JSON.stringify(String(h[0]))}: encodeFields takes byte strings (chars up to 0xFF); encode() takes any`);
    }
    return this.encodeByteStrings(fields);
  }

  /**
   * @internal `encodeFields` without its check, for fields known to be byte strings (the
   * engine's, from `prepareOutbound`): a char above 0xFF here would be coded wrong.
   */
  encodeByteStrings(fields: readonly HeaderField[]): Uint8Array {
    // a fixed list coded before without touching the table codes the same way while the table
    // is as it was then: no entry added since, same size, no size update due
    const frozen = Object.isFrozen(fields);
    if (frozen && this.pendingFinal < 0) {
      for (const known of this.reuse) {
        if (known !== undefined && known.fields === fields && known.inserted === this.inserted && known.maxSize === this.table.maxSize) return known.block;
      }
    }
    const inserted = this.inserted;
    const sizeUpdate = this.pendingFinal >= 0;
    let out = scratch;
    let pos = 0;
    if (sizeUpdate) {
      this.reuse.length = 0; // the table may have lost entries (a shrink, maybe grown back since)
      // 001xxxxx: dynamic table size update (RFC 7541 §6.3)
      if (this.pendingMin < this.pendingFinal) pos = writeInt(out, pos, 0x20, 5, this.pendingMin);
      pos = writeInt(out, pos, 0x20, 5, this.pendingFinal);
      this.pendingMin = this.pendingFinal = -1;
    }
    for (let i = 0; i < fields.length; i++) {
      const h = fields[i]!;
      const name = h[0];
      const value = h[1];
      const bound = pos + fieldBound(name, value);
      if (bound > out.length) out = grow(out, pos, bound);
      pos = this.field(out, pos, name, value, h[2] ?? isSensitiveByDefault(name, value));
    }
    const block = Buffer.allocUnsafe(pos);
    if (pos <= 64) for (let i = 0; i < pos; i++) block[i] = out[i]!;
    else block.set(out.subarray(0, pos));
    // a huge block's buffer is not kept
    scratch = out.length > SCRATCH_KEEP ? Buffer.allocUnsafe(SCRATCH_SIZE) : out;
    if (frozen && !sizeUpdate && this.inserted === inserted && isFixedFieldList(fields)) {
      this.reuse[this.reuseNext] = { fields, inserted, maxSize: this.table.maxSize, block };
      this.reuseNext = (this.reuseNext + 1) % REUSE_SLOTS;
    }
    return block;
  }

  private field(out: Uint8Array, pos: number, name: string, value: string, sensitive: boolean): number {
    const st = STATIC_INDEX.get(name);
    if (!sensitive) {
      const full = st?.values.get(value) ?? this.dynamicExact(name, value);
      // indexed field (RFC 7541 §6.1)
      if (full !== undefined) return writeInt(out, pos, 0x80, 7, full);
    }
    const nameIndex = st?.index ?? this.dynamicName(name) ?? 0;
    const entrySize = name.length + value.length + 32;
    const index = !sensitive && !NO_INDEX.has(name) && entrySize <= (this.table.maxSize * 3) >>> 2;
    // literal with incremental indexing (§6.2.1) / never indexed (§6.2.3) / without indexing (§6.2.2)
    pos = index ? writeInt(out, pos, 0x40, 6, nameIndex) : writeInt(out, pos, sensitive ? 0x10 : 0, 4, nameIndex);
    if (nameIndex === 0) pos = this.string(out, pos, name, true);
    pos = this.string(out, pos, value, !sensitive && !SECRET_NAMES.has(name));
    if (index) this.insert(name, value);
    return pos;
  }

  /**
   * A string literal (RFC 7541 §5.2). Huffman-coding a string bit by bit is the slowest part of
   * encoding a block, and responses repeat the same literals (content types, validators,
   * lengths): short ones are coded once per process and copied (`memo`: never for credentials
   * or cookies, which must not outlive their request in a shared table).
   */
  private string(out: Uint8Array, pos: number, s: string, memo: boolean): number {
    if (!memo || s.length > MEMO_STRING_MAX) return writeString(out, pos, s, this.huffman);
    const strings = STRING_MEMO[this.huffman];
    let coded = strings.get(s);
    if (coded === undefined) {
      const end = writeString(out, pos, s, this.huffman);
      coded = new Uint8Array(out.subarray(pos, end)); // a copy: the scratch buffer is reused
      if (strings.size >= MEMO_ENTRIES) strings.clear();
      strings.set(s, coded);
      return end;
    }
    for (let i = 0; i < coded.length; i++) out[pos++] = coded[i]!;
    return pos;
  }

  private insert(name: string, value: string): void {
    this.table.add(name, value, name.length, value.length);
    const abs = this.inserted++;
    let vs = this.exact.get(name);
    if (!vs) this.exact.set(name, (vs = new Map()));
    vs.set(value, abs);
    this.names.set(name, abs);
    // Evicted entries stay in the maps until they outnumber the live ones; lookups check age.
    if (vs.size + this.names.size > 4 * (this.table.dynamic.length + 16)) this.purge();
  }

  /** Oldest absolute insertion number still in the table. */
  private get oldest(): number {
    return this.inserted - this.table.dynamic.length;
  }

  private toIndex(abs: number | undefined): number | undefined {
    if (abs === undefined || abs < this.oldest) return undefined;
    return STATIC_LENGTH + (this.inserted - abs);
  }

  private dynamicExact(name: string, value: string): number | undefined {
    return this.toIndex(this.exact.get(name)?.get(value));
  }

  private dynamicName(name: string): number | undefined {
    return this.toIndex(this.names.get(name));
  }

  private purge(): void {
    const oldest = this.oldest;
    for (const [n, vs] of this.exact) {
      for (const [v, abs] of vs) if (abs < oldest) vs.delete(v);
      if (vs.size === 0) this.exact.delete(n);
    }
    for (const [n, abs] of this.names) if (abs < oldest) this.names.delete(n);
  }
}
