/** SETTINGS frames (RFC 9113 §6.5) and the value rules every endpoint applies on receipt. */
import { ErrorCode, Flag, FrameType, MAX_INT31, MAX_MAX_FRAME_SIZE, MIN_MAX_FRAME_SIZE, SettingId } from '../constants.js';
import { readU16, readU32, writeU16, writeU32 } from '../bytes.js';
import { ConnectionError } from '../errors.js';
import { allocFrame } from './header.js';
import type { FrameSink } from './sink.js';
import type { FrameHeader, Setting, SettingsFrame } from './types.js';

export function decodeSettings(h: FrameHeader, p: Uint8Array): SettingsFrame {
  // > If an endpoint receives a SETTINGS frame whose Stream Identifier field is anything other
  // > than 0x00, the endpoint MUST respond with a connection error (Section 5.4.1) of type
  // > PROTOCOL_ERROR.   RFC 9113 §6.5
  if (h.streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS on a stream');
  const ack = (h.flags & Flag.ACK) !== 0;
  // > Receipt of a SETTINGS frame with the ACK flag set and a length field value other than 0
  // > MUST be treated as a connection error (Section 5.4.1) of type FRAME_SIZE_ERROR.
  if (ack && p.length !== 0) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
  // > A SETTINGS frame with a length other than a multiple of 6 octets MUST be treated as a
  // > connection error (Section 5.4.1) of type FRAME_SIZE_ERROR.
  if (p.length % 6 !== 0) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `SETTINGS length ${p.length} not a multiple of 6`);
  const settings: Setting[] = [];
  for (let o = 0; o < p.length; o += 6) {
    const id = readU16(p, o);
    const value = readU32(p, o + 2);
    validateSetting(id, value);
    settings.push([id, value]);
  }
  return { type: FrameType.SETTINGS, streamId: 0, ack, settings };
}

/**
 * Throws the RFC's connection error for a setting value no endpoint may send. Unknown
 * identifiers are accepted (RFC 9113 §6.5.2: "MUST ignore"). Role-dependent rules (a server
 * sending ENABLE_PUSH=1) are the connection's business.
 */
export function validateSetting(id: number, value: number): void {
  switch (id) {
    case SettingId.ENABLE_PUSH:
      // > Any value other than 0 or 1 MUST be treated as a connection error of type PROTOCOL_ERROR.
      if (value > 1) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${value}`);
      break;
    case SettingId.INITIAL_WINDOW_SIZE:
      // > Values above the maximum flow-control window size of 2^31-1 MUST be treated as a
      // > connection error (Section 5.4.1) of type FLOW_CONTROL_ERROR.
      if (value > MAX_INT31) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value}`);
      break;
    case SettingId.MAX_FRAME_SIZE:
      // > Values outside this range MUST be treated as a connection error (Section 5.4.1) of
      // > type PROTOCOL_ERROR.
      if (value < MIN_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value}`);
      }
      break;
    case SettingId.ENABLE_CONNECT_PROTOCOL:
      // RFC 8441 §3: the value is 0 or 1; anything else is a connection error PROTOCOL_ERROR.
      if (value > 1) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_ENABLE_CONNECT_PROTOCOL ${value}`);
      break;
    case SettingId.NO_RFC7540_PRIORITIES:
      // > If the value is not 0 or 1, the receiver MUST treat it as a connection error of type
      // > PROTOCOL_ERROR.   RFC 9218 §2.1
      if (value > 1) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_NO_RFC7540_PRIORITIES ${value}`);
      break;
    default:
      break;
  }
}

export function encodeSettings(sink: FrameSink, f: Pick<SettingsFrame, 'ack' | 'settings'>): void {
  const n = f.ack ? 0 : f.settings.length;
  const b = allocFrame(sink, n * 6, FrameType.SETTINGS, f.ack ? Flag.ACK : 0, 0);
  for (let i = 0; i < n; i++) {
    const [id, value] = f.settings[i]!;
    writeU16(b, 9 + i * 6, id);
    writeU32(b, 11 + i * 6, value);
  }
}
