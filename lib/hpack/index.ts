/**
 * The HPACK adapter: a synchronous encoder/decoder pair over hpack.js (RFC 7541), with the
 * limits and fixes HTTP/2 needs. {@link HeaderCodec} is one connection's pair.
 */
import { HpackDecoder, type HpackDecoderOptions } from './decoder.js';
import { HpackEncoder, type HpackEncoderOptions } from './encoder.js';
import type { HeaderField, HeaderInput } from './types.js';

export { HpackDecoder, type HpackDecoderOptions } from './decoder.js';
export { HpackEncoder, isSensitiveByDefault, type HpackEncoderOptions } from './encoder.js';
export type { HeaderField, HeaderInput } from './types.js';

/** Options of {@link HeaderCodec}. */
export interface HeaderCodecOptions {
  encoder?: HpackEncoderOptions;
  decoder?: HpackDecoderOptions;
}

/** The HPACK context of one connection: our encoder and our decoder, each with its own table. */
export class HeaderCodec {
  readonly encoder: HpackEncoder;
  readonly decoder: HpackDecoder;

  constructor(options: HeaderCodecOptions = {}) {
    this.encoder = new HpackEncoder(options.encoder);
    this.decoder = new HpackDecoder(options.decoder);
  }

  /** Encodes a header block for the peer. */
  encode(headers: readonly HeaderInput[]): Uint8Array {
    return this.encoder.encode(headers);
  }

  /**
   * Encodes a block whose names and values are byte strings already (chars up to 0xFF).
   * @throws UsageError for a char above 0xFF, before anything changes.
   */
  encodeFields(fields: readonly HeaderField[]): Uint8Array {
    return this.encoder.encodeFields(fields);
  }

  /** @internal The engine's fields (from `prepareOutbound`): byte strings, not checked again. */
  encodeByteStrings(fields: readonly HeaderField[]): Uint8Array {
    return this.encoder.encodeByteStrings(fields);
  }

  /**
   * Decodes a header block from the peer.
   * @throws ConnectionError COMPRESSION_ERROR; StreamError when over the header-list limit.
   */
  decode(block: Uint8Array, streamId?: number): HeaderField[] {
    return this.decoder.decode(block, streamId);
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE arrived: bound our encoder's table. */
  setEncoderMaxTableSize(peerLimit: number): void {
    this.encoder.setMaxTableSize(peerLimit);
  }

  /** Our SETTINGS_HEADER_TABLE_SIZE took effect: bound the peer's table. */
  setDecoderMaxTableSize(limit: number): void {
    this.decoder.setMaxTableSize(limit);
  }
}
