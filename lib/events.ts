/**
 * Events: what `H2Connection.receiveData` returns, one discriminated union on `type`. Events are
 * complete readonly objects in wire order, never linked to each other: where python h2 attaches a
 * `stream_ended` event to the headers event, here the headers event says `endStream: true` and a
 * separate `StreamEnded` follows it.
 */
import type { PriorityFields, UnknownFrame } from './frame/types.js';
import type { HeaderField } from './hpack/types.js';
import { UsageError } from './errors.js';

/** A SETTINGS value that changed: before and after. */
export interface ChangedSetting {
  readonly setting: number;
  readonly originalValue: number | undefined;
  readonly newValue: number;
}

interface HeadersEventBase {
  readonly streamId: number;
  readonly headers: readonly HeaderField[];
  /** END_STREAM was set on the block (a `StreamEnded` event follows). */
  readonly endStream: boolean;
  /** RFC 7540 priority fields carried by the HEADERS frame (a `PriorityUpdated` event follows). */
  readonly priority: PriorityFields | undefined;
}

/** A server received a request header block. */
export interface RequestReceived extends HeadersEventBase {
  readonly type: 'RequestReceived';
}
/** A client received a final (non-1xx) response header block. */
export interface ResponseReceived extends HeadersEventBase {
  readonly type: 'ResponseReceived';
}
/** A trailer block (always ends the stream). */
export interface TrailersReceived extends HeadersEventBase {
  readonly type: 'TrailersReceived';
}
/** A 1xx response block. */
export interface InformationalResponseReceived extends HeadersEventBase {
  readonly type: 'InformationalResponseReceived';
}
/** DATA. Acknowledge `flowControlledLength` (padding included), not `data.length`. */
export interface DataReceived {
  readonly type: 'DataReceived';
  readonly streamId: number;
  readonly data: Uint8Array;
  readonly flowControlledLength: number;
  readonly endStream: boolean;
}
/** WINDOW_UPDATE: `streamId` 0 is the connection window. */
export interface WindowUpdated {
  readonly type: 'WindowUpdated';
  readonly streamId: number;
  readonly delta: number;
}
/** The peer's SETTINGS were applied (and acknowledged automatically). */
export interface RemoteSettingsChanged {
  readonly type: 'RemoteSettingsChanged';
  readonly changedSettings: ReadonlyMap<number, ChangedSetting>;
}
/** The peer acknowledged our SETTINGS; these values now apply. */
export interface SettingsAcknowledged {
  readonly type: 'SettingsAcknowledged';
  readonly changedSettings: ReadonlyMap<number, ChangedSetting>;
}
/** PING (the ACK was queued automatically). */
export interface PingReceived {
  readonly type: 'PingReceived';
  readonly pingData: Uint8Array;
}
/** The ACK of one of our PINGs. */
export interface PingAckReceived {
  readonly type: 'PingAckReceived';
  readonly pingData: Uint8Array;
}
/** The peer ended its side of the stream. */
export interface StreamEnded {
  readonly type: 'StreamEnded';
  readonly streamId: number;
}
/** The stream was reset: by the peer's RST_STREAM (`remote`), or by us answering a stream error (`local`). */
export interface StreamReset {
  readonly type: 'StreamReset';
  readonly streamId: number;
  readonly errorCode: number;
  readonly initiator: 'remote' | 'local';
}
/** A client received PUSH_PROMISE. */
export interface PushedStreamReceived {
  readonly type: 'PushedStreamReceived';
  readonly pushedStreamId: number;
  readonly parentStreamId: number;
  readonly headers: readonly HeaderField[];
}
/** RFC 7540 priority signal: a PRIORITY frame, or priority fields on HEADERS. */
export interface PriorityUpdated {
  readonly type: 'PriorityUpdated';
  readonly streamId: number;
  readonly weight: number;
  readonly dependsOn: number;
  readonly exclusive: boolean;
}
/** RFC 9218 PRIORITY_UPDATE: a new Priority Field Value for a stream (server side). */
export interface PriorityUpdateReceived {
  readonly type: 'PriorityUpdateReceived';
  readonly prioritizedStreamId: number;
  readonly fieldValue: string;
}
/**
 * GOAWAY received. Streams up to `lastStreamId` may still finish (graceful drain); new streams
 * above it will not be processed by the peer.
 */
export interface ConnectionTerminated {
  readonly type: 'ConnectionTerminated';
  readonly errorCode: number;
  readonly lastStreamId: number;
  readonly additionalData: Uint8Array | undefined;
}
/** RFC 7838 ALTSVC (client side). */
export interface AlternativeServiceAvailable {
  readonly type: 'AlternativeServiceAvailable';
  readonly origin: string;
  readonly fieldValue: string;
}
/** A frame of a type this library does not know (otherwise ignored, RFC 9113 §5.5). */
export interface UnknownFrameReceived {
  readonly type: 'UnknownFrameReceived';
  readonly frame: UnknownFrame;
}

export type H2Event =
  | RequestReceived
  | ResponseReceived
  | TrailersReceived
  | InformationalResponseReceived
  | DataReceived
  | WindowUpdated
  | RemoteSettingsChanged
  | SettingsAcknowledged
  | PingReceived
  | PingAckReceived
  | StreamEnded
  | StreamReset
  | PushedStreamReceived
  | PriorityUpdated
  | PriorityUpdateReceived
  | ConnectionTerminated
  | AlternativeServiceAvailable
  | UnknownFrameReceived;

/** Compile-time exhaustiveness helper for `switch (event.type)`. */
export function assertNever(x: never): never {
  throw new UsageError(`unexpected event ${JSON.stringify(x)}`);
}
