/** PRIORITY frames (RFC 9113 §6.3; semantics RFC 7540 §5.3). */
import { ErrorCode, FrameType } from '../constants.js';
import { ConnectionError, StreamError } from '../errors.js';
import { allocFrame, readPriorityFields, writePriorityFields } from './header.js';
import type { FrameSink } from './sink.js';
import type { FrameHeader, PriorityFrame } from './types.js';

export function decodePriority(h: FrameHeader, p: Uint8Array): PriorityFrame {
  // > If a PRIORITY frame is received with a stream identifier of 0x00, the recipient MUST
  // > respond with a connection error (Section 5.4.1) of type PROTOCOL_ERROR.   RFC 9113 §6.3
  if (h.streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PRIORITY on stream 0');
  // > A PRIORITY frame with a length other than 5 octets MUST be treated as a stream error
  // > (Section 5.4.2) of type FRAME_SIZE_ERROR.   RFC 9113 §6.3
  if (p.length !== 5) throw new StreamError(h.streamId, ErrorCode.FRAME_SIZE_ERROR, `PRIORITY length ${p.length}, not 5`);
  const priority = readPriorityFields(p, 0);
  // > A stream cannot depend on itself. An endpoint MUST treat this as a stream error
  // > (Section 5.4.2) of type PROTOCOL_ERROR.   RFC 7540 §5.3.1
  if (priority.dependsOn === h.streamId) {
    throw new StreamError(h.streamId, ErrorCode.PROTOCOL_ERROR, 'PRIORITY: stream depends on itself');
  }
  return { type: FrameType.PRIORITY, streamId: h.streamId, priority };
}

export function encodePriority(sink: FrameSink, f: Pick<PriorityFrame, 'streamId' | 'priority'>): void {
  writePriorityFields(allocFrame(sink, 5, FrameType.PRIORITY, 0, f.streamId), 9, f.priority);
}
