// Golden byte vectors: one per frame type (RFC 9113 §6, RFC 7838 §4, RFC 9218 §7.1), encoded
// byte for byte and decoded back to the same record.
import { ErrorCode, FrameType } from '../../lib/constants.js';
import { decodeFrame, FrameDecoder } from '../../lib/frame/decoder.js';
import { encodeFrames } from '../../lib/frame/encoder.js';
import { readFrameHeader } from '../../lib/frame/header.js';
import type { Frame } from '../../lib/frame/types.js';
import { frames, plain, unhex } from '../helpers/frames.js';

const GOLDEN: Array<[string, Frame, string]> = [
  ['DATA with END_STREAM', frames.data(1, 'hi').eos().frame(), '000002 00 01 00000001 6869'],
  ['DATA padded', frames.data(1, 'hi').padded(2).frame(), '000005 00 08 00000001 02 6869 0000'],
  ['HEADERS with priority fields', frames.headers(3).block(unhex('8286')).eos().priority(1, 256, true).frame(),
    '000007 01 25 00000003 80000001 ff 8286'],
  ['HEADERS padded', frames.headers(1).block(unhex('82')).padded(1).frame(), '000003 01 0c 00000001 01 82 00'],
  ['PRIORITY', frames.priority(5, 3, 16, false).frame(), '000005 02 00 00000005 00000003 0f'],
  ['RST_STREAM', frames.reset(1).cancel().frame(), '000004 03 00 00000001 00000008'],
  ['SETTINGS', frames.settings().initialWindowSize(65535).maxFrameSize(16384).frame(),
    '00000c 04 00 00000000 0004 0000ffff 0005 00004000'],
  ['SETTINGS ACK', frames.settings().ack().frame(), '000000 04 01 00000000'],
  ['PUSH_PROMISE', { type: FrameType.PUSH_PROMISE, streamId: 1, promisedStreamId: 2, headerBlock: unhex('8287'), endHeaders: true, padLength: undefined },
    '000006 05 04 00000001 00000002 8287'],
  ['PING', frames.ping(unhex('0102030405060708')).frame(), '000008 06 00 00000000 0102030405060708'],
  ['PING ACK', frames.ping(unhex('0102030405060708')).ack().frame(), '000008 06 01 00000000 0102030405060708'],
  ['GOAWAY', frames.goaway(7).protocolError().debugData('hi').frame(), '00000a 07 00 00000000 00000007 00000001 6869'],
  ['WINDOW_UPDATE', frames.windowUpdate(0, 1024).frame(), '000004 08 00 00000000 00000400'],
  ['CONTINUATION', frames.continuation(1, unhex('82')).frame(), '000001 09 04 00000001 82'],
  ['ALTSVC', frames.altsvc(0, 'origin.example.com', 'h2=":8000"').frame(),
    '00001e 0a 00 00000000 0012 6f726967696e2e6578616d706c652e636f6d 68323d223a3830303022'],
  ['PRIORITY_UPDATE', frames.priorityUpdate(3, 'u=1,i').frame(), '000009 10 00 00000000 00000003 753d312c69'],
  ['unknown type', frames.unknown(0xfa, 3, 'x', 0x0f).frame(), '000001 fa 0f 00000003 78'],
];

describe('golden frame bytes', () => {
  it.each(GOLDEN)('%s encodes to the RFC layout', (_name, frame, hex) => {
    expect(Buffer.from(encodeFrames([frame])).toString('hex')).toBe(Buffer.from(unhex(hex)).toString('hex'));
  });

  it.each(GOLDEN)('%s decodes back to the same record', (_name, frame, hex) => {
    const b = unhex(hex);
    expect(plain(decodeFrame(readFrameHeader(b, 0), b.subarray(9)))).toEqual(plain(frame));
  });
});

describe('reserved bits and flags (RFC 9113 §4.1)', () => {
  it('ignores the reserved bit of the stream identifier and of 31-bit fields on receipt', () => {
    const b = unhex('000004 08 00 80000001 80000400');
    expect(decodeFrame(readFrameHeader(b, 0), b.subarray(9))).toEqual({ type: FrameType.WINDOW_UPDATE, streamId: 1, increment: 1024 });
    const g = unhex('000008 07 00 00000000 80000007 00000000');
    expect(decodeFrame(readFrameHeader(g, 0), g.subarray(9))).toMatchObject({ lastStreamId: 7, errorCode: 0 });
  });

  it('sends reserved bits as zero', () => {
    const out = encodeFrames([{ type: FrameType.GOAWAY, streamId: 0, lastStreamId: 0xffffffff, errorCode: 0, debugData: new Uint8Array(0) }]);
    expect(out[9]! & 0x80).toBe(0);
  });

  it('ignores flags a frame type does not define', () => {
    const b = unhex('000002 00 f6 00000001 6869'); // every bit but END_STREAM and PADDED
    expect(plain(decodeFrame(readFrameHeader(b, 0), b.subarray(9)))).toEqual(plain(frames.data(1, 'hi').frame()));
    const p = unhex('000008 06 fe 00000000 0000000000000000'); // every bit but ACK
    expect(decodeFrame(readFrameHeader(p, 0), p.subarray(9))).toMatchObject({ ack: false });
  });

  it('keeps unknown frame types as records instead of rejecting them (RFC 9113 §5.5)', () => {
    const d = new FrameDecoder({ expectSettingsFirst: false });
    d.push(unhex('000003 ee 05 00000009 616263'));
    expect(plain(d.next())).toEqual(plain(frames.unknown(0xee, 9, 'abc', 5).frame()));
  });

  it('counts the whole DATA payload, padding and Pad Length included, as flow-controlled', () => {
    const b = unhex('000005 00 08 00000001 02 6869 0000');
    expect(decodeFrame(readFrameHeader(b, 0), b.subarray(9))).toMatchObject({ flowControlledLength: 5, padLength: 2 });
  });

  it('passes error codes it does not know through as numbers (RFC 9113 §7)', () => {
    const b = encodeFrames([frames.reset(1).code(0xdead).frame()]);
    expect(decodeFrame(readFrameHeader(b, 0), b.subarray(9))).toMatchObject({ errorCode: 0xdead });
    expect(ErrorCode.CANCEL).toBe(8);
  });
});
