// Types for the parts of hpack.js 2.1.6 (CommonJS, untyped) that the adapter drives.
// Kept out of every exported signature (isolatedDeclarations checks that).
declare module 'hpack.js' {
  interface TableEntry { name: string; value: string; nameSize: number; totalSize: number }
  interface Table {
    dynamic: TableEntry[];
    size: number;
    maxSize: number;
    protocolMaxSize: number;
    length: number;
    lookup(index: number): TableEntry;
    add(name: string, value: string, nameSize: number, valueSize: number): void;
    updateSize(size: number): void;
  }
  interface BitReader {
    push(chunk: Uint8Array): void;
    isEmpty(): boolean;
    decodeBit(): number;
    decodeInt(): number;
    decodeStr(): Buffer | number[];
  }
  interface BitWriter {
    encodeBit(bit: number): void;
    encodeBits(bits: number, len: number): void;
    encodeInt(n: number): void;
    encodeStr(value: ArrayLike<number>, huffman: boolean): void;
    render(): Buffer[];
  }
  const hpack: {
    table: { create(options: { maxSize: number }): Table };
    decoder: { create(): BitReader };
    encoder: { create(): BitWriter };
    huffman: { encode: ReadonlyArray<readonly [bits: number, code: number]> };
    'static-table': { table: readonly TableEntry[] };
    /** The stream (Duplex) API, used only by tests and benches as a baseline. */
    compressor: { create(options: unknown): unknown };
    decompressor: { create(options: unknown): unknown };
  };
  export = hpack;
}
