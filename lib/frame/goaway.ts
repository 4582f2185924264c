/** GOAWAY frames (RFC 9113 §6.8). */
import { ErrorCode, FrameType } from '../constants.js';
import { readU31, readU32, writeU32 } from '../bytes.js';
import { ConnectionError } from '../errors.js';
import { allocFrame } from './header.js';
import type { FrameSink } from './sink.js';
import type { FrameHeader, GoawayFrame } from './types.js';

export function decodeGoaway(h: FrameHeader, p: Uint8Array): GoawayFrame {
  // > An endpoint MUST treat a GOAWAY frame with a stream identifier other than 0x00 as a
  // > connection error (Section 5.4.1) of type PROTOCOL_ERROR.   RFC 9113 §6.8
  if (h.streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'GOAWAY on a stream');
  if (p.length < 8) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `GOAWAY length ${p.length} < 8`);
  return { type: FrameType.GOAWAY, streamId: 0, lastStreamId: readU31(p, 0), errorCode: readU32(p, 4), debugData: p.subarray(8) };
}

export function encodeGoaway(sink: FrameSink, f: Pick<GoawayFrame, 'lastStreamId' | 'errorCode' | 'debugData'>): void {
  const b = allocFrame(sink, 8 + f.debugData.length, FrameType.GOAWAY, 0, 0);
  writeU32(b, 9, f.lastStreamId & 0x7fffffff);
  writeU32(b, 13, f.errorCode);
  b.set(f.debugData, 17);
}
