/**
 * Frame records: what the decoder yields and the encoder takes. Each frame is a plain object
 * with a numeric `type` (see {@link FrameType}); payload fields are views into the received
 * bytes where possible. HEADERS and PUSH_PROMISE arrive from the streaming decoder with their
 * CONTINUATION frames already folded into one `headerBlock`.
 */
import type { FrameType } from '../constants.js';

/** RFC 7540 §5.3 priority fields. `weight` is 1..256 (the wire byte plus one). */
export interface PriorityFields {
  readonly dependsOn: number;
  readonly weight: number;
  readonly exclusive: boolean;
}

export interface DataFrame {
  readonly type: typeof FrameType.DATA;
  readonly streamId: number;
  readonly data: Uint8Array;
  readonly endStream: boolean;
  /** Padding octets (not counting the Pad Length field); `undefined` when not PADDED. */
  readonly padLength: number | undefined;
  /** Octets counted by flow control: the whole payload, padding and Pad Length included. */
  readonly flowControlledLength: number;
}

export interface HeadersFrame {
  readonly type: typeof FrameType.HEADERS;
  readonly streamId: number;
  readonly headerBlock: Uint8Array;
  readonly endStream: boolean;
  /** Always true on frames from the streaming decoder (CONTINUATIONs are folded in). */
  readonly endHeaders: boolean;
  readonly padLength: number | undefined;
  /** Present when the PRIORITY flag was set. */
  readonly priority: PriorityFields | undefined;
}

export interface PriorityFrame {
  readonly type: typeof FrameType.PRIORITY;
  readonly streamId: number;
  readonly priority: PriorityFields;
}

export interface RstStreamFrame {
  readonly type: typeof FrameType.RST_STREAM;
  readonly streamId: number;
  readonly errorCode: number;
}

/** One SETTINGS parameter, in wire order (a later duplicate wins). */
export type Setting = readonly [id: number, value: number];

export interface SettingsFrame {
  readonly type: typeof FrameType.SETTINGS;
  readonly streamId: 0;
  readonly ack: boolean;
  readonly settings: readonly Setting[];
}

export interface PushPromiseFrame {
  readonly type: typeof FrameType.PUSH_PROMISE;
  readonly streamId: number;
  readonly promisedStreamId: number;
  readonly headerBlock: Uint8Array;
  readonly endHeaders: boolean;
  readonly padLength: number | undefined;
}

export interface PingFrame {
  readonly type: typeof FrameType.PING;
  readonly streamId: 0;
  readonly ack: boolean;
  /** Exactly 8 octets. */
  readonly opaqueData: Uint8Array;
}

export interface GoawayFrame {
  readonly type: typeof FrameType.GOAWAY;
  readonly streamId: 0;
  readonly lastStreamId: number;
  readonly errorCode: number;
  readonly debugData: Uint8Array;
}

export interface WindowUpdateFrame {
  readonly type: typeof FrameType.WINDOW_UPDATE;
  readonly streamId: number;
  readonly increment: number;
}

export interface ContinuationFrame {
  readonly type: typeof FrameType.CONTINUATION;
  readonly streamId: number;
  readonly headerBlock: Uint8Array;
  readonly endHeaders: boolean;
}

/** RFC 7838 §4 ALTSVC. `origin` and `fieldValue` are byte strings (ASCII on the wire). */
export interface AltsvcFrame {
  readonly type: typeof FrameType.ALTSVC;
  readonly streamId: number;
  readonly origin: string;
  readonly fieldValue: string;
}

/** RFC 9218 §7.1 PRIORITY_UPDATE; `fieldValue` is the Priority Field Value (a byte string). */
export interface PriorityUpdateFrame {
  readonly type: typeof FrameType.PRIORITY_UPDATE;
  readonly streamId: 0;
  readonly prioritizedStreamId: number;
  readonly fieldValue: string;
}

/** A frame of a type this library does not know; kept, not rejected (RFC 9113 §4.1, §5.5). */
export interface UnknownFrame {
  readonly type: number;
  readonly streamId: number;
  readonly flags: number;
  readonly payload: Uint8Array;
}

export type KnownFrame =
  | DataFrame
  | HeadersFrame
  | PriorityFrame
  | RstStreamFrame
  | SettingsFrame
  | PushPromiseFrame
  | PingFrame
  | GoawayFrame
  | WindowUpdateFrame
  | ContinuationFrame
  | AltsvcFrame
  | PriorityUpdateFrame;

/** Any frame. Narrow on `type`; frames of unknown type are {@link UnknownFrame}. */
export type Frame = KnownFrame | UnknownFrame;

/** The 9-octet frame header (RFC 9113 §4.1), reserved bit already cleared. */
export interface FrameHeader {
  readonly length: number;
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
}
