/** ALTSVC frames (RFC 7838 §4). */
import { FrameType } from '../constants.js';
import { latin1, readU16, writeU16 } from '../bytes.js';
import { allocFrame } from './header.js';
import type { FrameSink } from './sink.js';
import type { AltsvcFrame, FrameHeader } from './types.js';

/**
 * Decodes ALTSVC. Returns `undefined` for a frame RFC 7838 §4 says to ignore: too short for
 * its Origin-Len, an empty origin on stream 0, or an origin on a stream.
 */
export function decodeAltsvc(h: FrameHeader, p: Uint8Array): AltsvcFrame | undefined {
  if (p.length < 2) return undefined;
  const originLength = readU16(p, 0);
  if (originLength > p.length - 2) return undefined;
  // > An ALTSVC frame on stream 0 with empty (length 0) "Origin" information is invalid and
  // > MUST be ignored. An ALTSVC frame on a stream other than stream 0 containing non-empty
  // > "Origin" information is invalid and MUST be ignored.   RFC 7838 §4
  if ((h.streamId === 0) !== (originLength > 0)) return undefined;
  return {
    type: FrameType.ALTSVC,
    streamId: h.streamId,
    origin: latin1(p.subarray(2, 2 + originLength)),
    fieldValue: latin1(p.subarray(2 + originLength)),
  };
}

export function encodeAltsvc(sink: FrameSink, f: Pick<AltsvcFrame, 'streamId' | 'origin' | 'fieldValue'>): void {
  const o = Buffer.from(f.origin, 'latin1');
  const v = Buffer.from(f.fieldValue, 'latin1');
  const b = allocFrame(sink, 2 + o.length + v.length, FrameType.ALTSVC, 0, f.streamId);
  writeU16(b, 9, o.length);
  b.set(o, 11);
  b.set(v, 11 + o.length);
}
