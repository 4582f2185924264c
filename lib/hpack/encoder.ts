/**
 * HPACK encoder (RFC 7541) over hpack.js's bit writer, Huffman code and table, with the fixes
 * its defects need: a full-depth `Map` index of the dynamic table (hpack.js searches only the
 * newest 32 entries and crashes on names such as `constructor`), dynamic table size updates
 * emitted at the start of the next block (smallest, then final, RFC 7541 §4.2), Huffman only
 * when it is shorter, and never-indexed fields for secrets.
 */
import hpack from 'hpack.js';
import { DEFAULT_HEADER_TABLE_SIZE } from '../constants.js';
import { concat, toByteString } from '../bytes.js';
import { UsageError } from '../errors.js';
import { STATIC_INDEX, STATIC_LENGTH } from './static.js';
import type { HeaderInput } from './types.js';

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
type BitWriter = ReturnType<typeof hpack.encoder.create>;

/**
 * hpack.js defect 10: its byte writer (wbuf) allocates each chunk with the deprecated
 * `new Buffer(n)`, whose deprecation check cost 3% of a busy server's CPU. Patched once, on
 * wbuf's prototype, to `Buffer.allocUnsafe` (the same uninitialized memory, without the check).
 */
let wbufPatched = false;
function patchWbuf(writer: BitWriter): void {
  if (wbufPatched) return;
  wbufPatched = true;
  const buf = (writer as unknown as { buffer?: object }).buffer;
  if (buf === undefined) return;
  type WBuf = { sliceQueue: Buffer[] | null; toReserve: number; buffers: Buffer[]; avail: number; offset: number; last: Buffer | null; _next?: () => void };
  const proto = Object.getPrototypeOf(buf) as WBuf;
  const next = proto._next;
  if (typeof next !== 'function') return;
  proto._next = function (this: WBuf): void {
    if (this.sliceQueue !== null) return next.call(this);
    const b = Buffer.allocUnsafe(this.toReserve);
    this.toReserve = 0;
    this.buffers.push(b);
    this.avail = b.length;
    this.offset = 0;
    this.last = b;
  };
}
const HUFFMAN = hpack.huffman.encode;

/** Coded string literals shared by every encoder of the process: one map per Huffman mode. */
const STRING_MEMO: Record<'auto' | 'always' | 'never', Map<string, Buffer>> = { auto: new Map(), always: new Map(), never: new Map() };
/** Strings longer than this are coded each time; the memo is emptied when it reaches MEMO_ENTRIES. */
const MEMO_STRING_MAX = 128;
const MEMO_ENTRIES = 4096;
/** @internal For tests: whether a string's coding is in the process-wide memo (any Huffman mode). */
export function stringMemoHolds(s: string): boolean {
  return STRING_MEMO.auto.has(s) || STRING_MEMO.always.has(s) || STRING_MEMO.never.has(s);
}

/** Fields whose values are never kept in the process-wide memo. */
const SECRET_NAMES: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

function huffmanLength(bytes: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < bytes.length; i++) bits += HUFFMAN[bytes[i]!]![0];
  return (bits + 7) >>> 3;
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
    const w = hpack.encoder.create();
    patchWbuf(w);
    if (this.pendingFinal >= 0) {
      if (this.pendingMin < this.pendingFinal) this.sizeUpdate(w, this.pendingMin);
      this.sizeUpdate(w, this.pendingFinal);
      this.pendingMin = this.pendingFinal = -1;
    }
    for (const h of headers) {
      const name = toByteString(h[0]);
      const value = toByteString(h[1]);
      const sensitive = h[2] ?? isSensitiveByDefault(name, value);
      this.field(w, name, value, sensitive);
    }
    const parts = w.render();
    return parts.length === 0 ? new Uint8Array(0) : concat(parts);
  }

  private sizeUpdate(w: BitWriter, size: number): void {
    w.encodeBits(0b001, 3);
    w.encodeInt(size);
  }

  private field(w: BitWriter, name: string, value: string, sensitive: boolean): void {
    const st = STATIC_INDEX.get(name);
    if (!sensitive) {
      const full = st?.values.get(value) ?? this.dynamicExact(name, value);
      if (full !== undefined) {
        w.encodeBit(1); // indexed field (RFC 7541 §6.1)
        w.encodeInt(full);
        return;
      }
    }
    const nameIndex = st?.index ?? this.dynamicName(name) ?? 0;
    const entrySize = name.length + value.length + 32;
    const index = !sensitive && !NO_INDEX.has(name) && entrySize <= (this.table.maxSize * 3) >>> 2;
    if (index) w.encodeBits(0b01, 2); // literal with incremental indexing (§6.2.1)
    else w.encodeBits(sensitive ? 0b0001 : 0b0000, 4); // never indexed (§6.2.3) / without indexing (§6.2.2)
    w.encodeInt(nameIndex);
    if (nameIndex === 0) this.string(w, name, true);
    this.string(w, value, !sensitive && !SECRET_NAMES.has(name));
    if (index) this.insert(name, value);
  }

  /**
   * A string literal (RFC 7541 §5.2). Huffman-coding a string bit by bit is the slowest part of
   * encoding a block, and responses repeat the same literals (content types, validators,
   * lengths): short ones are coded once per process and copied (`memo`: never for credentials
   * or cookies, which must not outlive their request in a shared table).
   */
  private string(w: BitWriter, s: string, memo: boolean): void {
    if (memo && s.length <= MEMO_STRING_MAX) {
      const memo = STRING_MEMO[this.huffman];
      let coded = memo.get(s);
      if (coded === undefined) {
        const t = hpack.encoder.create();
        patchWbuf(t);
        this.codeString(t, s);
        coded = Buffer.concat(t.render());
        if (memo.size >= MEMO_ENTRIES) memo.clear();
        memo.set(s, coded);
      }
      // a string literal starts on an octet boundary (after the prefixed integer before it)
      (w as unknown as { buffer: { copyFrom(b: Buffer): void } }).buffer.copyFrom(coded);
      return;
    }
    this.codeString(w, s);
  }

  private codeString(w: BitWriter, s: string): void {
    const bytes = Buffer.from(s, 'latin1');
    const huff = this.huffman === 'always' || (this.huffman === 'auto' && huffmanLength(bytes) < bytes.length);
    w.encodeStr(bytes, huff);
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
