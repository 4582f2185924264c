/** PUSH_PROMISE frames (RFC 9113 §6.6). */
import { ErrorCode, Flag, FrameType } from '../constants.js';
import { readU31 } from '../bytes.js';
import { ConnectionError } from '../errors.js';
import { readPadLength } from './header.js';
import type { FrameHeader, PushPromiseFrame } from './types.js';

export function decodePushPromise(h: FrameHeader, p: Uint8Array): PushPromiseFrame {
  // > If the Stream Identifier field specifies the value 0x00, a recipient MUST respond with a
  // > connection error (Section 5.4.1) of type PROTOCOL_ERROR.   RFC 9113 §6.6
  if (h.streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PUSH_PROMISE on stream 0');
  let start = 0;
  let end = p.length;
  let padLength: number | undefined;
  if (h.flags & Flag.PADDED) {
    padLength = readPadLength(h, p, 4);
    start = 1;
    end -= padLength;
  } else if (p.length < 4) {
    throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'PUSH_PROMISE too short for the promised stream id');
  }
  return {
    type: FrameType.PUSH_PROMISE,
    streamId: h.streamId,
    promisedStreamId: readU31(p, start),
    headerBlock: p.subarray(start + 4, end),
    endHeaders: (h.flags & Flag.END_HEADERS) !== 0,
    padLength,
  };
}
