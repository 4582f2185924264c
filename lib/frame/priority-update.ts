/** PRIORITY_UPDATE frames (RFC 9218 §7.1). */
import { ErrorCode, FrameType } from '../constants.js';
import { latin1, readU31, writeU32 } from '../bytes.js';
import { ConnectionError } from '../errors.js';
import { allocFrame } from './header.js';
import type { FrameSink } from './sink.js';
import type { FrameHeader, PriorityUpdateFrame } from './types.js';

export function decodePriorityUpdate(h: FrameHeader, p: Uint8Array): PriorityUpdateFrame {
  // > The PRIORITY_UPDATE frame ... MUST be sent on stream 0. If a PRIORITY_UPDATE frame is
  // > received with a Stream Identifier other than 0x0, the recipient MUST respond with a
  // > connection error of type PROTOCOL_ERROR.   RFC 9218 §7.1
  if (h.streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PRIORITY_UPDATE on a stream');
  if (p.length < 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `PRIORITY_UPDATE length ${p.length} < 4`);
  const prioritizedStreamId = readU31(p, 0);
  // > If a PRIORITY_UPDATE frame is received with a Prioritized Stream ID of 0x0, the recipient
  // > MUST respond with a connection error of type PROTOCOL_ERROR.   RFC 9218 §7.1
  if (prioritizedStreamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PRIORITY_UPDATE for stream 0');
  return { type: FrameType.PRIORITY_UPDATE, streamId: 0, prioritizedStreamId, fieldValue: latin1(p.subarray(4)) };
}

export function encodePriorityUpdate(sink: FrameSink, f: Pick<PriorityUpdateFrame, 'prioritizedStreamId' | 'fieldValue'>): void {
  const v = Buffer.from(f.fieldValue, 'latin1');
  const b = allocFrame(sink, 4 + v.length, FrameType.PRIORITY_UPDATE, 0, 0);
  writeU32(b, 9, f.prioritizedStreamId & 0x7fffffff);
  b.set(v, 13);
}
