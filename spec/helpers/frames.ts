/**
 * Frame builders for tests: `frames.headers(1).request('GET', '/').eos()`,
 * `frames.data(1, 'hi').padded(2)`, `frames.reset(1).cancel()`, `frames.settings().initialWindowSize(n)`.
 * Each builder gives a frame record (`.frame()`, compared structurally) or bytes (`.encode()`).
 * HEADERS and PUSH_PROMISE blocks are encoded with the factory's own HPACK encoder, in the order
 * `.frame()`/`.encode()` is called, like a real peer.
 */
import { CLIENT_PREFACE, ErrorCode, FrameType, SettingId } from '../../lib/constants.js';
import { encodeFrames } from '../../lib/frame/encoder.js';
import type { Frame, PriorityFields, Setting } from '../../lib/frame/types.js';
import { HpackEncoder } from '../../lib/hpack/encoder.js';
import type { HeaderInput } from '../../lib/hpack/types.js';

const bytes = (d: string | Uint8Array): Uint8Array => (typeof d === 'string' ? Buffer.from(d, 'latin1') : d);

abstract class Builder {
  abstract frame(): Frame;
  /** Bytes of the frame (HEADERS split into CONTINUATIONs above `maxFrameSize`). */
  encode(maxFrameSize?: number): Uint8Array {
    return encodeFrames([this.frame()], maxFrameSize);
  }
}

export class DataBuilder extends Builder {
  private end = false;
  private pad: number | undefined;
  constructor(private readonly streamId: number, private readonly data: Uint8Array) { super(); }
  eos(): this { this.end = true; return this; }
  padded(n = 4): this { this.pad = n; return this; }
  frame(): Frame {
    const padLength = this.pad;
    return { type: FrameType.DATA, streamId: this.streamId, data: this.data, endStream: this.end, padLength,
      flowControlledLength: this.data.length + (padLength === undefined ? 0 : padLength + 1) };
  }
}

export class HeadersBuilder extends Builder {
  private fields: HeaderInput[] = [];
  private raw: Uint8Array | undefined;
  private end = false;
  private pad: number | undefined;
  private prio: PriorityFields | undefined;
  constructor(private readonly encoder: HpackEncoder, private readonly streamId: number) { super(); }
  request(method: string, path: string, extra: HeaderInput[] = [], authority = 'example.com'): this {
    this.fields = [[':method', method], [':scheme', 'https'], [':authority', authority], [':path', path], ...extra];
    return this;
  }
  response(status: number | string, extra: HeaderInput[] = []): this {
    this.fields = [[':status', String(status)], ...extra];
    return this;
  }
  trailers(fields: HeaderInput[]): this { this.fields = fields; return this.eos(); }
  with(fields: HeaderInput[]): this { this.fields = fields; return this; }
  /** Uses this block as it is instead of encoding fields (for malformed HPACK). */
  block(raw: Uint8Array | string): this { this.raw = bytes(raw); return this; }
  eos(): this { this.end = true; return this; }
  padded(n = 4): this { this.pad = n; return this; }
  priority(dependsOn: number, weight = 16, exclusive = false): this { this.prio = { dependsOn, weight, exclusive }; return this; }
  frame(): Frame {
    return { type: FrameType.HEADERS, streamId: this.streamId, headerBlock: this.raw ?? this.encoder.encode(this.fields),
      endStream: this.end, endHeaders: true, padLength: this.pad, priority: this.prio };
  }
}

export class PushPromiseBuilder extends Builder {
  private fields: HeaderInput[] = [];
  private pad: number | undefined;
  constructor(private readonly encoder: HpackEncoder, private readonly streamId: number, private readonly promised: number) { super(); }
  request(method: string, path: string, authority = 'example.com'): this {
    this.fields = [[':method', method], [':scheme', 'https'], [':authority', authority], [':path', path]];
    return this;
  }
  /** Promises exactly these request fields (for malformed or unpushable promises). */
  with(fields: HeaderInput[]): this { this.fields = fields; return this; }
  padded(n = 4): this { this.pad = n; return this; }
  frame(): Frame {
    return { type: FrameType.PUSH_PROMISE, streamId: this.streamId, promisedStreamId: this.promised,
      headerBlock: this.encoder.encode(this.fields), endHeaders: true, padLength: this.pad };
  }
}

export class ResetBuilder extends Builder {
  private errorCode: number = ErrorCode.NO_ERROR;
  constructor(private readonly streamId: number) { super(); }
  code(c: number): this { this.errorCode = c; return this; }
  cancel(): this { return this.code(ErrorCode.CANCEL); }
  protocolError(): this { return this.code(ErrorCode.PROTOCOL_ERROR); }
  streamClosed(): this { return this.code(ErrorCode.STREAM_CLOSED); }
  refused(): this { return this.code(ErrorCode.REFUSED_STREAM); }
  flowControlError(): this { return this.code(ErrorCode.FLOW_CONTROL_ERROR); }
  frame(): Frame { return { type: FrameType.RST_STREAM, streamId: this.streamId, errorCode: this.errorCode }; }
}

export class SettingsBuilder extends Builder {
  private list: Setting[] = [];
  private isAck = false;
  set(id: number, value: number): this { this.list.push([id, value]); return this; }
  headerTableSize(n: number): this { return this.set(SettingId.HEADER_TABLE_SIZE, n); }
  enablePush(on: boolean): this { return this.set(SettingId.ENABLE_PUSH, on ? 1 : 0); }
  maxConcurrentStreams(n: number): this { return this.set(SettingId.MAX_CONCURRENT_STREAMS, n); }
  initialWindowSize(n: number): this { return this.set(SettingId.INITIAL_WINDOW_SIZE, n); }
  maxFrameSize(n: number): this { return this.set(SettingId.MAX_FRAME_SIZE, n); }
  maxHeaderListSize(n: number): this { return this.set(SettingId.MAX_HEADER_LIST_SIZE, n); }
  enableConnectProtocol(on: boolean): this { return this.set(SettingId.ENABLE_CONNECT_PROTOCOL, on ? 1 : 0); }
  noRfc7540Priorities(on: boolean): this { return this.set(SettingId.NO_RFC7540_PRIORITIES, on ? 1 : 0); }
  ack(): this { this.isAck = true; return this; }
  frame(): Frame { return { type: FrameType.SETTINGS, streamId: 0, ack: this.isAck, settings: this.isAck ? [] : this.list }; }
}

export class PingBuilder extends Builder {
  private isAck = false;
  constructor(private readonly data: Uint8Array) { super(); }
  ack(): this { this.isAck = true; return this; }
  frame(): Frame { return { type: FrameType.PING, streamId: 0, ack: this.isAck, opaqueData: this.data }; }
}

export class GoawayBuilder extends Builder {
  private errorCode: number = ErrorCode.NO_ERROR;
  private debug: Uint8Array = new Uint8Array(0);
  constructor(private readonly lastStreamId: number) { super(); }
  code(c: number): this { this.errorCode = c; return this; }
  protocolError(): this { return this.code(ErrorCode.PROTOCOL_ERROR); }
  debugData(d: string | Uint8Array): this { this.debug = bytes(d); return this; }
  frame(): Frame { return { type: FrameType.GOAWAY, streamId: 0, lastStreamId: this.lastStreamId, errorCode: this.errorCode, debugData: this.debug }; }
}

class Fixed extends Builder {
  constructor(private readonly f: Frame) { super(); }
  frame(): Frame { return this.f; }
}

/** A frame factory with its own HPACK encoder (one per simulated peer). */
export function frameFactory(encoder: HpackEncoder = new HpackEncoder()) {
  return {
    encoder,
    /** The 24-octet client connection preface. */
    preface: (): Uint8Array => CLIENT_PREFACE,
    data: (streamId: number, data: string | Uint8Array = '') => new DataBuilder(streamId, bytes(data)),
    headers: (streamId: number) => new HeadersBuilder(encoder, streamId),
    pushPromise: (streamId: number, promised: number) => new PushPromiseBuilder(encoder, streamId, promised),
    priority: (streamId: number, dependsOn = 0, weight = 16, exclusive = false) =>
      new Fixed({ type: FrameType.PRIORITY, streamId, priority: { dependsOn, weight, exclusive } }),
    reset: (streamId: number) => new ResetBuilder(streamId),
    settings: () => new SettingsBuilder(),
    ping: (data: string | Uint8Array = '\0\0\0\0\0\0\0\0') => new PingBuilder(bytes(data)),
    goaway: (lastStreamId: number) => new GoawayBuilder(lastStreamId),
    windowUpdate: (streamId: number, increment: number) => new Fixed({ type: FrameType.WINDOW_UPDATE, streamId, increment }),
    continuation: (streamId: number, block: string | Uint8Array, endHeaders = true) =>
      new Fixed({ type: FrameType.CONTINUATION, streamId, headerBlock: bytes(block), endHeaders }),
    altsvc: (streamId: number, origin: string, fieldValue: string) => new Fixed({ type: FrameType.ALTSVC, streamId, origin, fieldValue }),
    priorityUpdate: (prioritizedStreamId: number, fieldValue: string) =>
      new Fixed({ type: FrameType.PRIORITY_UPDATE, streamId: 0, prioritizedStreamId, fieldValue }),
    unknown: (type: number, streamId: number, payload: string | Uint8Array = '', flags = 0) =>
      new Fixed({ type, streamId, flags, payload: bytes(payload) }),
  };
}

/** A shared factory for tests that need no HPACK state of their own. */
export const frames: ReturnType<typeof frameFactory> = frameFactory();

/** A frame record with byte fields as hex, for structural comparison. */
export function plain(f: unknown): unknown {
  if (f instanceof Uint8Array) return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('hex');
  if (Array.isArray(f)) return f.map(plain);
  if (f && typeof f === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(f)) o[k] = plain(v);
    return o;
  }
  return f;
}

/** Bytes from a hex string with any whitespace. */
export function unhex(s: string): Uint8Array {
  return Buffer.from(s.replace(/[\s|]/g, ''), 'hex');
}
