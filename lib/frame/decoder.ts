/**
 * Incremental frame decoder. Bytes arrive in chunks of any size; `next()` yields whole frames.
 * A frame inside one chunk is a zero-copy view of it (so callers must not reuse a chunk's memory
 * after pushing it); a frame straddling chunks is copied once. The client preface is checked
 * byte by byte as it arrives; a frame header announcing more than `maxFrameSize` is rejected as
 * soon as its 9 octets are read, before any of its body is buffered; HEADERS/PUSH_PROMISE and
 * their CONTINUATION frames are folded into one frame with one header block, with a cap on the
 * number of CONTINUATION frames and on the block's octets.
 */
import {
  CLIENT_PREFACE, DEFAULT_MAX_CONTINUATION_FRAMES, DEFAULT_MAX_HEADER_BLOCK_SIZE, ErrorCode, FRAME_HEADER_LENGTH,
  FrameType, MIN_MAX_FRAME_SIZE,
} from '../constants.js';
import { concat, EMPTY } from '../bytes.js';
import { ConnectionError } from '../errors.js';
import { decodeAltsvc } from './altsvc.js';
import { decodeContinuation } from './continuation.js';
import { decodeData } from './data.js';
import { decodeGoaway } from './goaway.js';
import { readFrameHeader, typeName } from './header.js';
import { decodeHeaders } from './headers.js';
import { decodePing } from './ping.js';
import { decodePriority } from './priority.js';
import { decodePriorityUpdate } from './priority-update.js';
import { decodePushPromise } from './push-promise.js';
import { decodeRstStream } from './rst-stream.js';
import { decodeSettings } from './settings.js';
import type { Frame, FrameHeader, HeadersFrame, PushPromiseFrame } from './types.js';
import { decodeWindowUpdate } from './window-update.js';

/**
 * Decodes one frame from its header and whole payload, applying the per-frame rules of RFC 9113
 * §6. Returns `undefined` for a frame the RFC says to ignore (a malformed ALTSVC). CONTINUATION
 * frames are returned as they are; folding them is {@link FrameDecoder}'s job.
 * @throws ConnectionError or StreamError with the RFC's error code.
 */
export function decodeFrame(h: FrameHeader, p: Uint8Array): Frame | undefined {
  switch (h.type) {
    case FrameType.DATA: return decodeData(h, p);
    case FrameType.HEADERS: return decodeHeaders(h, p);
    case FrameType.PRIORITY: return decodePriority(h, p);
    case FrameType.RST_STREAM: return decodeRstStream(h, p);
    case FrameType.SETTINGS: return decodeSettings(h, p);
    case FrameType.PUSH_PROMISE: return decodePushPromise(h, p);
    case FrameType.PING: return decodePing(h, p);
    case FrameType.GOAWAY: return decodeGoaway(h, p);
    case FrameType.WINDOW_UPDATE: return decodeWindowUpdate(h, p);
    case FrameType.CONTINUATION: return decodeContinuation(h, p);
    case FrameType.ALTSVC: return decodeAltsvc(h, p);
    case FrameType.PRIORITY_UPDATE: return decodePriorityUpdate(h, p);
    default:
      // > Implementations MUST ignore and discard frames of unknown types.   RFC 9113 §4.1
      // Kept as a record so that extensions can see them; the connection surfaces and drops them.
      return { type: h.type, streamId: h.streamId, flags: h.flags, payload: p };
  }
}

/** Options of {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Expect the 24-octet client connection preface first (true for a server). Default false. */
  expectPreface?: boolean;
  /** Require the first frame to be a SETTINGS frame without ACK (RFC 9113 §3.4). Default true. */
  expectSettingsFirst?: boolean;
  /** Largest frame payload accepted: our SETTINGS_MAX_FRAME_SIZE. Default 16384. */
  maxFrameSize?: number;
  /** Most CONTINUATION frames after one HEADERS/PUSH_PROMISE. Default 64. */
  maxContinuationFrames?: number;
  /** Most octets in one header block, all its frames together. Default 131072. */
  maxHeaderBlockSize?: number;
}

interface OpenBlock {
  readonly first: HeadersFrame | PushPromiseFrame;
  readonly parts: Uint8Array[];
  size: number;
  frames: number;
}

/** Streaming HTTP/2 frame decoder. */
export class FrameDecoder {
  /** Largest accepted payload; the connection raises it when its SETTINGS are acknowledged. */
  maxFrameSize: number;
  readonly maxContinuationFrames: number;
  maxHeaderBlockSize: number;
  private chunks: Uint8Array[];
  private head: number;
  private offset: number;
  private available: number;
  private prefaceLeft: number;
  private settingsFirst: boolean;
  private header: FrameHeader | null;
  private block: OpenBlock | null;
  private failure: ConnectionError | null;
  private readonly scratch: Uint8Array;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxFrameSize = options.maxFrameSize ?? MIN_MAX_FRAME_SIZE;
    this.maxContinuationFrames = options.maxContinuationFrames ?? DEFAULT_MAX_CONTINUATION_FRAMES;
    this.maxHeaderBlockSize = options.maxHeaderBlockSize ?? DEFAULT_MAX_HEADER_BLOCK_SIZE;
    this.chunks = [];
    this.head = 0;
    this.offset = 0;
    this.available = 0;
    this.prefaceLeft = options.expectPreface ? CLIENT_PREFACE.length : 0;
    this.settingsFirst = options.expectSettingsFirst ?? true;
    this.header = null;
    this.block = null;
    this.failure = null;
    this.scratch = new Uint8Array(FRAME_HEADER_LENGTH);
  }

  /** Octets received but not yet returned as frames. */
  get buffered(): number {
    return this.available;
  }

  /** True while a header block waits for CONTINUATION frames. */
  get inHeaderBlock(): boolean {
    return this.block !== null;
  }

  /**
   * True while a header block is incomplete in any way: waiting for CONTINUATION frames, a
   * HEADERS / PUSH_PROMISE / CONTINUATION frame partly received, or a frame header (9 octets)
   * partly received. A deadline on this stops a peer that trickles a header block octet by
   * octet; a partly received DATA frame is not counted (a slow upload is legitimate).
   */
  get headerBlockPending(): boolean {
    if (this.block !== null) return true;
    const h = this.header;
    if (h === null) return this.available > 0 && this.prefaceLeft === 0;
    return h.type === FrameType.HEADERS || h.type === FrameType.PUSH_PROMISE || h.type === FrameType.CONTINUATION;
  }

  /** Adds received bytes. The decoder may keep views of `chunk`: do not change it afterwards. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.available += chunk.length;
  }

  /**
   * The next complete frame, or `null` when more bytes are needed.
   * @throws ConnectionError (the decoder is then unusable; every later call throws it again)
   *   or StreamError (that frame was consumed; decoding can go on).
   */
  next(): Frame | null {
    if (this.failure) throw this.failure;
    try {
      return this.step();
    } catch (e) {
      if (e instanceof ConnectionError) this.failure = e;
      throw e;
    }
  }

  private step(): Frame | null {
    if (this.prefaceLeft > 0 && !this.checkPreface()) return null;
    for (;;) {
      let h = this.header;
      if (h === null) {
        if (this.available < FRAME_HEADER_LENGTH) return null;
        h = readFrameHeader(this.readHeaderBytes(), 0);
        this.checkHeader(h);
        this.header = h;
      }
      if (this.available < h.length) return null;
      const payload = h.length === 0 ? EMPTY : this.take(h.length);
      this.header = null;
      const frame = this.fold(h, payload);
      if (frame !== undefined) return frame;
    }
  }

  /** Rules decided by the 9 header octets alone, so that no body is buffered for nothing. */
  private checkHeader(h: FrameHeader): void {
    if (this.settingsFirst) {
      // > The server connection preface consists of a potentially empty SETTINGS frame ... that
      // > MUST be the first frame ... Clients and servers MUST treat an invalid connection
      // > preface as a connection error (Section 5.4.1) of type PROTOCOL_ERROR.   RFC 9113 §3.4
      if (h.type !== FrameType.SETTINGS || (h.flags & 0x1) !== 0) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `connection preface: first frame is ${typeName(h.type)}, not SETTINGS`);
      }
      this.settingsFirst = false;
    }
    // > An endpoint MUST send an error code of FRAME_SIZE_ERROR if a frame exceeds the size
    // > defined in SETTINGS_MAX_FRAME_SIZE.   RFC 9113 §4.2 (any stream error may be escalated, §5.4)
    if (h.length > this.maxFrameSize) {
      throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `${typeName(h.type)} frame of ${h.length} octets exceeds ${this.maxFrameSize}`);
    }
    const b = this.block;
    if (b !== null) {
      // > A receiver MUST treat the receipt of any other type of frame or a frame on a different
      // > stream as a connection error (Section 5.4.1) of type PROTOCOL_ERROR.   RFC 9113 §6.10
      if (h.type !== FrameType.CONTINUATION || h.streamId !== b.first.streamId) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR,
          `${typeName(h.type)} on stream ${h.streamId} inside the header block of stream ${b.first.streamId}`);
      }
      if (b.frames >= this.maxContinuationFrames) {
        throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `more than ${this.maxContinuationFrames} CONTINUATION frames`);
      }
      if (b.size + h.length > this.maxHeaderBlockSize) {
        throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `header block over ${this.maxHeaderBlockSize} octets`);
      }
    } else if (h.type === FrameType.CONTINUATION) {
      // > A CONTINUATION frame MUST be preceded by a HEADERS, PUSH_PROMISE or CONTINUATION frame
      // > without the END_HEADERS flag set. A recipient that observes violation of this rule
      // > MUST respond with a connection error (Section 5.4.1) of type PROTOCOL_ERROR.
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `CONTINUATION on stream ${h.streamId} without an open header block`);
    }
  }

  private fold(h: FrameHeader, payload: Uint8Array): Frame | undefined {
    const b = this.block;
    if (b !== null) {
      // checkHeader made sure this is a CONTINUATION on the block's stream.
      b.frames++;
      b.size += payload.length;
      b.parts.push(payload);
      if ((h.flags & 0x4) === 0) return undefined;
      this.block = null;
      return { ...b.first, headerBlock: concat(b.parts, b.size), endHeaders: true };
    }
    const f = decodeFrame(h, payload);
    if (f !== undefined && (f.type === FrameType.HEADERS || f.type === FrameType.PUSH_PROMISE)) {
      const hf = f as HeadersFrame | PushPromiseFrame;
      if (!hf.endHeaders) {
        if (hf.headerBlock.length > this.maxHeaderBlockSize) {
          throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `header block over ${this.maxHeaderBlockSize} octets`);
        }
        this.block = { first: hf, parts: [hf.headerBlock], size: hf.headerBlock.length, frames: 0 };
        return undefined;
      }
    }
    return f;
  }

  private checkPreface(): boolean {
    const start = CLIENT_PREFACE.length - this.prefaceLeft;
    const n = Math.min(this.prefaceLeft, this.available);
    const got = this.take(n);
    for (let i = 0; i < n; i++) {
      // > That is, the connection preface starts with the string "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".
      // > ... Clients and servers MUST treat an invalid connection preface as a connection error
      // > (Section 5.4.1) of type PROTOCOL_ERROR.   RFC 9113 §3.4
      if (got[i] !== CLIENT_PREFACE[start + i]) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'invalid client connection preface');
      }
    }
    this.prefaceLeft -= n;
    return this.prefaceLeft === 0;
  }

  private readHeaderBytes(): Uint8Array {
    const c = this.chunks[this.head]!;
    if (c.length - this.offset >= FRAME_HEADER_LENGTH) {
      const v = c.subarray(this.offset, this.offset + FRAME_HEADER_LENGTH);
      this.advance(FRAME_HEADER_LENGTH);
      return v;
    }
    this.copyOut(this.scratch, FRAME_HEADER_LENGTH);
    return this.scratch;
  }

  /** Removes `n` ≤ available octets: a view when they lie in one chunk, else one copy. */
  private take(n: number): Uint8Array {
    const c = this.chunks[this.head]!;
    if (c.length - this.offset >= n) {
      const v = c.subarray(this.offset, this.offset + n);
      this.advance(n);
      return v;
    }
    const out = new Uint8Array(n);
    this.copyOut(out, n);
    return out;
  }

  private advance(n: number): void {
    this.offset += n;
    this.available -= n;
    if (this.offset === this.chunks[this.head]!.length) this.dropHead();
  }

  private copyOut(into: Uint8Array, n: number): void {
    let o = 0;
    while (o < n) {
      const c = this.chunks[this.head]!;
      const k = Math.min(n - o, c.length - this.offset);
      into.set(c.subarray(this.offset, this.offset + k), o);
      o += k;
      this.offset += k;
      if (this.offset === c.length) this.dropHead();
    }
    this.available -= n;
  }

  private dropHead(): void {
    this.chunks[this.head] = EMPTY;
    this.head++;
    this.offset = 0;
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    } else if (this.head > 64) {
      this.chunks.splice(0, this.head);
      this.head = 0;
    }
  }
}
