/**
 * Options of H2Connection, with their documented defaults, resolved once at construction.
 */
import {
  DEFAULT_HEADER_TABLE_SIZE, DEFAULT_INITIAL_WINDOW_SIZE, DEFAULT_MAX_CONTINUATION_FRAMES, DEFAULT_MAX_HEADER_BLOCK_SIZE,
  DEFAULT_MAX_HEADER_LIST_SIZE, MIN_MAX_FRAME_SIZE, SettingId,
} from '../constants.js';
import type { Setting } from '../frame/types.js';
import type { AbuseLimitsInput, DEFAULT_ABUSE_LIMITS } from './guard.js';

/** Our SETTINGS, by name. Omitted values take the defaults listed. */
export interface LocalSettingsInput {
  /** Default 4096. */
  headerTableSize?: number;
  /** Default: true for a client, false for a server (a server must not enable push). */
  enablePush?: boolean;
  /** Default 100 (as python h2; the RFC's initial value is unlimited). */
  maxConcurrentStreams?: number;
  /** Default 65535. */
  initialWindowSize?: number;
  /** Default 16384. */
  maxFrameSize?: number;
  /** Default 65536. */
  maxHeaderListSize?: number;
  /** RFC 8441 extended CONNECT. Default false. */
  enableConnectProtocol?: boolean;
  /** RFC 9218 §2.1: we ignore RFC 7540 priority signals. Default false. */
  noRfc7540Priorities?: boolean;
}

export interface H2ConnectionOptions {
  /** Role. Default true (a client), as python h2. */
  clientSide?: boolean;
  /** Check received header blocks against RFC 9113 §8 (malformed → stream error). Default true. */
  validateInboundHeaders?: boolean;
  /** Join received cookie crumbs into one field. Default true. */
  normalizeInboundHeaders?: boolean;
  /** Check header blocks we send (violation → UsageError). Default true. */
  validateOutboundHeaders?: boolean;
  /** Lowercase names, trim values, drop connection-specific fields we send. Default true. */
  normalizeOutboundHeaders?: boolean;
  /** Split cookies we send into crumbs. Default false. */
  splitOutboundCookies?: boolean;
  /** How received field values become strings: byte strings (`'latin1'`, default) or `'utf-8'`. */
  headerEncoding?: 'latin1' | 'utf-8';
  /** Our SETTINGS. */
  localSettings?: LocalSettingsInput;
  /** Closed streams remembered for late frames (oldest forgotten first). Default 1000. */
  maxClosedStreams?: number;
  /** CONTINUATION frames accepted per header block. Default 64. */
  maxContinuationFrames?: number;
  /** Most octets of one received header block. Default 128 KiB. */
  maxHeaderBlockSize?: number;
  /**
   * Outbound buffer size above which `outboundBufferFull` turns true (the sender pauses there).
   * Default 1 MiB.
   */
  outboundHighWaterMark?: number;
  /** Largest HPACK table our encoder uses, whatever the peer allows. Default 4096. */
  maxEncoderTableSize?: number;
  /**
   * Abuse budgets (rates of PING, SETTINGS, priority signals, resets, empty frames, refused
   * pushes; queued replies; a client's promised streams, `maxReservedStreams`, default 100).
   * Defaults in {@link DEFAULT_ABUSE_LIMITS}.
   */
  limits?: AbuseLimitsInput;
  /** Milliseconds for the abuse budgets' refill (default `performance.now`); tests pass a fake one. */
  clock?: () => number;
}

export interface ResolvedOptions {
  readonly clientSide: boolean;
  readonly validateInbound: boolean;
  readonly normalizeInbound: boolean;
  readonly validateOutbound: boolean;
  readonly normalizeOutbound: boolean;
  readonly splitCookies: boolean;
  readonly utf8Headers: boolean;
  readonly settings: readonly Setting[];
  readonly maxClosedStreams: number;
  readonly maxContinuationFrames: number;
  readonly maxHeaderBlockSize: number;
  readonly highWaterMark: number;
  readonly maxEncoderTableSize: number;
}

export function resolveOptions(o: H2ConnectionOptions = {}): ResolvedOptions {
  const clientSide = o.clientSide ?? true;
  const l = o.localSettings ?? {};
  const settings: Setting[] = [
    [SettingId.HEADER_TABLE_SIZE, l.headerTableSize ?? DEFAULT_HEADER_TABLE_SIZE],
    [SettingId.ENABLE_PUSH, (l.enablePush ?? clientSide) ? 1 : 0],
    [SettingId.MAX_CONCURRENT_STREAMS, l.maxConcurrentStreams ?? 100],
    [SettingId.INITIAL_WINDOW_SIZE, l.initialWindowSize ?? DEFAULT_INITIAL_WINDOW_SIZE],
    [SettingId.MAX_FRAME_SIZE, l.maxFrameSize ?? MIN_MAX_FRAME_SIZE],
    [SettingId.MAX_HEADER_LIST_SIZE, l.maxHeaderListSize ?? DEFAULT_MAX_HEADER_LIST_SIZE],
    [SettingId.ENABLE_CONNECT_PROTOCOL, l.enableConnectProtocol ? 1 : 0],
  ];
  if (l.noRfc7540Priorities !== undefined) settings.push([SettingId.NO_RFC7540_PRIORITIES, l.noRfc7540Priorities ? 1 : 0]);
  return {
    clientSide,
    validateInbound: o.validateInboundHeaders ?? true,
    normalizeInbound: o.normalizeInboundHeaders ?? true,
    validateOutbound: o.validateOutboundHeaders ?? true,
    normalizeOutbound: o.normalizeOutboundHeaders ?? true,
    splitCookies: o.splitOutboundCookies ?? false,
    utf8Headers: o.headerEncoding === 'utf-8',
    settings,
    maxClosedStreams: o.maxClosedStreams ?? 1000,
    maxContinuationFrames: o.maxContinuationFrames ?? DEFAULT_MAX_CONTINUATION_FRAMES,
    maxHeaderBlockSize: o.maxHeaderBlockSize ?? DEFAULT_MAX_HEADER_BLOCK_SIZE,
    highWaterMark: o.outboundHighWaterMark ?? 1 << 20,
    maxEncoderTableSize: o.maxEncoderTableSize ?? DEFAULT_HEADER_TABLE_SIZE,
  };
}
