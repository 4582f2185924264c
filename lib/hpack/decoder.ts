/**
 * HPACK decoder (RFC 7541) over hpack.js's bit reader, Huffman code and table. It enforces
 * SETTINGS_MAX_HEADER_LIST_SIZE while decoding (name + value + 32 per field, RFC 9113 §6.5.2):
 * past the limit no further field is materialized, but the rest of the block is still processed
 * so that the dynamic table stays in step with the peer's encoder (RFC 9113 §10.5.1), and then
 * a stream error is raised. Every malformed block is a COMPRESSION_ERROR connection error.
 */
import hpack from 'hpack.js';
import { DEFAULT_HEADER_TABLE_SIZE, DEFAULT_MAX_HEADER_LIST_SIZE, ErrorCode } from '../constants.js';
import { ConnectionError, StreamError, UsageError } from '../errors.js';
import type { HeaderField } from './types.js';
import { writeInt } from './encoder.js';

/** Options of {@link HpackDecoder}. */
export interface HpackDecoderOptions {
  /** Our SETTINGS_HEADER_TABLE_SIZE: the largest table the peer may use. Default 4096. */
  maxTableSize?: number;
  /** Our SETTINGS_MAX_HEADER_LIST_SIZE. Default 65536. */
  maxHeaderListSize?: number;
}

type Table = ReturnType<typeof hpack.table.create>;
type BitReader = ReturnType<typeof hpack.decoder.create>;

function str(s: Buffer | number[]): string {
  if (!Array.isArray(s)) return s.toString('latin1');
  let out = '';
  for (let i = 0; i < s.length; i += 4096) out += String.fromCharCode.apply(null, s.slice(i, i + 4096));
  return out;
}

/**
 * The fields whose values the process-wide memo may keep: request fields that repeat from
 * request to request and name no secret. Anything else (credentials, cookies, API keys, custom
 * fields) is decoded each time, so it does not outlive its request; `:path` only without a query
 * (which may carry a token).
 */
const MEMO_VALUES: ReadonlySet<string> = new Set([
  ':authority', ':method', ':path', ':scheme', ':status', 'accept', 'accept-encoding', 'accept-language', 'cache-control',
  'content-type', 'origin', 'pragma', 'priority', 'sec-ch-ua', 'sec-ch-ua-mobile', 'sec-ch-ua-platform', 'sec-fetch-dest',
  'sec-fetch-mode', 'sec-fetch-site', 'sec-fetch-user', 'te', 'upgrade-insecure-requests', 'user-agent',
  'content-encoding', 'vary', 'server', 'accept-ranges',
]);

/**
 * Huffman-coded literals decoded before, by their coded octets, shared by every decoder of the
 * process: requests repeat the same paths and values, and hpack.js decodes bit by bit into an
 * array. Short strings only; emptied when full; field names, and the values of the fields in
 * {@link MEMO_VALUES} unless sent never-indexed.
 */
const HUFFMAN_MEMO = new Map<string, string>();
const MEMO_CODED_MAX = 64;
const MEMO_ENTRIES = 4096;
/** @internal For tests: whether a decoded string is in the process-wide memo. */
export function decodeMemoHolds(s: string): boolean {
  for (const v of HUFFMAN_MEMO.values()) if (v === s) return true;
  return false;
}

interface ByteQueue { has(n: number): boolean; take(n: number): Buffer }

/**
 * A string literal (RFC 7541 §5.2) read at an octet boundary; `memo`: it may be remembered
 * (`'path'`: unless it has a query).
 */
function literal(r: BitReader, memo: boolean | 'path'): string {
  if (!memo) return str(r.decodeStr());
  const q = (r as unknown as { buffer: ByteQueue }).buffer;
  if (!q.has(1)) return str(r.decodeStr()); // hpack.js reports the truncation
  const huffman = r.decodeBit() === 1;
  const length = r.decodeInt();
  if (!q.has(length)) throw new Error('Not enough octets for string');
  const raw = q.take(length);
  if (!huffman) return raw.toString('latin1');
  if (length > MEMO_CODED_MAX) return decodeHuffman(raw);
  const key = raw.toString('latin1');
  let s = HUFFMAN_MEMO.get(key);
  if (s === undefined) {
    s = decodeHuffman(raw);
    if (memo === 'path' && s.includes('?')) return s;
    if (HUFFMAN_MEMO.size >= MEMO_ENTRIES) HUFFMAN_MEMO.clear();
    HUFFMAN_MEMO.set(key, s);
  }
  return s;
}

/** Huffman-decodes coded octets with hpack.js (a reader of its own: an error leaves nothing behind). */
function decodeHuffman(raw: Buffer): string {
  const prefix = Buffer.alloc(8); // H bit and the length, a 7-bit prefix integer (RFC 7541 §5.2)
  const end = writeInt(prefix, 0, 0x80, 7, raw.length);
  const reader = hpack.decoder.create();
  reader.push(prefix.subarray(0, end));
  reader.push(raw);
  return str(reader.decodeStr());
}

/**
 * hpack.js defect 9: its byte queue (obuf) answers `take(0)` — every empty string literal — with
 * the deprecated `new Buffer(0)`, whose deprecation check cost 4% of a busy server's CPU. Patched
 * once, on obuf's prototype, to return one shared empty Buffer (same behaviour, nothing to write).
 */
let obufPatched = false;
function patchObuf(reader: BitReader): void {
  if (obufPatched) return;
  obufPatched = true;
  const queue = (reader as unknown as { buffer?: object }).buffer;
  if (queue === undefined) return;
  const proto = Object.getPrototypeOf(queue) as { take?: (n: number) => Buffer };
  const take = proto.take;
  if (typeof take !== 'function') return;
  const empty = Buffer.alloc(0);
  proto.take = function (this: unknown, n: number): Buffer {
    return n === 0 ? empty : take.call(this, n);
  };
}

/** Decoding side of one connection's HPACK context. */
export class HpackDecoder {
  /** Our SETTINGS_MAX_HEADER_LIST_SIZE; a block decoding to more is refused. */
  maxHeaderListSize: number;
  private readonly table: Table;
  private reader: BitReader;
  /** Set when our limit fell below the table's size: the next block must start with an update. */
  private updateRequired: boolean;

  constructor(options: HpackDecoderOptions = {}) {
    const size = options.maxTableSize ?? DEFAULT_HEADER_TABLE_SIZE;
    // hpack.js defect 1: its `{table: {size}}` option is ignored; `maxSize` is what it reads.
    this.table = hpack.table.create({ maxSize: size });
    this.reader = hpack.decoder.create();
    patchObuf(this.reader);
    this.maxHeaderListSize = options.maxHeaderListSize ?? DEFAULT_MAX_HEADER_LIST_SIZE;
    this.updateRequired = false;
  }

  /** Octets held by the dynamic table, by the RFC 7541 §4.1 measure. */
  get tableSize(): number {
    return this.table.size;
  }

  /** The dynamic table's entries, newest first (RFC 7541 §2.3.2 index order). */
  dynamicEntries(): HeaderField[] {
    return this.table.dynamic.map((e): HeaderField => [e.name, e.value]).reverse();
  }

  /** The table's current maximum size (the last size update the peer sent). */
  get tableMaxSize(): number {
    return this.table.maxSize;
  }

  /**
   * Sets the limit our SETTINGS_HEADER_TABLE_SIZE puts on the peer's table. If it is below the
   * size the peer's table has now, the peer's next block must start with a size update.
   */
  setMaxTableSize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > 0xffffffff) throw new UsageError(`table size ${size} is not a 32-bit unsigned integer`);
    this.table.protocolMaxSize = size;
    if (this.table.maxSize > size) this.updateRequired = true;
  }

  /**
   * Decodes one complete header block.
   * @param streamId the stream the block belongs to, used for the header-list-size stream error.
   * @throws ConnectionError COMPRESSION_ERROR for a malformed block (RFC 9113 §4.3).
   * @throws StreamError ENHANCE_YOUR_CALM when the list exceeds `maxHeaderListSize`; the table
   *   has still been updated by the whole block.
   */
  decode(block: Uint8Array, streamId = 0): HeaderField[] {
    const out: HeaderField[] = [];
    let listSize = 0;
    let oversized = false;
    const table = this.table;
    const r = this.reader;
    try {
      // hpack.js (obuf) slices what it is given: it must be a Buffer, or literal strings come
      // back as Uint8Arrays whose toString ignores the encoding. A view, not a copy.
      r.push(Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength));
      let first = true;
      while (!r.isEmpty()) {
        let name: string;
        let value: string;
        let sensitive = false;
        if (r.decodeBit()) {
          // 1xxxxxxx: indexed field (RFC 7541 §6.1)
          const e = table.lookup(r.decodeInt());
          name = e.name;
          value = e.value;
        } else {
          const incremental = r.decodeBit() === 1;
          if (!incremental) {
            if (r.decodeBit()) {
              // 001xxxxx: dynamic table size update (RFC 7541 §6.3)
              // > This dynamic table size update MUST occur at the beginning of a field block.
              // > ... MUST be treated as a decoding error.   RFC 7541 §4.2 (hpack.js defect 6)
              if (!first) throw new Error('table size update after the first field');
              const size = r.decodeInt();
              // > The new maximum size MUST be lower than or equal to the limit determined by the
              // > protocol using HPACK. A value that exceeds this limit MUST be treated as a
              // > decoding error.   RFC 7541 §6.3
              if (size > table.protocolMaxSize) throw new Error(`table size update ${size} above ${table.protocolMaxSize}`);
              table.updateSize(size);
              this.updateRequired = false;
              continue;
            }
            sensitive = r.decodeBit() === 1; // 0001xxxx never indexed, 0000xxxx without indexing
          }
          const index = r.decodeInt();
          name = index === 0 ? literal(r, true) : table.lookup(index).name;
          value = literal(r, sensitive || !MEMO_VALUES.has(name) ? false : name === ':path' ? 'path' : true);
          if (incremental) table.add(name, value, name.length, value.length);
        }
        if (first) {
          if (this.updateRequired) throw new Error('missing dynamic table size update after a SETTINGS change');
          first = false;
        }
        listSize += name.length + value.length + 32;
        if (listSize > this.maxHeaderListSize) oversized = true;
        if (!oversized) out.push(sensitive ? [name, value, true] : [name, value]);
      }
      if (first && this.updateRequired) throw new Error('missing dynamic table size update after a SETTINGS change');
    } catch (e) {
      // hpack.js throws plain Errors (and TypeErrors on truncated integers, defect 8); all of
      // them mean the block is undecodable and the shared context is lost.
      this.reader = hpack.decoder.create();
      // > A decoding error in a field block MUST be treated as a connection error
      // > (Section 5.4.1) of type COMPRESSION_ERROR.   RFC 9113 §4.3
      throw new ConnectionError(ErrorCode.COMPRESSION_ERROR, `HPACK: ${(e as Error).message}`);
    }
    if (oversized) {
      throw new StreamError(streamId, ErrorCode.ENHANCE_YOUR_CALM,
        `header list of ${listSize} octets exceeds SETTINGS_MAX_HEADER_LIST_SIZE ${this.maxHeaderListSize}`);
    }
    return out;
  }
}
