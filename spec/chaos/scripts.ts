/**
 * Misbehaving clients for the chaos run: fast-check arbitraries of connection scripts, and the raw
 * socket client that plays one. A script is a connection setup (h2c prior knowledge with our own
 * SETTINGS, or an invalid preface, garbage, HTTP/1.1, an `Upgrade: h2c`), how the client reads
 * (flowing or paused) and returns credit (for everything, connection only, never), then a list of
 * stories — the shapes of abuse issue 12 names: resets at every point of a request's life,
 * trailers with a RST_STREAM in the same write, dropped downloads and uploads, bad URLs, window
 * games, GOAWAY mid-flight, PING floods, slow readers, garbage, half-close — and how it ends.
 * Stories refer to their own streams by slot; the script maps slots to stream ids as it opens
 * them. Every script ends by its lifetime at the latest (the socket is destroyed then).
 */
import fc from 'fast-check';
import net from 'node:net';
import { ErrorCode, FrameType, SettingId } from '../../lib/constants.js';
import type { HeaderInput } from '../../lib/hpack/types.js';
import { frameFactory } from '../helpers/frames.js';

/** Paths that name served files (see server.ts). */
export const GOOD_PATHS = ['/tiny.txt', '/16k.bin', '/200k.bin', '/5m.bin', '/', '/index.html', '/sub/', '/sub/deeper/site.css', '/missing.txt'] as const;
/** URLs a careless or hostile client sends. */
export const BAD_PATHS = [
  '/%', '/%zz', '/%E0%A4%A', '/%00', '/../../../../etc/passwd', '/sub/../../../etc/passwd', '/..%2f..%2fetc%2fpasswd',
  '/%2e%2e/%2e%2e/etc/passwd', '//tiny.txt', '/tiny.txt?x=1&y=%', '/tiny.txt#frag', '*', 'tiny.txt', '', '/sub', '/5m.bin/',
  '/\u00ff\u00fe', '/a b', '/sub/deeper/', '/%C0%AE%C0%AE/',
] as const;

type Slot = number;
export type Step =
  | { k: 'open'; method: string; path: string; eos: boolean; extra: number; prio: boolean }
  | { k: 'body'; slot: Slot; len: number; eos: boolean }
  | { k: 'trailers'; slot: Slot; rst: boolean; code: number; bad: boolean }
  | { k: 'rst'; slot: Slot; code: number }
  | { k: 'await'; slot: Slot; what: 'headers' | 'data' | 'end'; ms: number }
  | { k: 'sleep'; ms: number }
  | { k: 'wu'; slot: Slot; inc: number } // slot -1: the connection
  | { k: 'settings'; iws: number }
  | { k: 'ping'; n: number }
  | { k: 'prio'; slot: Slot; dep: Slot; weight: number; excl: boolean }
  | { k: 'goaway'; code: number; last: 'zero' | 'last' | 'max' }
  | { k: 'emptyData'; slot: Slot; n: number }
  | { k: 'unknown'; slot: Slot }
  | { k: 'pause' }
  | { k: 'resume' }
  | { k: 'garbage'; bytes: number[] }
  | { k: 'halfClose' }
  | { k: 'destroy' }
  /** `n` requests in one write, each followed by its RST_STREAM when `rst` (CVE-2023-44487), or left open (beyond MAX_CONCURRENT_STREAMS). */
  | { k: 'storm'; n: number; rst: boolean; post: boolean }
  /** A request's header block cut into HEADERS + CONTINUATIONs, finished, interleaved with another frame, sent on the wrong stream, or never finished. */
  | { k: 'continuation'; pieces: number; end: 'ok' | 'interleave' | 'wrongStream' | 'never' }
  /** One protocol violation of VIOLATIONS. */
  | { k: 'violation'; which: number }
  /** Reads in short bursts for `ms` (resume 5 ms, pause 50 ms), then stays paused. */
  | { k: 'trickle'; ms: number };

export interface Story {
  name: string;
  steps: Step[];
}

export type SetupKind = 'h2' | 'upgrade' | 'invalidPreface' | 'garbage' | 'http1' | 'partialPreface';

export interface Script {
  setup: SetupKind;
  /** SETTINGS_INITIAL_WINDOW_SIZE we announce (0: the window game starts at once). */
  iws: number;
  ackSettings: boolean;
  credit: 'auto' | 'connection' | 'none';
  paused: boolean;
  /** Our writes are cut into pieces of at most this many bytes (0: whole). */
  cut: number;
  http1: number;
  garbage: number[];
  stories: Story[];
  finish: 'destroy' | 'end' | 'goaway' | 'linger';
  lifetimeMs: number;
}

/** Protocol violations a client may commit (the server answers with a stream or connection error). */
export const VIOLATIONS = [
  'DATA on an idle stream', 'HEADERS on stream 0', 'request on a stream id lower than the last', 'second HEADERS without END_STREAM',
  'DATA after END_STREAM', 'padding longer than the DATA payload', 'PRIORITY depending on itself', 'SETTINGS_ENABLE_PUSH=2',
  'SETTINGS_MAX_FRAME_SIZE=1', 'connection WINDOW_UPDATE of 0', 'connection window overflow', 'PUSH_PROMISE from a client',
  '50 SETTINGS frames', 'undecodable HPACK block', 'HPACK table size update above the limit', 'RST_STREAM on an idle stream',
  'PING of 4 octets', 'unsolicited SETTINGS ACK', 'request after our own GOAWAY', 'upper-case and connection-specific header names',
  'pseudo-header after a regular one', 'content-length 10 with a 3-octet body', 'DATA larger than SETTINGS_MAX_FRAME_SIZE',
  'DATA after a GET with END_STREAM', 'stream WINDOW_UPDATE of 0', 'PRIORITY_UPDATE for an idle stream with a bad value',
] as const;

// ---------------------------------------------------------------- arbitraries

const codes = fc.constantFrom<number>(ErrorCode.NO_ERROR, ErrorCode.CANCEL, ErrorCode.CANCEL, ErrorCode.PROTOCOL_ERROR, ErrorCode.INTERNAL_ERROR,
  ErrorCode.REFUSED_STREAM, ErrorCode.STREAM_CLOSED, ErrorCode.ENHANCE_YOUR_CALM, 0xdead);
const goodPath = fc.constantFrom(...GOOD_PATHS);
const bigPath = fc.constantFrom('/200k.bin', '/5m.bin', '/5m.bin', '/16k.bin');
const badPath = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<string>(...BAD_PATHS) },
  { weight: 1, arbitrary: fc.constantFrom(100, 3000, 20000, 70000).map((n) => `/${'a'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.constantFrom(100, 3000).map((n) => `/${'%2e%2e/'.repeat(n)}`) },
);
const postLen = fc.oneof(fc.constantFrom(0, 1, 16384, 65535, 65536, 200000), fc.nat(100000));
const sleep = (max: number) => fc.integer({ min: 0, max }).map((ms): Step => ({ k: 'sleep', ms }));
const open = (method: fc.Arbitrary<string>, path: fc.Arbitrary<string>, eos: fc.Arbitrary<boolean>): fc.Arbitrary<Step> =>
  fc.record({ k: fc.constant('open' as const), method, path, eos, extra: fc.nat(7), prio: fc.boolean() });
const get = (path: fc.Arbitrary<string> = goodPath) => open(fc.constantFrom('GET', 'GET', 'GET', 'HEAD'), path, fc.constant(true));
const post = (path: fc.Arbitrary<string> = fc.constantFrom('/echo', '/tiny.txt', '/x/y')) => open(fc.constantFrom('POST', 'POST', 'PUT'), path, fc.constant(false));
const body = (slot: Slot, eos: fc.Arbitrary<boolean> = fc.boolean()) => fc.record({ k: fc.constant('body' as const), slot: fc.constant(slot), len: postLen, eos });
const awaitOn = (slot: Slot, what: 'headers' | 'data' | 'end', ms = 1500): Step => ({ k: 'await', slot, what, ms });
const rst = (slot: Slot) => codes.map((code): Step => ({ k: 'rst', slot, code }));
const story = (name: string, steps: fc.Arbitrary<Step[]>): fc.Arbitrary<Story> => steps.map((s) => ({ name, steps: s }));
const seq = (...parts: Array<fc.Arbitrary<Step> | Step>): fc.Arbitrary<Step[]> =>
  fc.tuple(...parts.map((p) => (p instanceof fc.Arbitrary ? p : fc.constant(p)))) as unknown as fc.Arbitrary<Step[]>;

/** The issue's crash: after the response started, trailers (HEADERS+END_STREAM) and RST_STREAM in ONE write. */
const trailersRst = story('trailersRst', fc.tuple(post(), body(0, fc.constant(false)), fc.boolean(), fc.boolean(), codes, fc.boolean()).map(
  ([o, b, wait, more, code, bad]) => [o, b, ...(wait ? [awaitOn(0, 'headers')] : []), ...(more ? [{ ...b }] : []),
    { k: 'trailers', slot: 0, rst: true, code, bad } as Step, awaitOn(0, 'end', 500)]));

/** RST_STREAM before the request is complete, after the response headers, mid-body, after END_STREAM either way. */
const rstAt = story('rstAt', fc.tuple(fc.boolean(), bigPath, fc.constantFrom('open', 'headers', 'data', 'end', 'afterEos'), codes, fc.boolean(), postLen).map(
  ([isPost, path, point, code, twice, len]) => {
    const steps: Step[] = [isPost
      ? { k: 'open', method: 'POST', path: '/echo', eos: false, extra: 0, prio: false }
      : { k: 'open', method: 'GET', path, eos: true, extra: 0, prio: false }];
    if (isPost) steps.push({ k: 'body', slot: 0, len, eos: point === 'afterEos' || point === 'end' });
    if (point === 'headers' || point === 'data' || point === 'end') steps.push(awaitOn(0, point as 'headers' | 'data' | 'end', 2500));
    steps.push({ k: 'rst', slot: 0, code });
    if (twice) steps.push({ k: 'rst', slot: 0, code }, { k: 'wu', slot: 0, inc: 100 }, { k: 'body', slot: 0, len: 10, eos: true });
    return steps;
  }));

const trailersOk = story('trailers', fc.tuple(post(), body(0, fc.constant(false)), fc.boolean()).map(([o, b, bad]) =>
  [o, b, { k: 'trailers', slot: 0, rst: false, code: 0, bad } as Step, awaitOn(0, 'end', 3000)]));

const dropDownload = story('dropDownload', seq(get(bigPath), fc.constantFrom<Step>(awaitOn(0, 'headers'), awaitOn(0, 'data')), sleep(200),
  fc.constantFrom<Step>({ k: 'destroy' }, { k: 'destroy' }, { k: 'halfClose' })));

const dropUpload = story('dropUpload', seq(post(), body(0, fc.constant(false)), sleep(100), body(0, fc.constant(false)),
  fc.constantFrom<Step>({ k: 'destroy' }, { k: 'destroy' }, { k: 'halfClose' })));

const windowGames = story('windowGames', fc.tuple(fc.constantFrom(0, 0, 1, 10), bigPath, fc.array(fc.tuple(fc.constantFrom(-1, 0), fc.constantFrom(0, 1, 7, 100, 1000, 65535, 0x7fffffff)), { minLength: 1, maxLength: 12 }),
  fc.boolean(), fc.boolean()).map(([iws, path, wus, restore, reset]) => {
  const steps: Step[] = [{ k: 'settings', iws }, { k: 'open', method: 'GET', path, eos: true, extra: 0, prio: false }];
  for (const [slot, inc] of wus) steps.push({ k: 'wu', slot, inc }, { k: 'sleep', ms: 20 });
  if (restore) steps.push({ k: 'settings', iws: 65535 }, { k: 'settings', iws: 0x7fffffff });
  if (reset) steps.push({ k: 'rst', slot: 0, code: ErrorCode.CANCEL });
  return steps;
}));

const goawayMidFlight = story('goawayMidFlight', fc.tuple(fc.array(fc.oneof(get(bigPath), post()), { minLength: 1, maxLength: 3 }), codes,
  fc.constantFrom<'zero' | 'last' | 'max'>('zero', 'last', 'max'), fc.boolean()).map(([opens, code, last, after]) => {
  const steps: Step[] = [];
  opens.forEach((o, i) => {
    steps.push(o);
    if (o.k === 'open' && !o.eos) steps.push({ k: 'body', slot: i, len: 30000, eos: false });
  });
  steps.push(awaitOn(0, 'data'), { k: 'goaway', code, last });
  if (after) steps.push({ k: 'open', method: 'GET', path: '/tiny.txt', eos: true, extra: 0, prio: false }, { k: 'body', slot: 0, len: 100, eos: true });
  steps.push(awaitOn(0, 'end', 1000));
  return steps;
}));

const slowReader = story('slowReader', seq({ k: 'pause' }, get(bigPath), get(bigPath), sleep(1500),
  fc.constantFrom<Step>({ k: 'resume' }, { k: 'destroy' }, { k: 'rst', slot: 0, code: ErrorCode.CANCEL }), sleep(300)));

const badUrl = story('badUrl', fc.tuple(open(fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS', 'CONNECT', 'get', ''), badPath, fc.boolean()), fc.boolean()).map(
  ([o, data]) => [o, ...(data ? [{ k: 'body', slot: 0, len: 50, eos: true } as Step] : []), awaitOn(0, 'end', 1000)]));

const pingFlood = story('pingFlood', fc.integer({ min: 1, max: 60 }).map((n): Step[] => [{ k: 'ping', n }]));

const fine = story('fine', fc.tuple(fc.oneof(get(), post()), postLen).map(([o, len]) =>
  [o, ...(o.k === 'open' && !o.eos ? [{ k: 'body', slot: 0, len, eos: true } as Step] : []), awaitOn(0, 'end', 3000)]));

const rapidReset = story('rapidReset', fc.tuple(fc.integer({ min: 1, max: 150 }), fc.boolean(), fc.boolean(), fc.nat(2)).map(([n, rst, post, rounds]) => {
  const steps: Step[] = [{ k: 'storm', n, rst, post }];
  for (let i = 0; i < rounds; i++) steps.push({ k: 'sleep', ms: 30 }, { k: 'storm', n, rst, post });
  return steps;
}));

const continuation = story('continuation', fc.tuple(fc.integer({ min: 1, max: 40 }), fc.constantFrom<'ok' | 'interleave' | 'wrongStream' | 'never'>('ok', 'interleave', 'wrongStream', 'never')).map(
  ([pieces, end]): Step[] => [{ k: 'continuation', pieces, end }, awaitOn(0, 'end', 1000)]));

const violations = story('violation', fc.tuple(fc.oneof(get(), post()), fc.array(fc.nat(VIOLATIONS.length - 1), { minLength: 1, maxLength: 3 })).map(
  ([o, which]) => [o, ...which.map((w): Step => ({ k: 'violation', which: w })), awaitOn(0, 'end', 500)]));

const trickle = story('trickle', seq({ k: 'pause' }, get(bigPath), fc.integer({ min: 100, max: 2500 }).map((ms): Step => ({ k: 'trickle', ms })),
  fc.constantFrom<Step>({ k: 'resume' }, { k: 'destroy' }, { k: 'rst', slot: 0, code: ErrorCode.CANCEL })));

const anySlot = fc.integer({ min: -1, max: 3 });
const randomStep: fc.Arbitrary<Step> = fc.oneof(
  open(fc.constantFrom('GET', 'POST', 'HEAD'), fc.oneof(goodPath, badPath), fc.boolean()),
  fc.record({ k: fc.constant('body' as const), slot: anySlot, len: postLen, eos: fc.boolean() }),
  fc.record({ k: fc.constant('trailers' as const), slot: anySlot, rst: fc.boolean(), code: codes, bad: fc.boolean() }),
  fc.record({ k: fc.constant('rst' as const), slot: anySlot, code: codes }),
  fc.record({ k: fc.constant('await' as const), slot: anySlot, what: fc.constantFrom<'headers' | 'data' | 'end'>('headers', 'data', 'end'), ms: fc.integer({ min: 0, max: 800 }) }),
  fc.record({ k: fc.constant('wu' as const), slot: anySlot, inc: fc.constantFrom(0, 1, 1000, 65535, 0x7fffffff) }),
  fc.record({ k: fc.constant('settings' as const), iws: fc.constantFrom(0, 1, 65535, 0x7fffffff, 0x80000000) }),
  fc.record({ k: fc.constant('prio' as const), slot: anySlot, dep: anySlot, weight: fc.integer({ min: 1, max: 256 }), excl: fc.boolean() }),
  fc.record({ k: fc.constant('emptyData' as const), slot: anySlot, n: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ k: fc.constant('unknown' as const), slot: anySlot }),
  fc.record({ k: fc.constant('garbage' as const), bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 30 }) }),
  fc.constantFrom<Step>({ k: 'pause' }, { k: 'resume' }, { k: 'halfClose' }),
  fc.record({ k: fc.constant('violation' as const), which: fc.nat(VIOLATIONS.length - 1) }),
  fc.record({ k: fc.constant('storm' as const), n: fc.integer({ min: 1, max: 20 }), rst: fc.boolean(), post: fc.boolean() }),
  sleep(300),
);
const random = story('random', fc.array(randomStep, { minLength: 1, maxLength: 10 }));

const stories: fc.Arbitrary<Story> = fc.oneof(
  { weight: 4, arbitrary: trailersRst },
  { weight: 5, arbitrary: rstAt },
  { weight: 2, arbitrary: trailersOk },
  { weight: 2, arbitrary: dropDownload },
  { weight: 2, arbitrary: dropUpload },
  { weight: 2, arbitrary: windowGames },
  { weight: 2, arbitrary: goawayMidFlight },
  { weight: 2, arbitrary: slowReader },
  { weight: 3, arbitrary: badUrl },
  { weight: 1, arbitrary: pingFlood },
  { weight: 2, arbitrary: fine },
  { weight: 3, arbitrary: random },
  { weight: 2, arbitrary: rapidReset },
  { weight: 1, arbitrary: continuation },
  { weight: 3, arbitrary: violations },
  { weight: 1, arbitrary: trickle },
);

/** Slots are per story; shift them so that they count the script's streams in opening order. */
function placeStories(list: Story[]): Story[] {
  let base = 0;
  return list.map((s) => {
    const steps = s.steps.map((st) => ('slot' in st && st.slot >= 0 ? { ...st, slot: st.slot + base } : st));
    const shifted = steps.map((st) => (st.k === 'prio' && st.dep >= 0 ? { ...st, dep: st.dep + base } : st));
    base += s.steps.reduce((n, st) => n + (st.k === 'open' || st.k === 'continuation' ? 1 : st.k === 'storm' ? st.n : 0), 0);
    return { name: s.name, steps: shifted };
  });
}

export const scriptArb: fc.Arbitrary<Script> = fc.record({
  setup: fc.constantFrom<SetupKind>('h2', 'h2', 'h2', 'h2', 'h2', 'h2', 'h2', 'h2', 'h2', 'h2', 'h2', 'h2', 'upgrade', 'invalidPreface', 'garbage', 'http1', 'partialPreface'),
  iws: fc.constantFrom(65535, 65535, 65535, 1 << 20, 0x7fffffff, 0, 16),
  ackSettings: fc.constantFrom(true, true, true, true, true, false),
  credit: fc.constantFrom<'auto' | 'connection' | 'none'>('auto', 'auto', 'auto', 'connection', 'none'),
  paused: fc.constantFrom(false, false, false, false, false, true),
  cut: fc.constantFrom(0, 0, 0, 0, 1, 7, 100),
  http1: fc.nat(4),
  garbage: fc.array(fc.nat(255), { minLength: 1, maxLength: 64 }),
  stories: fc.array(stories, { minLength: 1, maxLength: 4 }).map(placeStories),
  finish: fc.constantFrom<Script['finish']>('destroy', 'destroy', 'end', 'goaway', 'linger'),
  lifetimeMs: fc.integer({ min: 300, max: 4000 }),
});

/** A 32-bit mix of the run's seed and a script's coordinates: each script is generated on its own. */
export function scriptSeed(seed: number, worker: number, index: number): number {
  let h = (seed ^ Math.imul(worker + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) | 0;
}

export function generateScript(seed: number, worker: number, index: number): Script {
  return fc.sample(scriptArb, { seed: scriptSeed(seed, worker, index), numRuns: 1 })[0]!;
}

/** One line per script for reports: setup and options, then the stories with their steps. */
export function describeScript(s: Script): string {
  const opts = `${s.setup} iws=${s.iws}${s.ackSettings ? '' : ' no-ack'} credit=${s.credit}${s.paused ? ' paused' : ''}${s.cut ? ` cut=${s.cut}` : ''} finish=${s.finish} life=${s.lifetimeMs}ms`;
  if (s.setup !== 'h2' && s.setup !== 'upgrade') return opts;
  const step = (st: Step): string => {
    switch (st.k) {
      case 'open': return `open ${st.method} ${st.path.length > 40 ? `${st.path.slice(0, 20)}…(${st.path.length})` : JSON.stringify(st.path)}${st.eos ? ' eos' : ''}`;
      case 'body': return `body#${st.slot} ${st.len}${st.eos ? ' eos' : ''}`;
      case 'trailers': return `trailers#${st.slot}${st.bad ? '(bad)' : ''}${st.rst ? `+rst(${st.code}) in one write` : ''}`;
      case 'rst': return `rst#${st.slot}(${st.code})`;
      case 'await': return `await#${st.slot} ${st.what}`;
      case 'wu': return `wu#${st.slot} +${st.inc}`;
      case 'settings': return `settings iws=${st.iws}`;
      case 'ping': return `ping×${st.n}`;
      case 'goaway': return `goaway(${st.code}, ${st.last})`;
      case 'sleep': return `sleep ${st.ms}`;
      case 'prio': return `prio#${st.slot}→#${st.dep}`;
      case 'emptyData': return `emptyData#${st.slot}×${st.n}`;
      case 'unknown': return `unknown#${st.slot}`;
      case 'garbage': return `garbage ${st.bytes.length} B`;
      case 'storm': return `${st.n}×${st.post ? 'POST' : 'GET'}${st.rst ? '+RST' : ''} in one write`;
      case 'continuation': return `HEADERS+${st.pieces} CONTINUATION ${st.end}`;
      case 'violation': return `violation "${VIOLATIONS[st.which]}"`;
      case 'trickle': return `trickle ${st.ms} ms`;
      default: return st.k;
    }
  };
  return `${opts} | ${s.stories.map((x) => `${x.name}[${x.steps.map(step).join(', ')}]`).join(' ; ')}`;
}

// ---------------------------------------------------------------- the raw client

interface StreamSeen {
  headers: boolean;
  data: number;
  ended: boolean;
  reset: boolean;
}

/** A frame's bytes as they are, valid or not. */
function rawFrame(type: number, flags: number, streamId: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const b = Buffer.alloc(9 + payload.length);
  b.writeUIntBE(payload.length, 0, 3);
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(streamId >>> 0, 5);
  b.set(payload, 9);
  return b;
}

const HTTP1 = [
  'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello',
  `GET /${'a'.repeat(20000)}`, // never ends its head
  'GET /tiny.txt HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n', // no HTTP2-Settings
  'PRI * HTTP/2.0\r\n\r\nSM\r\n\r', // one octet short of the preface, then silence
];
const UPGRADE = 'GET /16k.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n';

/**
 * Plays one script on a raw socket. Resolves when the socket closed (at the latest at the
 * script's lifetime, when it is destroyed). `count` sees each step kind as it runs.
 */
export function playScript(port: number, script: Script, count: (kind: string) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const f = frameFactory();
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let closed = false;
    const streams = new Map<number, StreamSeen>();
    const slots: number[] = [];
    let nextId = script.setup === 'upgrade' ? 3 : 1;
    let buf: Buffer = Buffer.alloc(0);
    let httpHead = script.setup === 'upgrade';
    let wakers: Array<() => void> = [];
    const wake = () => { const w = wakers; wakers = []; for (const fn of w) fn(); };
    const life = setTimeout(() => socket.destroy(), script.lifetimeMs);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      clearTimeout(life);
      wake();
      resolve();
    });

    const write = (parts: Uint8Array[]): void => {
      if (closed || socket.destroyed || socket.writableEnded) return;
      const all = Buffer.concat(parts);
      if (script.cut > 0 && all.length > script.cut) {
        for (let i = 0; i < all.length; i += script.cut) socket.write(all.subarray(i, i + script.cut));
      } else socket.write(all);
    };
    const seen = (id: number): StreamSeen => {
      let s = streams.get(id);
      if (!s) {
        s = { headers: false, data: 0, ended: false, reset: false };
        streams.set(id, s);
      }
      return s;
    };

    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (httpHead) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        buf = buf.subarray(end + 4);
        httpHead = false;
      }
      const credit = new Map<number, number>();
      const out: Uint8Array[] = [];
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        const type = buf[3]!;
        const flags = buf[4]!;
        const id = buf.readUInt32BE(5) & 0x7fffffff;
        switch (type) {
          case FrameType.DATA: {
            const s = seen(id);
            s.data += len;
            if (flags & 0x1) s.ended = true;
            if (len > 0) {
              credit.set(0, (credit.get(0) ?? 0) + len);
              if (!s.ended) credit.set(id, (credit.get(id) ?? 0) + len);
            }
            break;
          }
          case FrameType.HEADERS: {
            const s = seen(id);
            s.headers = true;
            if (flags & 0x1) s.ended = true;
            break;
          }
          case FrameType.RST_STREAM:
            seen(id).reset = true;
            break;
          case FrameType.SETTINGS:
            if (!(flags & 0x1) && script.ackSettings) out.push(f.settings().ack().encode());
            break;
          case FrameType.PING:
            if (!(flags & 0x1)) out.push(f.ping(buf.subarray(9, 17)).ack().encode());
            break;
          default:
            break;
        }
        buf = buf.subarray(9 + len);
      }
      if (script.credit !== 'none') {
        for (const [id, n] of credit) if (id === 0 || script.credit === 'auto') out.push(f.windowUpdate(id, n).encode());
      }
      if (out.length > 0) write(out);
      wake();
    });

    const waitFor = (cond: () => boolean, ms: number): Promise<void> => new Promise((r) => {
      if (closed || cond()) return r();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        r();
      }
      const check = () => {
        if (closed || cond()) done();
        else wakers.push(check);
      };
      wakers.push(check);
    });
    const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
    const slotId = (slot: number): number | undefined => {
      if (slot < 0) return 0;
      if (slots.length === 0) return undefined;
      return slots[slot % slots.length];
    };

    const base = (method: string, path: string): HeaderInput[] => [[':method', method], [':scheme', 'http'], [':authority', `127.0.0.1:${port}`], [':path', path]];
    const allocate = (): number => {
      const id = nextId;
      nextId += 2;
      slots.push(id);
      seen(id);
      return id;
    };
    const lastSlot = (): number => (slots.length === 0 ? allocate() : slots[slots.length - 1]!);
    const request = (st: Extract<Step, { k: 'open' }>): Uint8Array => {
      const fields: HeaderInput[] = base(st.method, st.path);
      switch (st.extra) {
        case 1: fields.push(['content-type', 'application/octet-stream']); break;
        case 2: fields.push(['content-length', '7']); break; // lies for most bodies
        case 3: fields.push(['te', 'trailers'], ['user-agent', 'chaos']); break;
        case 4: fields.push(['priority', 'u=0, i']); break;
        case 5: fields.push(['cookie', 'a=1'], ['cookie', 'b=2']); break;
        default: break;
      }
      const id = allocate();
      const h = f.headers(id).with(fields);
      if (st.eos) h.eos();
      if (st.prio) h.priority(slots.length > 1 ? slots[0]! : 0, 1 + (id % 256), id % 3 === 0);
      return h.encode(16384);
    };

    const dataFrames = (id: number, len: number, eos: boolean): Uint8Array[] => {
      const out: Uint8Array[] = [];
      const chunk = Buffer.alloc(Math.min(len, 16384), 0x61 + (id % 26));
      let left = len;
      do {
        const n = Math.min(left, 16384);
        left -= n;
        const d = f.data(id, chunk.subarray(0, n));
        if (eos && left === 0) d.eos();
        out.push(d.encode());
      } while (left > 0);
      return out;
    };

    const run = async (): Promise<void> => {
      await new Promise<void>((r) => socket.once('connect', () => r()).once('close', () => r()));
      if (closed) return;
      count(`setup:${script.setup}`);
      switch (script.setup) {
        case 'invalidPreface':
          write([Buffer.from('INVALID CONNECTION PREFACE\r\n\r\n')]);
          return finish();
        case 'garbage':
          write([Buffer.from(script.garbage)]);
          return finish();
        case 'partialPreface':
          write([f.preface().subarray(0, 1 + (script.garbage.length % 23))]);
          return finish();
        case 'http1':
          write([Buffer.from(HTTP1[script.http1 % HTTP1.length]!, 'latin1')]);
          return finish();
        case 'upgrade':
          write([Buffer.from(UPGRADE, 'latin1')]);
          break;
        case 'h2':
          break;
      }
      const settings = f.settings();
      if (script.iws !== 65535) settings.initialWindowSize(script.iws);
      write([f.preface(), settings.encode()]);
      if (script.paused) socket.pause();
      for (const s of script.stories) {
        count(`story:${s.name}`);
        for (const st of s.steps) {
          if (closed) return;
          count(st.k);
          await step(st);
        }
      }
      return finish();
    };

    const step = async (st: Step): Promise<void> => {
      switch (st.k) {
        case 'open': return write([request(st)]);
        case 'body': {
          const id = slotId(st.slot);
          if (id !== undefined) write(dataFrames(id, st.len, st.eos));
          return;
        }
        case 'trailers': {
          const id = slotId(st.slot);
          if (id === undefined) return;
          const fields: HeaderInput[] = st.bad ? [[':status', '200'], ['x-chaos', 'bad']] : [['x-checksum', 'abc'], ['x-chaos', String(id)]];
          const parts = [f.headers(id).trailers(fields).encode(16384)];
          if (st.rst) parts.push(f.reset(id).code(st.code).encode());
          return write(parts); // one write: the server sees both in one chunk
        }
        case 'rst': {
          const id = slotId(st.slot);
          if (id !== undefined && id !== 0) write([f.reset(id).code(st.code).encode()]);
          return;
        }
        case 'await': {
          const id = slotId(st.slot);
          if (id === undefined || id === 0) return;
          const s = seen(id);
          const cond = st.what === 'headers' ? () => s.headers || s.ended || s.reset
            : st.what === 'data' ? () => s.data > 0 || s.ended || s.reset : () => s.ended || s.reset;
          return waitFor(cond, st.ms);
        }
        case 'sleep': return delay(st.ms);
        case 'wu': {
          const id = slotId(st.slot);
          if (id !== undefined) write([f.windowUpdate(id, st.inc).encode()]);
          return;
        }
        case 'settings': return write([f.settings().set(SettingId.INITIAL_WINDOW_SIZE, st.iws).encode()]);
        case 'ping': {
          const parts: Uint8Array[] = [];
          for (let i = 0; i < st.n; i++) parts.push(f.ping(Buffer.from([0, 0, 0, 0, 0, 0, i >> 8, i & 0xff])).encode());
          return write(parts);
        }
        case 'prio': {
          const id = slotId(st.slot);
          const dep = slotId(st.dep) ?? 0;
          if (id !== undefined && id !== 0) write([f.priority(id, dep, st.weight, st.excl).encode()]);
          return;
        }
        case 'goaway': {
          const last = st.last === 'zero' ? 0 : st.last === 'max' ? 0x7fffffff : slots.length === 0 ? 0 : slots[slots.length - 1]!;
          return write([f.goaway(last).code(st.code).encode()]);
        }
        case 'emptyData': {
          const id = slotId(st.slot);
          if (id === undefined) return;
          const parts: Uint8Array[] = [];
          for (let i = 0; i < st.n; i++) parts.push(f.data(id, '').encode());
          return write(parts);
        }
        case 'unknown': {
          const id = slotId(st.slot) ?? 0;
          return write([f.unknown(0xfa, id, 'chaos', 0xff).encode()]);
        }
        case 'garbage': return write([Buffer.from(st.bytes)]);
        case 'pause': socket.pause(); return;
        case 'resume': socket.resume(); return;
        case 'halfClose': if (!closed) socket.end(); return;
        case 'destroy': socket.destroy(); return;
        case 'storm': {
          const parts: Uint8Array[] = [];
          for (let i = 0; i < st.n; i++) {
            const id = allocate();
            parts.push(f.headers(id).with(base(st.post ? 'POST' : 'GET', st.post ? '/echo' : '/16k.bin')).eos().encode(16384));
            if (st.rst) parts.push(f.reset(id).cancel().encode());
          }
          return write(parts);
        }
        case 'continuation': {
          const id = allocate();
          const block = f.encoder.encode([...base('GET', '/200k.bin'), ['x-filler', 'z'.repeat(2000)], ['user-agent', 'chaos']]);
          const size = Math.max(1, Math.ceil(block.length / (st.pieces + 1)));
          const parts: Uint8Array[] = [rawFrame(FrameType.HEADERS, 0x1, id, block.subarray(0, size))];
          for (let off = size; off < block.length; off += size) {
            const last = off + size >= block.length;
            if (last && st.end === 'never') break;
            if (st.end === 'interleave' && last) parts.push(f.ping().encode());
            parts.push(rawFrame(FrameType.CONTINUATION, last ? 0x4 : 0, st.end === 'wrongStream' && last ? id + 2 : id, block.subarray(off, off + size)));
          }
          return write(parts);
        }
        case 'violation': return write(violation(st.which));
        case 'trickle': {
          const end = Date.now() + st.ms;
          while (!closed && Date.now() < end) {
            socket.resume();
            await delay(5);
            socket.pause();
            await delay(50);
          }
          return;
        }
      }
    };

    const violation = (which: number): Uint8Array[] => {
      const id = lastSlot();
      switch (which) {
        case 0: return [f.data(nextId + 100, 'idle').encode()];
        case 1: return [f.headers(0).with(base('GET', '/')).eos().encode()];
        case 2: {
          allocate();
          return [f.headers(1).with(base('GET', '/tiny.txt')).eos().encode()];
        }
        case 3: return [f.headers(id).with([['x-a', '1']]).encode(), f.headers(id).with([['x-b', '2']]).encode()];
        case 4: return [f.data(id, 'end').eos().encode(), f.data(id, 'more').encode()];
        case 5: return [rawFrame(FrameType.DATA, 0x8, id, Buffer.from([200, 1, 2, 3]))];
        case 6: return [f.priority(id, id).encode()];
        case 7: return [f.settings().enablePush(false).set(SettingId.ENABLE_PUSH, 2).encode()];
        case 8: return [f.settings().maxFrameSize(1).encode()];
        case 9: return [f.windowUpdate(0, 0).encode()];
        case 10: return [f.windowUpdate(0, 0x7fffffff).encode(), f.windowUpdate(0, 0x7fffffff).encode()];
        case 11: return [f.pushPromise(id, 2).request('GET', '/x').encode()];
        case 12: return Array.from({ length: 50 }, () => f.settings().headerTableSize(4096).encode());
        case 13: return [f.headers(allocate()).block(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x80, 0x00])).eos().encode()];
        case 14: return [f.headers(allocate()).block(Buffer.from([0x3f, 0xe1, 0xff, 0x03, 0x82])).eos().encode()];
        case 15: return [f.reset(nextId + 200).cancel().encode()];
        case 16: return [rawFrame(FrameType.PING, 0, 0, Buffer.from([1, 2, 3, 4]))];
        case 17: return [f.settings().ack().encode()];
        case 18: return [f.goaway(id).encode(), f.headers(allocate()).with(base('GET', '/tiny.txt')).eos().encode()];
        case 19: return [f.headers(allocate()).with([...base('GET', '/tiny.txt'), ['X-Upper', 'a'], ['connection', 'keep-alive']]).eos().encode()];
        case 20: return [f.headers(allocate()).with([[':method', 'GET'], ['x-early', '1'], [':scheme', 'http'], [':path', '/'], [':authority', 'x']]).eos().encode()];
        case 21: {
          const post = allocate();
          return [f.headers(post).with([...base('POST', '/echo'), ['content-length', '10']]).encode(), f.data(post, 'abc').eos().encode()];
        }
        case 22: return [rawFrame(FrameType.DATA, 0, id, Buffer.alloc(20000, 0x62))];
        case 23: {
          const g = allocate();
          return [f.headers(g).with(base('GET', '/16k.bin')).eos().encode(), f.data(g, 'body').eos().encode()];
        }
        case 24: return [f.windowUpdate(id, 0).encode()];
        default: return [f.priorityUpdate(nextId + 50, 'u=9, i=?5, ???').encode()];
      }
    };

    const finish = async (): Promise<void> => {
      if (closed) return;
      count(`finish:${script.finish}`);
      switch (script.finish) {
        case 'destroy': socket.destroy(); return;
        case 'end': socket.resume(); socket.end(); return;
        case 'goaway':
          write([f.goaway(slots.length === 0 ? 0 : slots[slots.length - 1]!).encode()]);
          socket.resume();
          socket.end();
          return;
        case 'linger': return; // the lifetime timer destroys it
      }
    };

    run().catch(() => socket.destroy());
  });
}
