/** DATA frames (RFC 9113 §6.1). */
import { ErrorCode, Flag, FrameType } from '../constants.js';
import { ConnectionError } from '../errors.js';
import { allocFrame, readPadLength } from './header.js';
import type { FrameSink } from './sink.js';
import type { DataFrame, FrameHeader } from './types.js';

export function decodeData(h: FrameHeader, p: Uint8Array): DataFrame {
  // > If a DATA frame is received whose Stream Identifier field is 0x00, the recipient MUST
  // > respond with a connection error (Section 5.4.1) of type PROTOCOL_ERROR.   RFC 9113 §6.1
  if (h.streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'DATA on stream 0');
  let data = p;
  let padLength: number | undefined;
  if (h.flags & Flag.PADDED) {
    padLength = readPadLength(h, p, 0);
    data = p.subarray(1, p.length - padLength);
  }
  return {
    type: FrameType.DATA,
    streamId: h.streamId,
    data,
    endStream: (h.flags & Flag.END_STREAM) !== 0,
    padLength,
    flowControlledLength: p.length,
  };
}

export function encodeData(sink: FrameSink, f: Pick<DataFrame, 'streamId' | 'data' | 'endStream' | 'padLength'>): void {
  const padded = f.padLength !== undefined;
  const len = f.data.length + (padded ? f.padLength! + 1 : 0);
  const flags = (f.endStream ? Flag.END_STREAM : 0) | (padded ? Flag.PADDED : 0);
  const small = f.data.length <= 256;
  const head = allocFrame(sink, padded ? 1 : 0, FrameType.DATA, flags, f.streamId, len);
  if (padded) head[9] = f.padLength!;
  if (small && f.data.length > 0) sink.alloc(f.data.length).set(f.data);
  else sink.push(f.data);
  if (padded) sink.zeros(f.padLength!);
}
