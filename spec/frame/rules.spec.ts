// Every per-frame validity rule of RFC 9113 §6 (plus RFC 7838 §4 and RFC 9218 §7.1), with the
// scope (connection or stream) and error code the RFC gives.
import { ErrorCode } from '../../lib/constants.js';
import { ConnectionError, StreamError } from '../../lib/errors.js';
import { FrameDecoder } from '../../lib/frame/decoder.js';
import { unhex } from '../helpers/frames.js';

type Scope = 'connection' | 'stream';
const RULES: Array<[string, Scope, string, number]> = [
  ['DATA on stream 0 (§6.1)', 'connection', '000001 00 00 00000000 61', ErrorCode.PROTOCOL_ERROR],
  ['DATA padding as long as the payload (§6.1)', 'connection', '000003 00 08 00000001 03 6161', ErrorCode.PROTOCOL_ERROR],
  ['DATA PADDED with an empty payload (§6.1)', 'connection', '000000 00 08 00000001', ErrorCode.FRAME_SIZE_ERROR],
  ['HEADERS on stream 0 (§6.2)', 'connection', '000001 01 04 00000000 82', ErrorCode.PROTOCOL_ERROR],
  ['HEADERS padding longer than the payload (§6.2)', 'connection', '000002 01 0c 00000001 05 82', ErrorCode.PROTOCOL_ERROR],
  ['HEADERS padding eating the priority fields (§6.2)', 'connection', '000006 01 2c 00000001 01 00000000 0f', ErrorCode.PROTOCOL_ERROR],
  ['HEADERS with PRIORITY flag but no room for it (§4.2)', 'connection', '000003 01 24 00000001 000000', ErrorCode.FRAME_SIZE_ERROR],
  ['PRIORITY on stream 0 (§6.3)', 'connection', '000005 02 00 00000000 00000001 0f', ErrorCode.PROTOCOL_ERROR],
  ['PRIORITY of length 4 (§6.3)', 'stream', '000004 02 00 00000001 00000000', ErrorCode.FRAME_SIZE_ERROR],
  ['PRIORITY of length 6 (§6.3)', 'stream', '000006 02 00 00000001 00000000 0f00', ErrorCode.FRAME_SIZE_ERROR],
  ['PRIORITY depending on itself (RFC 7540 §5.3.1)', 'stream', '000005 02 00 00000003 00000003 0f', ErrorCode.PROTOCOL_ERROR],
  ['RST_STREAM on stream 0 (§6.4)', 'connection', '000004 03 00 00000000 00000008', ErrorCode.PROTOCOL_ERROR],
  ['RST_STREAM of length 3 (§6.4)', 'connection', '000003 03 00 00000001 000008', ErrorCode.FRAME_SIZE_ERROR],
  ['RST_STREAM of length 5 (§6.4)', 'connection', '000005 03 00 00000001 0000000800', ErrorCode.FRAME_SIZE_ERROR],
  ['SETTINGS on a stream (§6.5)', 'connection', '000000 04 00 00000001', ErrorCode.PROTOCOL_ERROR],
  ['SETTINGS ACK with a payload (§6.5)', 'connection', '000006 04 01 00000000 000100001000', ErrorCode.FRAME_SIZE_ERROR],
  ['SETTINGS length not a multiple of 6 (§6.5)', 'connection', '000005 04 00 00000000 0001000010', ErrorCode.FRAME_SIZE_ERROR],
  ['SETTINGS_ENABLE_PUSH of 2 (§6.5.2)', 'connection', '000006 04 00 00000000 000200000002', ErrorCode.PROTOCOL_ERROR],
  ['SETTINGS_INITIAL_WINDOW_SIZE of 2^31 (§6.5.2)', 'connection', '000006 04 00 00000000 000480000000', ErrorCode.FLOW_CONTROL_ERROR],
  ['SETTINGS_MAX_FRAME_SIZE of 16383 (§6.5.2)', 'connection', '000006 04 00 00000000 000500003fff', ErrorCode.PROTOCOL_ERROR],
  ['SETTINGS_MAX_FRAME_SIZE of 2^24 (§6.5.2)', 'connection', '000006 04 00 00000000 000501000000', ErrorCode.PROTOCOL_ERROR],
  ['SETTINGS_ENABLE_CONNECT_PROTOCOL of 2 (RFC 8441 §3)', 'connection', '000006 04 00 00000000 000800000002', ErrorCode.PROTOCOL_ERROR],
  ['SETTINGS_NO_RFC7540_PRIORITIES of 2 (RFC 9218 §2.1)', 'connection', '000006 04 00 00000000 000900000002', ErrorCode.PROTOCOL_ERROR],
  ['PUSH_PROMISE on stream 0 (§6.6)', 'connection', '000004 05 04 00000000 00000002', ErrorCode.PROTOCOL_ERROR],
  ['PUSH_PROMISE too short for its promised id (§6.6)', 'connection', '000003 05 04 00000001 000002', ErrorCode.FRAME_SIZE_ERROR],
  ['PUSH_PROMISE padding longer than the payload (§6.6)', 'connection', '000005 05 0c 00000001 01 00000002', ErrorCode.PROTOCOL_ERROR],
  ['PING on a stream (§6.7)', 'connection', '000008 06 00 00000001 0000000000000000', ErrorCode.PROTOCOL_ERROR],
  ['PING of length 7 (§6.7)', 'connection', '000007 06 00 00000000 00000000000000', ErrorCode.FRAME_SIZE_ERROR],
  ['PING ACK of length 9 (§6.7)', 'connection', '000009 06 01 00000000 000000000000000000', ErrorCode.FRAME_SIZE_ERROR],
  ['GOAWAY on a stream (§6.8)', 'connection', '000008 07 00 00000001 0000000000000000', ErrorCode.PROTOCOL_ERROR],
  ['GOAWAY shorter than 8 (§6.8)', 'connection', '000007 07 00 00000000 00000000000000', ErrorCode.FRAME_SIZE_ERROR],
  ['WINDOW_UPDATE of length 3 (§6.9)', 'connection', '000003 08 00 00000001 000001', ErrorCode.FRAME_SIZE_ERROR],
  ['WINDOW_UPDATE of length 5 on stream 0 (§6.9)', 'connection', '000005 08 00 00000000 0000000100', ErrorCode.FRAME_SIZE_ERROR],
  ['WINDOW_UPDATE increment 0 on the connection (§6.9)', 'connection', '000004 08 00 00000000 00000000', ErrorCode.PROTOCOL_ERROR],
  ['CONTINUATION on stream 0 with no open block (§6.10)', 'connection', '000001 09 04 00000000 82', ErrorCode.PROTOCOL_ERROR],
  ['CONTINUATION without a HEADERS before it (§6.10)', 'connection', '000001 09 04 00000001 82', ErrorCode.PROTOCOL_ERROR],
  ['PRIORITY_UPDATE on a stream (RFC 9218 §7.1)', 'connection', '000004 10 00 00000001 00000001', ErrorCode.PROTOCOL_ERROR],
  ['PRIORITY_UPDATE for stream 0 (RFC 9218 §7.1)', 'connection', '000004 10 00 00000000 00000000', ErrorCode.PROTOCOL_ERROR],
  ['PRIORITY_UPDATE shorter than 4 (RFC 9218 §7.1)', 'connection', '000003 10 00 00000000 000001', ErrorCode.FRAME_SIZE_ERROR],
];

function decodeOne(hex: string): unknown {
  const d = new FrameDecoder({ expectSettingsFirst: false });
  d.push(unhex(hex));
  try {
    return d.next();
  } catch (e) {
    return e;
  }
}

describe('per-frame validity rules', () => {
  it.each(RULES)('%s is a %s error with the RFC code', (_name, scope, hex, code) => {
    const e = decodeOne(hex);
    expect(e).toBeInstanceOf(scope === 'connection' ? ConnectionError : StreamError);
    expect((e as ConnectionError).errorCode).toBe(code);
  });

  it('leaves WINDOW_UPDATE increment 0 on a stream to the connection: its scope depends on the stream state (RFC 9113 §6.9 stream error, §5.1 idle connection error)', () => {
    expect(decodeOne('000004 08 00 00000001 00000000')).toEqual({ type: 0x8, streamId: 1, increment: 0 });
  });

  it('goes on decoding after a stream error: the bad frame was consumed', () => {
    const d = new FrameDecoder({ expectSettingsFirst: false });
    d.push(unhex('000004 02 00 00000001 00000000  000004 08 00 00000003 00000010'));
    expect(() => d.next()).toThrow(StreamError);
    expect(d.next()).toEqual({ type: 0x8, streamId: 3, increment: 16 });
    expect(d.next()).toBeNull();
  });

  it('stays failed after a connection error', () => {
    const d = new FrameDecoder({ expectSettingsFirst: false });
    d.push(unhex('000008 06 00 00000001 0000000000000000'));
    expect(() => d.next()).toThrow(ConnectionError);
    d.push(unhex('000008 06 00 00000000 0000000000000000'));
    expect(() => d.next()).toThrow(ConnectionError);
  });

  it('ignores the ALTSVC frames RFC 7838 §4 calls invalid instead of failing', () => {
    const d = new FrameDecoder({ expectSettingsFirst: false });
    // empty origin on stream 0; origin on stream 1; Origin-Len past the end; too short for Origin-Len; then a PING
    d.push(unhex('000002 0a 00 00000000 0000  000003 0a 00 00000001 000161  000003 0a 00 00000000 0009aa  000001 0a 00 00000000 00'));
    d.push(unhex('000008 06 00 00000000 0000000000000000'));
    expect(d.next()).toMatchObject({ type: 0x6 });
  });
});
