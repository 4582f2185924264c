/** RST_STREAM frames (RFC 9113 §6.4). */
import { ErrorCode, FrameType } from '../constants.js';
import { readU32, writeU32 } from '../bytes.js';
import { ConnectionError } from '../errors.js';
import { allocFrame } from './header.js';
import type { FrameSink } from './sink.js';
import type { FrameHeader, RstStreamFrame } from './types.js';

export function decodeRstStream(h: FrameHeader, p: Uint8Array): RstStreamFrame {
  // > If a RST_STREAM frame is received with a stream identifier of 0x00, the recipient MUST
  // > treat this as a connection error (Section 5.4.1) of type PROTOCOL_ERROR.   RFC 9113 §6.4
  if (h.streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
  // > A RST_STREAM frame with a length other than 4 octets MUST be treated as a connection
  // > error (Section 5.4.1) of type FRAME_SIZE_ERROR.   RFC 9113 §6.4
  if (p.length !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `RST_STREAM length ${p.length}, not 4`);
  return { type: FrameType.RST_STREAM, streamId: h.streamId, errorCode: readU32(p, 0) };
}

export function encodeRstStream(sink: FrameSink, f: Pick<RstStreamFrame, 'streamId' | 'errorCode'>): void {
  writeU32(allocFrame(sink, 4, FrameType.RST_STREAM, 0, f.streamId), 9, f.errorCode);
}
