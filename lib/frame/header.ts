/**
 * The 9-octet frame header (RFC 9113 §4.1): read, write, and the shared padding and
 * priority-field helpers used by DATA, HEADERS, PRIORITY and PUSH_PROMISE.
 */
import { ErrorCode, FRAME_HEADER_LENGTH } from '../constants.js';
import { readU24, readU31, writeU24, writeU32 } from '../bytes.js';
import { ConnectionError } from '../errors.js';
import type { FrameHeader, PriorityFields } from './types.js';
import type { FrameSink } from './sink.js';

export function readFrameHeader(b: Uint8Array, o: number): FrameHeader {
  // > Reserved: A reserved 1-bit field. The semantics of this bit are undefined, and the bit
  // > MUST remain unset (0x0) when sending and MUST be ignored when receiving.   RFC 9113 §4.1
  return { length: readU24(b, o), type: b[o + 3]!, flags: b[o + 4]!, streamId: readU31(b, o + 5) };
}

/**
 * Allocates the header plus `inline` payload octets in the sink, writes the header for a
 * payload of `payloadLength` octets (the rest follows as views), returns the allocated view.
 */
export function allocFrame(
  sink: FrameSink, inline: number, type: number, flags: number, streamId: number, payloadLength: number = inline,
): Uint8Array {
  const f = sink.alloc(FRAME_HEADER_LENGTH + inline);
  writeU24(f, 0, payloadLength);
  f[3] = type;
  f[4] = flags;
  writeU32(f, 5, streamId & 0x7fffffff);
  return f;
}

/**
 * Length of the padding (not counting the Pad Length octet) of a PADDED frame.
 * `minBody` is the number of octets the frame needs besides padding.
 */
export function readPadLength(h: FrameHeader, p: Uint8Array, minBody: number): number {
  if (p.length < 1) {
    throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `${typeName(h.type)} frame too short for Pad Length`);
  }
  const pad = p[0]!;
  // > If the length of the padding is the length of the frame payload or greater, the
  // > recipient MUST treat this as a connection error of type PROTOCOL_ERROR.   RFC 9113 §6.1
  if (pad + 1 + minBody > p.length) {
    throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `${typeName(h.type)} padding ${pad} exceeds the payload`);
  }
  return pad;
}

export function readPriorityFields(p: Uint8Array, o: number): PriorityFields {
  return { dependsOn: readU31(p, o), weight: p[o + 4]! + 1, exclusive: (p[o]! & 0x80) !== 0 };
}

export function writePriorityFields(f: Uint8Array, o: number, pr: PriorityFields): void {
  writeU32(f, o, (pr.dependsOn & 0x7fffffff) + (pr.exclusive ? 0x80000000 : 0));
  f[o + 4] = pr.weight - 1;
}

const NAMES: Record<number, string> = {
  0: 'DATA', 1: 'HEADERS', 2: 'PRIORITY', 3: 'RST_STREAM', 4: 'SETTINGS', 5: 'PUSH_PROMISE', 6: 'PING',
  7: 'GOAWAY', 8: 'WINDOW_UPDATE', 9: 'CONTINUATION', 10: 'ALTSVC', 16: 'PRIORITY_UPDATE',
};

/** The RFC name of a frame type, or `UNKNOWN(0x…)`. */
export function typeName(type: number): string {
  return NAMES[type] ?? `UNKNOWN(0x${type.toString(16)})`;
}
