/**
 * Frame encoder: frame records → bytes in a {@link FrameSink}. Header blocks larger than the
 * peer's MAX_FRAME_SIZE are split into HEADERS/PUSH_PROMISE + CONTINUATION frames (RFC 9113
 * §4.3); END_STREAM stays on the first frame, END_HEADERS goes on the last. Reserved bits are
 * always sent as zero.
 */
import { Flag, FrameType, MIN_MAX_FRAME_SIZE } from '../constants.js';
import { concat, writeU32 } from '../bytes.js';
import { UsageError } from '../errors.js';
import { encodeAltsvc } from './altsvc.js';
import { encodeData } from './data.js';
import { encodeGoaway } from './goaway.js';
import { allocFrame, writePriorityFields } from './header.js';
import { encodePing } from './ping.js';
import { encodePriority } from './priority.js';
import { encodePriorityUpdate } from './priority-update.js';
import { encodeRstStream } from './rst-stream.js';
import { encodeSettings } from './settings.js';
import { FrameSink } from './sink.js';
import type { Frame, HeadersFrame, KnownFrame, PushPromiseFrame, UnknownFrame } from './types.js';
import { encodeWindowUpdate } from './window-update.js';

/** Options of the header-block frames, as given to {@link encodeHeaders}. */
/** `endHeaders: false` leaves the block open: the caller sends the CONTINUATION frames itself. */
export type HeadersInit = Pick<HeadersFrame, 'streamId' | 'headerBlock' | 'endStream' | 'padLength' | 'priority'> & { endHeaders?: boolean };
export type PushPromiseInit = Pick<PushPromiseFrame, 'streamId' | 'promisedStreamId' | 'headerBlock' | 'padLength'> & { endHeaders?: boolean };

/** HEADERS (+ CONTINUATION) carrying one whole header block. */
export function encodeHeaders(sink: FrameSink, f: HeadersInit, maxFrameSize: number = MIN_MAX_FRAME_SIZE): void {
  const padded = f.padLength !== undefined;
  const pad = padded ? f.padLength! : 0;
  const fixed = (padded ? 1 : 0) + (f.priority ? 5 : 0);
  const first = Math.min(f.headerBlock.length, maxFrameSize - fixed - pad);
  if (first < 0) throw new UsageError(`padding ${pad} does not fit in a ${maxFrameSize}-octet frame`);
  const done = first === f.headerBlock.length && f.endHeaders !== false;
  const flags = (f.endStream ? Flag.END_STREAM : 0) | (done ? Flag.END_HEADERS : 0) |
    (padded ? Flag.PADDED : 0) | (f.priority ? Flag.PRIORITY : 0);
  const b = allocFrame(sink, fixed + first, FrameType.HEADERS, flags, f.streamId, fixed + first + pad);
  let o = 9;
  if (padded) b[o++] = pad;
  if (f.priority) {
    writePriorityFields(b, o, f.priority);
    o += 5;
  }
  b.set(f.headerBlock.subarray(0, first), o);
  sink.zeros(pad);
  continuations(sink, f.streamId, f.headerBlock, first, maxFrameSize, f.endHeaders !== false);
}

/** PUSH_PROMISE (+ CONTINUATION). */
export function encodePushPromise(sink: FrameSink, f: PushPromiseInit, maxFrameSize: number = MIN_MAX_FRAME_SIZE): void {
  const padded = f.padLength !== undefined;
  const pad = padded ? f.padLength! : 0;
  const fixed = (padded ? 1 : 0) + 4;
  const first = Math.min(f.headerBlock.length, maxFrameSize - fixed - pad);
  if (first < 0) throw new UsageError(`padding ${pad} does not fit in a ${maxFrameSize}-octet frame`);
  const done = first === f.headerBlock.length && f.endHeaders !== false;
  const flags = (done ? Flag.END_HEADERS : 0) | (padded ? Flag.PADDED : 0);
  const b = allocFrame(sink, fixed + first, FrameType.PUSH_PROMISE, flags, f.streamId, fixed + first + pad);
  let o = 9;
  if (padded) b[o++] = pad;
  writeU32(b, o, f.promisedStreamId & 0x7fffffff);
  b.set(f.headerBlock.subarray(0, first), o + 4);
  sink.zeros(pad);
  continuations(sink, f.streamId, f.headerBlock, first, maxFrameSize, f.endHeaders !== false);
}

function continuations(sink: FrameSink, streamId: number, block: Uint8Array, from: number, maxFrameSize: number, end: boolean): void {
  let o = from;
  while (o < block.length) {
    const n = Math.min(maxFrameSize, block.length - o);
    const last = o + n === block.length && end;
    allocFrame(sink, 0, FrameType.CONTINUATION, last ? Flag.END_HEADERS : 0, streamId, n);
    sink.push(block.subarray(o, o + n));
    o += n;
  }
}

function encodeUnknown(sink: FrameSink, f: UnknownFrame): void {
  allocFrame(sink, 0, f.type, f.flags, f.streamId, f.payload.length);
  sink.push(f.payload);
}

/**
 * Appends any frame to the sink. HEADERS and PUSH_PROMISE are split at `maxFrameSize` (the
 * peer's SETTINGS_MAX_FRAME_SIZE); a lone CONTINUATION is written as given.
 */
export function encodeFrame(sink: FrameSink, frame: Frame, maxFrameSize: number = MIN_MAX_FRAME_SIZE): void {
  const f = frame as KnownFrame;
  switch (f.type) {
    case FrameType.DATA: return encodeData(sink, f);
    case FrameType.HEADERS: return encodeHeaders(sink, f, maxFrameSize);
    case FrameType.PRIORITY: return encodePriority(sink, f);
    case FrameType.RST_STREAM: return encodeRstStream(sink, f);
    case FrameType.SETTINGS: return encodeSettings(sink, f);
    case FrameType.PUSH_PROMISE: return encodePushPromise(sink, f, maxFrameSize);
    case FrameType.PING: return encodePing(sink, f);
    case FrameType.GOAWAY: return encodeGoaway(sink, f);
    case FrameType.WINDOW_UPDATE: return encodeWindowUpdate(sink, f);
    case FrameType.CONTINUATION:
      allocFrame(sink, 0, FrameType.CONTINUATION, f.endHeaders ? Flag.END_HEADERS : 0, f.streamId, f.headerBlock.length);
      return sink.push(f.headerBlock);
    case FrameType.ALTSVC: return encodeAltsvc(sink, f);
    case FrameType.PRIORITY_UPDATE: return encodePriorityUpdate(sink, f);
    default: return encodeUnknown(sink, frame as UnknownFrame);
  }
}

/** Encodes frames into one new byte array (convenience for tests and one-off frames). */
export function encodeFrames(frames: readonly Frame[], maxFrameSize: number = MIN_MAX_FRAME_SIZE): Uint8Array {
  const sink = new FrameSink();
  for (const f of frames) encodeFrame(sink, f, maxFrameSize);
  const total = sink.length;
  return concat(sink.take(), total);
}
