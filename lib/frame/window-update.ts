/** WINDOW_UPDATE frames (RFC 9113 §6.9). */
import { ErrorCode, FrameType } from '../constants.js';
import { readU31, writeU32 } from '../bytes.js';
import { ConnectionError } from '../errors.js';
import { allocFrame } from './header.js';
import type { FrameSink } from './sink.js';
import type { FrameHeader, WindowUpdateFrame } from './types.js';

export function decodeWindowUpdate(h: FrameHeader, p: Uint8Array): WindowUpdateFrame {
  // > A WINDOW_UPDATE frame with a length other than 4 octets MUST be treated as a connection
  // > error (Section 5.4.1) of type FRAME_SIZE_ERROR.   RFC 9113 §6.9
  if (p.length !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `WINDOW_UPDATE length ${p.length}, not 4`);
  const increment = readU31(p, 0);
  // > A receiver MUST treat the receipt of a WINDOW_UPDATE frame with a flow-control window
  // > increment of 0 as a stream error (Section 5.4.2) of type PROTOCOL_ERROR; errors on the
  // > connection flow-control window MUST be treated as a connection error.   RFC 9113 §6.9
  // Only the connection-level half is decided here. On a stream, the frame is returned with its
  // increment of 0 and the connection applies the rule after the stream's state: on an idle or
  // reserved (remote) stream the frame itself is a connection error (§5.1), on a closed stream
  // it is ignored, and RST_STREAM is never sent for an idle stream (§6.4).
  if (increment === 0 && h.streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE increment 0 on the connection');
  return { type: FrameType.WINDOW_UPDATE, streamId: h.streamId, increment };
}

export function encodeWindowUpdate(sink: FrameSink, f: Pick<WindowUpdateFrame, 'streamId' | 'increment'>): void {
  writeU32(allocFrame(sink, 4, FrameType.WINDOW_UPDATE, 0, f.streamId), 9, f.increment & 0x7fffffff);
}
