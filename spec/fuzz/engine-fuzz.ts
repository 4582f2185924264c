/**
 * The engine fuzzer, shared by `spec/fuzz/engine.spec.ts` (a few thousand cases in `npm test`) and
 * `npm run fuzz` (a million, seed printed). A case is a server or client `H2Connection` fed a
 * random script: plausible frames on a few stream ids (valid requests and responses, DATA, window
 * updates, resets, priorities, settings, pings, GOAWAY, PUSH_PROMISE, CONTINUATION, extension
 * frames), arbitrary frames from the codec's arbitraries, raw bytes, and the application's own
 * calls in between — all cut at random offsets. After every step it checks:
 *   - only the project's error classes are thrown (ConnectionError from receiveData; our
 *     H2SchedError subclasses from the application's calls);
 *   - windows stay within RFC 9113 §6.9 bounds, open inbound streams within our
 *     MAX_CONCURRENT_STREAMS, remembered closed streams within their cap;
 *   - what the connection writes is well-formed HTTP/2 that a peer decodes, every RST_STREAM and
 *     GOAWAY carries a defined error code, a ConnectionError queued exactly its GOAWAY as the
 *     last frame, and nothing is processed or written after it.
 */
import fc from 'fast-check';
import { CLIENT_PREFACE, ErrorCode, FrameType, MAX_INT31 } from '../../lib/constants.js';
import { ConnectionState, H2Connection } from '../../lib/connection/connection.js';
import { ConnectionError, H2SchedError } from '../../lib/errors.js';
import { encodeFrames } from '../../lib/frame/encoder.js';
import { FrameDecoder } from '../../lib/frame/decoder.js';
import type { Frame, KnownFrame } from '../../lib/frame/types.js';
import type { HeaderInput } from '../../lib/hpack/types.js';
import { streamFrame } from '../helpers/arbitraries.js';
import { frameFactory } from '../helpers/frames.js';

const ids = fc.constantFrom(0, 1, 1, 1, 2, 3, 3, 5, 7, 9, 4, 101, MAX_INT31);
const codes = fc.oneof(fc.constantFrom(0, 1, 2, 3, 5, 7, 8, 11), fc.nat());
const EXTRA: HeaderInput[][] = [
  [], [], [], [['content-length', '5']], [['te', 'trailers']], [['connection', 'close']], [['Upper', 'x']],
  [[':path', '']], [['priority', 'u=1, i']], [['cookie', 'a=1'], ['cookie', 'b=2']], [['x', 'v\r\n']], [[':protocol', 'websocket']],
];

export type Step =
  | { t: 'req'; id: number; method: string; extra: number; eos: boolean; prio: boolean }
  | { t: 'resp'; id: number; status: string; eos: boolean }
  | { t: 'trailers'; id: number }
  | { t: 'data'; id: number; len: number; eos: boolean; pad: boolean }
  | { t: 'wu'; id: number; inc: number }
  | { t: 'rst'; id: number; code: number }
  | { t: 'prio'; id: number; dep: number; weight: number; excl: boolean }
  | { t: 'settings'; entries: Array<[number, number]> }
  | { t: 'settingsAck' }
  | { t: 'ping'; ack: boolean }
  | { t: 'goaway'; last: number; code: number }
  | { t: 'push'; id: number; promised: number }
  | { t: 'cont'; id: number; end: boolean }
  | { t: 'pu'; id: number; value: string }
  | { t: 'frame'; frame: Frame }
  | { t: 'raw'; bytes: Uint8Array }
  | { t: 'read' }
  | { t: 'app'; act: 'respond' | 'data' | 'end' | 'reset' | 'ping' | 'settings' | 'ack' | 'close' | 'request' | 'push' | 'prioritize'; id: number; n: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('req' as const), id: ids, method: fc.constantFrom('GET', 'POST', 'HEAD', 'CONNECT'), extra: fc.nat(EXTRA.length - 1), eos: fc.boolean(), prio: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('resp' as const), id: ids, status: fc.constantFrom('200', '204', '100', '304', '99', 'abc'), eos: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('trailers' as const), id: ids }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('data' as const), id: ids, len: fc.oneof(fc.constant(0), fc.nat(300), fc.constant(16384)), eos: fc.boolean(), pad: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('wu' as const), id: ids, inc: fc.oneof(fc.constantFrom(0, 1, 65535, MAX_INT31), fc.nat(100000)) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('rst' as const), id: ids, code: codes }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('prio' as const), id: ids, dep: ids, weight: fc.integer({ min: 1, max: 256 }), excl: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('settings' as const), entries: fc.array(fc.tuple(fc.integer({ min: 0, max: 10 }), fc.oneof(fc.constantFrom(0, 1, 2, 100, 16384, 65535, 16777215, 2 ** 31, 2 ** 32 - 1), fc.nat())), { maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'settingsAck' as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('ping' as const), ack: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('goaway' as const), last: ids, code: codes }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('push' as const), id: ids, promised: ids }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('cont' as const), id: ids, end: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('pu' as const), id: ids, value: fc.constantFrom('u=0', 'u=9', 'i', '??', '') }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('frame' as const), frame: streamFrame }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('raw' as const), bytes: fc.uint8Array({ maxLength: 40 }) }) },
  { weight: 3, arbitrary: fc.constant({ t: 'read' as const }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('app' as const), act: fc.constantFrom('respond', 'data', 'end', 'reset', 'ping', 'settings', 'ack', 'close', 'request', 'push', 'prioritize'), id: ids, n: fc.nat(70000) }) },
);

export interface Case {
  client: boolean;
  steps: Step[];
  /** Cut sizes for the bytes of consecutive frame steps (cycled). */
  cuts: number[];
}

export const fuzzCase: fc.Arbitrary<Case> = fc.record({
  client: fc.boolean(),
  steps: fc.array(step, { minLength: 1, maxLength: 40 }),
  cuts: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
});

const CODES = new Set<number>(Object.values(ErrorCode));
const INT31_MIN = -(2 ** 31);

class Violation extends Error {}

function check(cond: boolean, what: string): void {
  if (!cond) throw new Violation(what);
}

/** Runs one case; throws (a Violation or whatever escaped) when a rule broke. */
export function runCase(c: Case): void {
  const conn = new H2Connection({ clientSide: c.client, clock: () => 0 });
  conn.initiateConnection();
  const f = frameFactory();
  const out = new FrameDecoder({ expectPreface: c.client, expectSettingsFirst: true, maxFrameSize: 16777215, maxContinuationFrames: 1 << 20, maxHeaderBlockSize: 1 << 30 });
  let pending: Uint8Array[] = [c.client ? f.settings().encode() : Buffer.concat([CLIENT_PREFACE, f.settings().encode()])];
  let cut = 0;
  let failed: ConnectionError | undefined;
  let goawayErrors = 0;

  const drain = (): void => {
    const bytes = conn.dataToSend();
    out.push(bytes);
    const frames: KnownFrame[] = [];
    for (let fr = out.next(); fr !== null; fr = out.next()) frames.push(fr as KnownFrame);
    for (const fr of frames) {
      if (fr.type === FrameType.RST_STREAM) check(CODES.has(fr.errorCode), `RST_STREAM with undefined code ${fr.errorCode}`);
      if (fr.type === FrameType.GOAWAY) {
        check(CODES.has(fr.errorCode), `GOAWAY with undefined code ${fr.errorCode}`);
        if (fr.errorCode !== ErrorCode.NO_ERROR) goawayErrors++;
      }
    }
    if (failed) {
      check(frames.length === 0 || frames.at(-1)!.type === FrameType.GOAWAY, 'frames after the GOAWAY of a connection error');
      const g = frames.at(-1);
      if (g && g.type === FrameType.GOAWAY) check(g.errorCode === failed.errorCode, `GOAWAY code ${g.errorCode} differs from the error's ${failed.errorCode}`);
    }
  };

  const invariants = (): void => {
    const w = [conn.sendWindow.size, conn.recvWindow.current];
    for (const s of conn.streams.live.values()) w.push(s.send.size, s.recv.current);
    for (const x of w) check(Number.isInteger(x) && x >= INT31_MIN && x <= MAX_INT31, `window ${x} out of bounds`);
    check(conn.openInboundStreams <= conn.localSettings.maxConcurrentStreams, `${conn.openInboundStreams} inbound streams open`);
    check(conn.streams.closedCount <= conn.streams.maxClosed, 'closed streams over their cap');
    check(conn.outboundBufferSize >= 0, 'negative outbound size');
  };

  const feed = (): void => {
    if (pending.length === 0) return;
    const bytes = Buffer.concat(pending);
    pending = [];
    for (let o = 0; o < bytes.length;) {
      const n = c.cuts[cut++ % c.cuts.length]!;
      const piece = bytes.subarray(o, o + n);
      o += n;
      try {
        const events = conn.receiveData(piece);
        if (failed) check(events.length === 0, 'events after a connection error');
      } catch (e) {
        check(e instanceof ConnectionError, `receiveData threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
        check(failed === undefined, 'a second ConnectionError');
        failed = e as ConnectionError;
        check(conn.state === ConnectionState.CLOSED, 'not CLOSED after a connection error');
        check(CODES.has(failed.errorCode), `connection error with undefined code ${failed.errorCode}`);
        drain();
      }
      invariants();
    }
  };

  const body = (n: number) => new Uint8Array(n % 20000);
  for (const s of c.steps) {
    if (s.t === 'app' || s.t === 'read') {
      feed();
      if (s.t === 'read') {
        drain();
        continue;
      }
      try {
        app(conn, s, body);
      } catch (e) {
        check(e instanceof H2SchedError, `the application's call threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
      }
      invariants();
      continue;
    }
    pending.push(encodeStep(f, s));
  }
  feed();
  drain();
  check(goawayErrors <= 1, 'more than one GOAWAY with an error');
}

function app(conn: H2Connection, s: Extract<Step, { t: 'app' }>, body: (n: number) => Uint8Array): void {
  switch (s.act) {
    case 'respond': return conn.sendHeaders(s.id, conn.clientSide ? [[':method', 'GET'], [':scheme', 'https'], [':authority', 'a'], [':path', '/']] : [[':status', '200']], { endStream: s.n % 2 === 0 });
    case 'data': return conn.sendData(s.id, body(Math.min(s.n, conn.localFlowControlWindow(s.id) > 0 ? conn.localFlowControlWindow(s.id) : s.n)), { endStream: s.n % 3 === 0 });
    case 'end': return conn.endStream(s.id);
    case 'reset': return conn.resetStream(s.id, s.n % 14);
    case 'ping': return conn.ping(new Uint8Array(8));
    case 'settings': return conn.updateSettings([[4, s.n], [3, s.n % 200]]);
    case 'ack': return conn.acknowledgeReceivedData(s.n % 70000, s.id);
    case 'close': return conn.closeConnection(s.n % 14);
    case 'request': return conn.sendHeaders(conn.getNextAvailableStreamId(), [[':method', 'POST'], [':scheme', 'https'], [':authority', 'a'], [':path', '/']]);
    case 'push': return conn.pushStream(s.id, conn.getNextAvailableStreamId(), [[':method', 'GET'], [':scheme', 'https'], [':authority', 'a'], [':path', '/p']]);
    case 'prioritize': return conn.prioritize(s.id, { dependsOn: s.n % 12, weight: 1 + (s.n % 256) });
  }
}

function encodeStep(f: ReturnType<typeof frameFactory>, s: Exclude<Step, { t: 'app' } | { t: 'read' }>): Uint8Array {
  switch (s.t) {
    case 'req': {
      const h = f.headers(s.id).request(s.method, '/x', EXTRA[s.extra]);
      if (s.eos) h.eos();
      if (s.prio) h.priority(3, 200, true);
      return h.encode();
    }
    case 'resp': {
      const h = f.headers(s.id).response(s.status);
      return (s.eos ? h.eos() : h).encode();
    }
    case 'trailers': return f.headers(s.id).trailers([['x-t', '1']]).encode();
    case 'data': {
      const d = f.data(s.id, new Uint8Array(s.len));
      if (s.eos) d.eos();
      if (s.pad) d.padded(3);
      return d.encode(16777215);
    }
    case 'wu': return encodeFrames([{ type: FrameType.WINDOW_UPDATE, streamId: s.id, increment: s.inc }]);
    case 'rst': return encodeFrames([{ type: FrameType.RST_STREAM, streamId: s.id, errorCode: s.code >>> 0 }]);
    case 'prio': return f.priority(s.id, s.dep, s.weight, s.excl).encode();
    case 'settings': return encodeFrames([{ type: FrameType.SETTINGS, streamId: 0, ack: false, settings: s.entries.map(([id, value]) => [id, value >>> 0] as const) }]);
    case 'settingsAck': return f.settings().ack().encode();
    case 'ping': return (s.ack ? f.ping().ack() : f.ping()).encode();
    case 'goaway': return encodeFrames([{ type: FrameType.GOAWAY, streamId: 0, lastStreamId: s.last, errorCode: s.code >>> 0, debugData: new Uint8Array(0) }]);
    case 'push': return f.pushPromise(s.id, s.promised).request('GET', '/pushed').encode();
    case 'cont': return f.continuation(s.id, new Uint8Array([0x82]), s.end).encode();
    case 'pu': return f.priorityUpdate(s.id, s.value).encode();
    case 'frame': return encodeFrames([s.frame], 16777215);
    case 'raw': return s.bytes;
  }
}
