/** CONTINUATION frames (RFC 9113 §6.10). The streaming decoder folds them into the HEADERS or PUSH_PROMISE before them. */
import { ErrorCode, Flag, FrameType } from '../constants.js';
import { ConnectionError } from '../errors.js';
import type { ContinuationFrame, FrameHeader } from './types.js';

export function decodeContinuation(h: FrameHeader, p: Uint8Array): ContinuationFrame {
  // > If a CONTINUATION frame is received with a Stream Identifier field of 0x00, the recipient
  // > MUST respond with a connection error (Section 5.4.1) of type PROTOCOL_ERROR.   RFC 9113 §6.10
  if (h.streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'CONTINUATION on stream 0');
  return { type: FrameType.CONTINUATION, streamId: h.streamId, headerBlock: p, endHeaders: (h.flags & Flag.END_HEADERS) !== 0 };
}
