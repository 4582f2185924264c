// The incremental decoder: round-trips for every frame type, byte streams split anywhere,
// CONTINUATION folding and its caps, the connection preface, early size rejection, zero-copy
// views, and a fuzz property that only the project's error classes ever come out.
import fc from 'fast-check';
import { CLIENT_PREFACE, ErrorCode, FrameType, MAX_MAX_FRAME_SIZE } from '../../lib/constants.js';
import { concat } from '../../lib/bytes.js';
import { ConnectionError, H2Error, StreamError } from '../../lib/errors.js';
import { decodeFrame, FrameDecoder } from '../../lib/frame/decoder.js';
import { encodeFrames } from '../../lib/frame/encoder.js';
import { readFrameHeader } from '../../lib/frame/header.js';
import type { Frame, HeadersFrame } from '../../lib/frame/types.js';
import { ARBITRARIES, headersFrame, streamFrame } from '../helpers/arbitraries.js';
import { frames, plain, unhex } from '../helpers/frames.js';
import { detached, everySplit, splitAt } from '../helpers/split.js';

/** Decodes all frames from the pieces; returns them and the error that stopped decoding, if any. */
function drain(pieces: readonly Uint8Array[], options = {}): { frames: Frame[]; error?: unknown } {
  const d = new FrameDecoder({ expectSettingsFirst: false, maxFrameSize: MAX_MAX_FRAME_SIZE, ...options });
  const out: Frame[] = [];
  try {
    for (const p of pieces) {
      d.push(p);
      for (let f = d.next(); f; f = d.next()) out.push(f);
    }
  } catch (e) {
    return { frames: out, error: e };
  }
  return { frames: out };
}

describe('encode ↔ decode round trip, per frame type', () => {
  it.each(Object.keys(ARBITRARIES))('%s: decode(encode(frame)) is the frame', (name) => {
    fc.assert(
      fc.property(ARBITRARIES[name]!, (frame) => {
        const b = encodeFrames([frame], MAX_MAX_FRAME_SIZE);
        const back = decodeFrame(readFrameHeader(b, 0), b.subarray(9));
        expect(plain(back)).toEqual(plain(frame));
      }),
      { numRuns: 300 },
    );
  });

  it('splits a header block into HEADERS + CONTINUATION at the peer MAX_FRAME_SIZE and folds it back', () => {
    fc.assert(
      fc.property(headersFrame, fc.integer({ min: 300, max: 3000 }), (f, extra) => {
        const big = { ...(f as HeadersFrame), headerBlock: new Uint8Array(16384 * 2 + extra).fill(7) };
        const b = encodeFrames([big], 16384);
        // walk the raw frames: HEADERS then CONTINUATIONs, END_HEADERS on the last only, none above 16384
        const types: number[] = [];
        for (let o = 0; o < b.length;) {
          const h = readFrameHeader(b, o);
          expect(h.length).toBeLessThanOrEqual(16384);
          types.push(h.type);
          const last = o + 9 + h.length === b.length;
          if (h.type === FrameType.HEADERS) expect((h.flags & 0x1) !== 0).toBe(big.endStream);
          expect((h.flags & 0x4) !== 0).toBe(last);
          o += 9 + h.length;
        }
        expect(types[0]).toBe(FrameType.HEADERS);
        expect(types.slice(1).every((t) => t === FrameType.CONTINUATION)).toBe(true);
        const { frames: got } = drain([b], { maxFrameSize: 16384 });
        expect(plain(got)).toEqual([plain(big)]);
      }),
      { numRuns: 50 },
    );
  });
});

describe('byte streams split at arbitrary offsets', () => {
  const stream = concat([
    frames.settings().initialWindowSize(1 << 20).maxConcurrentStreams(100).encode(),
    frames.headers(1).block(new Uint8Array(40).fill(0x82)).priority(0, 201).encode(),
    frames.data(1, 'hello').padded(3).encode(),
    encodeFrames([{ type: FrameType.HEADERS, streamId: 3, headerBlock: new Uint8Array(20000).fill(0x83), endStream: true,
      endHeaders: true, padLength: 5, priority: undefined }], 16384),
    frames.ping('12345678').encode(),
    frames.windowUpdate(0, 99).encode(),
    frames.unknown(0x42, 0, 'ext').encode(),
    frames.goaway(3).debugData('bye').encode(),
  ]);
  const whole = drain([stream]);

  it('decodes the reference stream without error', () => {
    expect(whole.error).toBeUndefined();
    expect(whole.frames.map((f) => f.type)).toEqual([4, 1, 0, 1, 6, 8, 0x42, 7]);
  });

  it('yields identical frames for every two-piece split', () => {
    for (const pieces of everySplit(stream)) {
      expect(plain(drain(detached(pieces)).frames)).toEqual(plain(whole.frames));
    }
  });

  it('yields identical frames for random many-piece splits (property)', () => {
    fc.assert(
      fc.property(fc.array(streamFrame, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (fs, cuts) => {
        const b = encodeFrames(fs, MAX_MAX_FRAME_SIZE);
        const offsets = [...new Set(cuts.map((c) => c % b.length))].sort((x, y) => x - y);
        const a = drain([b]);
        const s = drain(detached(splitAt(b, offsets)));
        expect(s.error).toBeUndefined();
        expect(plain(s.frames)).toEqual(plain(a.frames));
        expect(plain(a.frames)).toEqual(plain(fs));
      }),
      { numRuns: 300 },
    );
  });
});

describe('zero-copy views', () => {
  it('returns a view into the pushed chunk for a frame inside one chunk', () => {
    const chunk = frames.data(1, 'x'.repeat(1000)).encode();
    const f = drain([chunk]).frames[0] as Extract<Frame, { type: 0 }>;
    expect(f.data.buffer).toBe(chunk.buffer);
  });

  it('copies a frame straddling two chunks exactly once, into a fresh buffer', () => {
    const [a, b] = detached(splitAt(frames.data(1, 'y'.repeat(1000)).encode(), [500]));
    const f = drain([a!, b!]).frames[0] as Extract<Frame, { type: 0 }>;
    expect(f.data.buffer).not.toBe(a!.buffer);
    expect(f.data.buffer).not.toBe(b!.buffer);
    expect(Buffer.from(f.data).toString()).toBe('y'.repeat(1000));
  });
});

describe('frame size limit (RFC 9113 §4.2)', () => {
  it('rejects a frame announcing more than MAX_FRAME_SIZE as soon as its 9-octet header is read', () => {
    const d = new FrameDecoder({ expectSettingsFirst: false, maxFrameSize: 16384 });
    d.push(unhex('004001 00 00 00000001')); // 16385 octets announced, none of the body sent
    expect(() => d.next()).toThrow(expect.objectContaining({ errorCode: ErrorCode.FRAME_SIZE_ERROR }));
    expect(d.buffered).toBe(0);
  });

  it('accepts exactly MAX_FRAME_SIZE and honours a raised limit', () => {
    const d = new FrameDecoder({ expectSettingsFirst: false });
    d.push(frames.data(1, new Uint8Array(16384)).encode());
    expect(d.next()).toMatchObject({ flowControlledLength: 16384 });
    d.maxFrameSize = 65536;
    d.push(frames.data(1, new Uint8Array(65536)).encode());
    expect(d.next()).toMatchObject({ flowControlledLength: 65536 });
  });
});

describe('header blocks with CONTINUATION (RFC 9113 §6.10)', () => {
  const open = (sid: number, block = '82') => encodeFrames([{ type: FrameType.HEADERS, streamId: sid, headerBlock: unhex(block),
    endStream: true, endHeaders: false, padLength: undefined, priority: { dependsOn: 0, weight: 42, exclusive: false } }]);

  it('folds HEADERS + CONTINUATIONs into one HEADERS record keeping the first frame fields', () => {
    const { frames: got } = drain([open(1, '8286'), frames.continuation(1, unhex('84'), false).encode(), frames.continuation(1, unhex('41')).encode()]);
    expect(plain(got)).toEqual([plain({ type: 1, streamId: 1, headerBlock: unhex('82868441'), endStream: true, endHeaders: true,
      padLength: undefined, priority: { dependsOn: 0, weight: 42, exclusive: false } })]);
  });

  it('folds PUSH_PROMISE + CONTINUATION', () => {
    const pp = encodeFrames([{ type: FrameType.PUSH_PROMISE, streamId: 1, promisedStreamId: 2, headerBlock: unhex('82'), endHeaders: false, padLength: undefined }]);
    const { frames: got } = drain([pp, frames.continuation(1, unhex('87')).encode()]);
    expect(got[0]).toMatchObject({ type: FrameType.PUSH_PROMISE, promisedStreamId: 2, endHeaders: true });
    expect(Buffer.from((got[0] as HeadersFrame).headerBlock).toString('hex')).toBe('8287');
  });

  it.each([
    ['a DATA frame', frames.data(1, 'x').encode()],
    ['a PING frame', frames.ping().encode()],
    ['an unknown frame', frames.unknown(0xbb, 1).encode()],
    ['a CONTINUATION on another stream', frames.continuation(3, '82').encode()],
    ['a HEADERS on the same stream', frames.headers(1).block('82').encode()],
  ])('treats %s inside a header block as a connection PROTOCOL_ERROR', (_n, bytes) => {
    const r = drain([open(1), bytes]);
    expect(r.error).toBeInstanceOf(ConnectionError);
    expect((r.error as ConnectionError).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it('accepts the maximum number of CONTINUATION frames and refuses one more (CVE-2024-27316)', () => {
    const ok = [open(1)];
    for (let i = 0; i < 3; i++) ok.push(frames.continuation(1, '', false).encode());
    ok.push(frames.continuation(1, '').encode());
    expect(drain(ok, { maxContinuationFrames: 4 }).frames).toHaveLength(1);
    const tooMany = [open(1)];
    for (let i = 0; i < 5; i++) tooMany.push(frames.continuation(1, '', false).encode());
    const r = drain(tooMany, { maxContinuationFrames: 4 });
    expect((r.error as ConnectionError).errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
  });

  it('refuses a header block over the byte cap before buffering the frame that crosses it', () => {
    const d = new FrameDecoder({ expectSettingsFirst: false, maxHeaderBlockSize: 1000 });
    d.push(open(1, '00'.repeat(600)));
    expect(d.next()).toBeNull();
    d.push(unhex('000191 09 00 00000001')); // CONTINUATION header announcing 401 more octets
    expect(() => d.next()).toThrow(expect.objectContaining({ errorCode: ErrorCode.ENHANCE_YOUR_CALM }));
  });
});

describe('connection preface (RFC 9113 §3.4)', () => {
  const settings = frames.settings().encode();

  it('accepts the client preface and a SETTINGS frame, however they are split', () => {
    const bytes = concat([CLIENT_PREFACE, settings, frames.ping().encode()]);
    for (const pieces of everySplit(bytes)) {
      const { frames: got, error } = drain(detached(pieces), { expectPreface: true, expectSettingsFirst: true });
      expect(error).toBeUndefined();
      expect(got.map((f) => f.type)).toEqual([FrameType.SETTINGS, FrameType.PING]);
    }
  });

  it('rejects an HTTP/1.1 request at its first octet', () => {
    const r = drain([Buffer.from('G')], { expectPreface: true });
    expect((r.error as ConnectionError).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it('rejects a preface that differs in its last octet', () => {
    const bad = Uint8Array.from(CLIENT_PREFACE);
    bad[23] = 0x41;
    expect(drain([bad], { expectPreface: true }).error).toBeInstanceOf(ConnectionError);
  });

  it.each([
    ['a PING', frames.ping().encode()],
    ['a SETTINGS ACK', frames.settings().ack().encode()],
    ['a HEADERS', frames.headers(1).block('82').encode()],
  ])('rejects %s as the first frame instead of SETTINGS', (_n, first) => {
    const r = drain([CLIENT_PREFACE, first], { expectPreface: true, expectSettingsFirst: true });
    expect((r.error as ConnectionError).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });
});

describe('fuzz: arbitrary bytes never break the decoder', () => {
  function run(pieces: Uint8Array[], options = {}): void {
    const d = new FrameDecoder({ expectSettingsFirst: false, ...options });
    for (const p of pieces) {
      d.push(p);
      for (;;) {
        try {
          if (d.next() === null) break;
        } catch (e) {
          // only the project's protocol errors, each with an RFC error code
          expect(e).toBeInstanceOf(H2Error);
          expect(typeof (e as H2Error).errorCode).toBe('number');
          if (e instanceof ConnectionError) return;
          expect(e).toBeInstanceOf(StreamError);
        }
      }
    }
  }

  it('throws only ConnectionError/StreamError on random bytes', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (pieces) => run(pieces)), { numRuns: 2000 });
  });

  it('throws only ConnectionError/StreamError on mutated valid frame streams', () => {
    fc.assert(
      fc.property(
        fc.array(streamFrame, { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.boolean(),
        (fs, flips, cuts, preface) => {
          const b = Uint8Array.from(encodeFrames(fs, MAX_MAX_FRAME_SIZE));
          for (const [at, v] of flips) b[at % b.length] = v;
          const all = preface ? concat([CLIENT_PREFACE, b]) : b;
          const offsets = [...new Set(cuts.map((c) => c % all.length))].sort((x, y) => x - y);
          run(detached(splitAt(all, offsets)), { expectPreface: preface, maxFrameSize: 16384, maxContinuationFrames: 3 });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
