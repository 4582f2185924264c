/** HEADERS frames (RFC 9113 §6.2), with optional padding and RFC 7540 priority fields. */
import { ErrorCode, Flag, FrameType } from '../constants.js';
import { ConnectionError } from '../errors.js';
import { readPadLength, readPriorityFields } from './header.js';
import type { FrameHeader, HeadersFrame } from './types.js';

export function decodeHeaders(h: FrameHeader, p: Uint8Array): HeadersFrame {
  // > If a HEADERS frame is received whose Stream Identifier field is 0x00, the recipient MUST
  // > respond with a connection error (Section 5.4.1) of type PROTOCOL_ERROR.   RFC 9113 §6.2
  if (h.streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'HEADERS on stream 0');
  const hasPriority = (h.flags & Flag.PRIORITY) !== 0;
  const need = hasPriority ? 5 : 0;
  let start = 0;
  let end = p.length;
  let padLength: number | undefined;
  if (h.flags & Flag.PADDED) {
    padLength = readPadLength(h, p, need);
    start = 1;
    end -= padLength;
  } else if (p.length < need) {
    // A frame carrying a field block changes connection state: a size error is connection-wide (§4.2).
    throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'HEADERS too short for priority fields');
  }
  const priority = hasPriority ? readPriorityFields(p, start) : undefined;
  return {
    type: FrameType.HEADERS,
    streamId: h.streamId,
    headerBlock: p.subarray(start + need, end),
    endStream: (h.flags & Flag.END_STREAM) !== 0,
    endHeaders: (h.flags & Flag.END_HEADERS) !== 0,
    padLength,
    priority,
  };
}
