/**
 * Protocol constants: frame types, flags, setting identifiers, error codes, the connection
 * preface and the library's default limits. Enumerations are `as const` objects so that values
 * are plain numbers on the wire and in events (unknown codes from a peer pass through unchanged).
 */

/** Frame type codes (RFC 9113 §6, RFC 7838 §4, RFC 9218 §7.1). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
  ALTSVC: 0xa,
  PRIORITY_UPDATE: 0x10,
} as const;
/** A known frame type code. */
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Frame flag bits (RFC 9113 §6). The same bit means different things per frame type. */
export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** SETTINGS identifiers (RFC 9113 §6.5.2, RFC 8441 §3, RFC 9218 §2.1). */
export const SettingId = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  ENABLE_CONNECT_PROTOCOL: 0x8,
  NO_RFC7540_PRIORITIES: 0x9,
} as const;
/** A known setting identifier. */
export type SettingId = (typeof SettingId)[keyof typeof SettingId];

/** Error codes (RFC 9113 §7). Codes a peer sends that are not listed here pass through as numbers. */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;
/** A known error code. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const ERROR_NAMES: readonly string[] = Object.keys(ErrorCode);

/** The RFC name of an error code, or `0x…` for a code this library does not know. */
export function errorCodeName(code: number): string {
  return ERROR_NAMES[code] ?? `0x${code.toString(16)}`;
}

/** The client connection preface (RFC 9113 §3.4), 24 octets. */
export const CLIENT_PREFACE: Uint8Array = new Uint8Array(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'));

/** Size of every frame header (RFC 9113 §4.1). */
export const FRAME_HEADER_LENGTH = 9;

/** Largest stream identifier, window size and window increment: 2^31-1. */
export const MAX_INT31 = 0x7fffffff;
/** Smallest legal SETTINGS_MAX_FRAME_SIZE, also its initial value (RFC 9113 §6.5.2). */
export const MIN_MAX_FRAME_SIZE = 16384;
/** Largest legal SETTINGS_MAX_FRAME_SIZE: 2^24-1 (RFC 9113 §6.5.2). */
export const MAX_MAX_FRAME_SIZE = 16777215;
/** Initial flow-control window of streams and of the connection (RFC 9113 §6.9.2). */
export const DEFAULT_INITIAL_WINDOW_SIZE = 65535;
/** Initial SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2). */
export const DEFAULT_HEADER_TABLE_SIZE = 4096;
/** Default stream weight when no priority is given (RFC 7540 §5.3.5). */
export const DEFAULT_WEIGHT = 16;

/** Default cap on the decoded header list (name + value + 32 per field), as python h2. */
export const DEFAULT_MAX_HEADER_LIST_SIZE = 65536;
/** Default cap on CONTINUATION frames in one header block (CVE-2024-27316). */
export const DEFAULT_MAX_CONTINUATION_FRAMES = 64;
/** Default cap on the encoded bytes of one header block, HEADERS plus CONTINUATIONs. */
export const DEFAULT_MAX_HEADER_BLOCK_SIZE = 131072;
