/** PING frames (RFC 9113 §6.7). */
import { ErrorCode, Flag, FrameType } from '../constants.js';
import { ConnectionError } from '../errors.js';
import { allocFrame } from './header.js';
import type { FrameSink } from './sink.js';
import type { FrameHeader, PingFrame } from './types.js';

export function decodePing(h: FrameHeader, p: Uint8Array): PingFrame {
  // > If a PING frame is received with a Stream Identifier field value other than 0x00, the
  // > recipient MUST respond with a connection error (Section 5.4.1) of type PROTOCOL_ERROR.
  if (h.streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PING on a stream');
  // > Receipt of a PING frame with a length field value other than 8 MUST be treated as a
  // > connection error (Section 5.4.1) of type FRAME_SIZE_ERROR.   RFC 9113 §6.7
  if (p.length !== 8) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `PING length ${p.length}, not 8`);
  return { type: FrameType.PING, streamId: 0, ack: (h.flags & Flag.ACK) !== 0, opaqueData: p };
}

export function encodePing(sink: FrameSink, f: Pick<PingFrame, 'ack' | 'opaqueData'>): void {
  allocFrame(sink, 8, FrameType.PING, f.ack ? Flag.ACK : 0, 0).set(f.opaqueData.subarray(0, 8), 9);
}
