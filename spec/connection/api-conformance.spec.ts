// The API's contract with the peer, as a property: whatever an application calls on one engine,
// in whatever order, the bytes it produces are never answered by a second engine with a
// connection error. Calls the engine refuses (UsageError) are part of the script — they must
// refuse without sending anything wrong. Stream errors (RST_STREAM) are allowed: races such as a
// reset crossing DATA make them legitimate. Only an engine's own explicit closeConnection may end
// the connection.
import fc from 'fast-check';
import { ErrorCode, MAX_INT31, SettingId } from '../../lib/constants.js';
import { H2Connection, type H2ConnectionOptions } from '../../lib/connection/connection.js';
import { ConnectionError, UsageError } from '../../lib/errors.js';
import type { H2Event } from '../../lib/events.js';
import type { Setting } from '../../lib/frame/types.js';
import type { HeaderInput } from '../../lib/hpack/types.js';

const RUNS = Number(process.env.H2SCHED_API_RUNS ?? 500);

type Side = 'c' | 's';
type Method = 'GET' | 'POST' | 'HEAD' | 'CONNECT' | 'XCONNECT';
type Op =
  | { k: 'request'; method: Method; cl: number | undefined; eos: boolean; prio: boolean; dep: number; w: number; excl: boolean; big: boolean; pad: number | undefined }
  | { k: 'respond'; pick: number; status: number; cl: number | undefined; eos: boolean; big: boolean; pad: number | undefined }
  | { k: 'trailers'; side: Side; pick: number; eos: boolean }
  | { k: 'data'; side: Side; pick: number; len: number; eos: boolean; pad: number | undefined }
  | { k: 'end'; side: Side; pick: number }
  | { k: 'reset'; side: Side; pick: number; code: number }
  | { k: 'push'; pick: number; method: 'GET' | 'HEAD' | 'POST'; authority: boolean; cl: number | undefined }
  | { k: 'window'; side: Side; pick: number; inc: number }
  | { k: 'ack'; side: Side; pick: number; all: boolean; n: number }
  | { k: 'ping'; side: Side }
  | { k: 'settings'; side: Side; list: Setting[] }
  | { k: 'goaway'; side: Side; code: number; pick: number | undefined; debug: number }
  | { k: 'prioritize'; pick: number; dep: number; w: number; excl: boolean }
  | { k: 'altsvc'; pick: number | undefined; len: number }
  | { k: 'pump'; chunk: number };

const side = fc.constantFrom<Side>('c', 's');
const pick = fc.nat(40);
const code = fc.constantFrom<number>(ErrorCode.NO_ERROR, ErrorCode.CANCEL, ErrorCode.PROTOCOL_ERROR, ErrorCode.INTERNAL_ERROR, ErrorCode.REFUSED_STREAM, 0x1234);
const window = fc.oneof(fc.integer({ min: 0, max: 70000 }), fc.constantFrom(1 << 20, MAX_INT31 - 65535, MAX_INT31 - 1, MAX_INT31));
const setting: fc.Arbitrary<Setting> = fc.oneof(
  fc.tuple(fc.constant<number>(SettingId.HEADER_TABLE_SIZE), fc.constantFrom(0, 64, 4096, 8192)),
  fc.tuple(fc.constant<number>(SettingId.ENABLE_PUSH), fc.integer({ min: 0, max: 1 })),
  fc.tuple(fc.constant<number>(SettingId.MAX_CONCURRENT_STREAMS), fc.constantFrom(0, 1, 2, 5, 100)),
  fc.tuple(fc.constant<number>(SettingId.INITIAL_WINDOW_SIZE), window),
  fc.tuple(fc.constant<number>(SettingId.MAX_FRAME_SIZE), fc.constantFrom(16384, 20000, 16777215)),
  fc.tuple(fc.constant<number>(SettingId.MAX_HEADER_LIST_SIZE), fc.constantFrom(200, 4096, 65536)),
  fc.tuple(fc.constant<number>(SettingId.ENABLE_CONNECT_PROTOCOL), fc.integer({ min: 0, max: 1 })),
  fc.tuple(fc.constant<number>(SettingId.NO_RFC7540_PRIORITIES), fc.integer({ min: 0, max: 1 })),
);
/** A field block larger than one frame (HEADERS + CONTINUATION), now and then. */
const big = fc.integer({ min: 0, max: 9 }).map((n) => n === 0);
const headerPad = fc.option(fc.nat(255), { nil: undefined, freq: 4 });
const cl = fc.option(fc.constantFrom(0, 3, 10, 20000), { nil: undefined, freq: 4 });

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ k: fc.constant('request' as const), method: fc.constantFrom<Method>('GET', 'GET', 'POST', 'POST', 'HEAD', 'CONNECT', 'XCONNECT'), cl, eos: fc.boolean(), prio: fc.boolean(), dep: fc.nat(12), w: fc.integer({ min: 1, max: 256 }), excl: fc.boolean(), big, pad: headerPad }) },
  { weight: 8, arbitrary: fc.record({ k: fc.constant('respond' as const), pick, status: fc.constantFrom(100, 103, 200, 200, 204, 304, 404, 407), cl, eos: fc.boolean(), big, pad: headerPad }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('trailers' as const), side, pick, eos: fc.boolean() }) },
  { weight: 10, arbitrary: fc.record({ k: fc.constant('data' as const), side, pick, len: fc.oneof(fc.nat(40), fc.integer({ min: 0, max: 40000 })), eos: fc.boolean(), pad: fc.option(fc.nat(255), { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('end' as const), side, pick }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('reset' as const), side, pick, code }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('push' as const), pick, method: fc.constantFrom<'GET' | 'HEAD' | 'POST'>('GET', 'GET', 'HEAD', 'POST'), authority: fc.boolean(), cl: fc.option(fc.constantFrom(0, 5), { nil: undefined }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('window' as const), side, pick: fc.nat(12), inc: window }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('ack' as const), side, pick, all: fc.boolean(), n: fc.nat(70000) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('ping' as const), side }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('settings' as const), side, list: fc.array(setting, { maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('goaway' as const), side, code: fc.oneof({ weight: 4, arbitrary: fc.constant<number>(ErrorCode.NO_ERROR) }, { weight: 1, arbitrary: code }), pick: fc.option(pick, { nil: undefined }), debug: fc.constantFrom(0, 10, 20000) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('prioritize' as const), pick, dep: fc.nat(12), w: fc.integer({ min: 1, max: 256 }), excl: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('altsvc' as const), pick: fc.option(pick, { nil: undefined }), len: fc.constantFrom(10, 20000) }) },
  { weight: 14, arbitrary: fc.record({ k: fc.constant('pump' as const), chunk: fc.constantFrom(1, 7, 100, 5000, 1 << 30) }) },
);

const localSettings = fc.record({
  maxConcurrentStreams: fc.option(fc.constantFrom(0, 1, 3, 100), { nil: undefined }),
  initialWindowSize: fc.option(window, { nil: undefined }),
  maxFrameSize: fc.option(fc.constantFrom(16384, 32768), { nil: undefined }),
  headerTableSize: fc.option(fc.constantFrom(0, 4096), { nil: undefined }),
  enableConnectProtocol: fc.option(fc.boolean(), { nil: undefined }),
  noRfc7540Priorities: fc.option(fc.boolean(), { nil: undefined }),
}, { requiredKeys: [] });
const script = fc.record({
  client: fc.record({ push: fc.boolean(), settings: localSettings }),
  server: localSettings,
  // each call, then maybe the bytes moved at once (otherwise they pile up and cross later frames)
  ops: fc.array(fc.tuple(op, fc.option(fc.constantFrom(1, 9, 1 << 30), { nil: undefined, freq: 2 })), { minLength: 1, maxLength: 80, size: 'max' }),
});

/** Two engines wired back to back, driven by a script of API calls. */
class Run {
  readonly c: H2Connection;
  readonly s: H2Connection;
  /** Every stream id either engine has seen, in order of appearance. */
  readonly ids: number[] = [];
  /** Flow-controlled octets each side received and has not acknowledged yet, per stream. */
  readonly unacked = { c: new Map<number, number>(), s: new Map<number, number>() };
  /** API calls made and refused, to show the property is not vacuous. */
  calls = 0;
  refused = 0;
  frames = 0;

  constructor(clientOptions: H2ConnectionOptions, serverOptions: H2ConnectionOptions) {
    this.c = new H2Connection({ ...clientOptions, clientSide: true });
    this.s = new H2Connection({ ...serverOptions, clientSide: false });
    this.c.initiateConnection();
    this.s.initiateConnection();
  }

  engine(x: Side): H2Connection {
    return x === 'c' ? this.c : this.s;
  }

  /**
   * A stream id for a call on `at`: even picks name a stream live in that engine (when it has
   * one), odd picks any id either engine has seen — closed, reset, or not yet known to `at`.
   */
  id(n: number, at?: Side): number {
    if (at !== undefined && n % 2 === 0) {
      const live = [...this.engine(at).streams.live.keys()];
      if (live.length > 0) return live[(n >>> 1) % live.length]!;
    }
    return this.ids.length === 0 ? 1 : this.ids[n % this.ids.length]!;
  }

  seen(id: number): void {
    if (!this.ids.includes(id)) this.ids.push(id);
  }

  /** One API call; UsageError is the engine refusing it, anything else fails the property. */
  call(f: () => void): void {
    this.calls++;
    try {
      f();
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      this.refused++;
    }
  }

  /** Moves bytes both ways in `chunk`-sized pieces until both engines are quiet. */
  pump(chunk: number): void {
    for (let round = 0; round < 1000; round++) {
      const a = this.c.dataToSend();
      const b = this.s.dataToSend();
      if (a.length === 0 && b.length === 0) return;
      this.deliver(a, 's', chunk);
      this.deliver(b, 'c', chunk);
    }
    throw new Error('the engines never went quiet');
  }

  private deliver(bytes: Uint8Array, to: Side, chunk: number): void {
    const conn = this.engine(to);
    for (let o = 0; o < bytes.length; o += chunk) {
      let events: H2Event[];
      try {
        events = conn.receiveData(bytes.subarray(o, o + chunk));
      } catch (e) {
        if (e instanceof ConnectionError) {
          throw new Error(`the ${to === 'c' ? 'client' : 'server'} answered the other engine's bytes with a connection error ${e.errorCode}: ${e.message}`);
        }
        throw e;
      }
      for (const ev of events) this.observe(to, ev);
    }
  }

  private observe(at: Side, ev: H2Event): void {
    this.frames++;
    switch (ev.type) {
      case 'RequestReceived':
      case 'ResponseReceived':
        this.seen(ev.streamId);
        break;
      case 'PushedStreamReceived':
        this.seen(ev.pushedStreamId);
        break;
      case 'DataReceived': {
        const m = this.unacked[at];
        m.set(ev.streamId, (m.get(ev.streamId) ?? 0) + ev.flowControlledLength);
        break;
      }
      default:
        break;
    }
  }

  apply(o: Op): void {
    const c = this.c;
    const s = this.s;
    switch (o.k) {
      case 'request': {
        const headers = request(o.method, o.cl);
        if (o.big) headers.push(['cookie', `session=${'c'.repeat(20000)}`]);
        this.call(() => {
          const id = c.getNextAvailableStreamId();
          c.sendHeaders(id, headers, { endStream: o.eos, padLength: o.pad, priority: o.prio ? { dependsOn: o.dep, weight: o.w, exclusive: o.excl } : undefined });
          this.seen(id);
        });
        return;
      }
      case 'respond': {
        const headers: HeaderInput[] = [[':status', String(o.status)], ['server', 'h2sched']];
        if (o.cl !== undefined) headers.push(['content-length', String(o.cl)]);
        if (o.big) headers.push(['link', `</style.css>; rel=preload; x=${'l'.repeat(20000)}`]);
        this.call(() => s.sendHeaders(this.id(o.pick, 's'), headers, { endStream: o.eos, padLength: o.pad }));
        return;
      }
      case 'trailers':
        this.call(() => this.engine(o.side).sendHeaders(this.id(o.pick, o.side), [['x-checksum', 'abc']], { endStream: o.eos }));
        return;
      case 'data': {
        const conn = this.engine(o.side);
        const id = this.id(o.pick, o.side);
        this.call(() => {
          const room = Math.min(conn.localFlowControlWindow(id), conn.maxOutboundFrameSize) - (o.pad === undefined ? 0 : o.pad + 1);
          conn.sendData(id, new Uint8Array(Math.max(0, Math.min(o.len, room))), { endStream: o.eos, padLength: o.pad });
        });
        return;
      }
      case 'end':
        this.call(() => this.engine(o.side).endStream(this.id(o.pick, o.side)));
        return;
      case 'reset':
        this.call(() => this.engine(o.side).resetStream(this.id(o.pick, o.side), o.code));
        return;
      case 'push': {
        const headers: HeaderInput[] = [[':method', o.method], [':scheme', 'https'], [':path', `/pushed/${this.ids.length}.js`]];
        if (o.authority) headers.push([':authority', 'example.com']);
        if (o.cl !== undefined) headers.push(['content-length', String(o.cl)]);
        this.call(() => {
          const id = s.getNextAvailableStreamId();
          s.pushStream(this.id(o.pick, 's'), id, headers);
          this.seen(id);
        });
        return;
      }
      case 'window':
        this.call(() => this.engine(o.side).incrementFlowControlWindow(o.inc, o.pick === 0 ? undefined : this.id(o.pick, o.side)));
        return;
      case 'ack': {
        const m = this.unacked[o.side];
        const id = this.id(o.pick);
        const owed = m.get(id) ?? 0;
        const n = o.all ? owed : Math.min(owed, o.n);
        if (n === 0) return;
        m.set(id, owed - n);
        this.call(() => this.engine(o.side).acknowledgeReceivedData(n, id));
        return;
      }
      case 'ping':
        this.call(() => this.engine(o.side).ping(new Uint8Array(8).fill(this.calls & 0xff)));
        return;
      case 'settings':
        this.call(() => this.engine(o.side).updateSettings(o.list));
        return;
      case 'goaway':
        this.call(() => this.engine(o.side).closeConnection(o.code, {
          lastStreamId: o.pick === undefined ? undefined : this.id(o.pick), debugData: new Uint8Array(o.debug).fill(0x2e),
        }));
        return;
      case 'prioritize':
        this.call(() => c.prioritize(this.id(o.pick), { dependsOn: o.dep, weight: o.w, exclusive: o.excl }));
        return;
      case 'altsvc': {
        const value = `h2=":8443"; ma=${'1'.repeat(o.len)}`;
        this.call(() => s.advertiseAlternativeService(value, o.pick === undefined ? { origin: 'https://example.com' } : { streamId: this.id(o.pick, 's') }));
        return;
      }
      case 'pump':
        this.pump(o.chunk);
        return;
    }
  }
}

function request(method: Method, cl: number | undefined): HeaderInput[] {
  const h: HeaderInput[] = method === 'CONNECT'
    ? [[':method', 'CONNECT'], [':authority', 'backend.example:443']]
    : method === 'XCONNECT'
      ? [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/chat']]
      : [[':method', method], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/r'], ['accept', '*/*']];
  if (cl !== undefined) h.push(['content-length', String(cl)]);
  return h;
}

function options(l: Record<string, unknown>): H2ConnectionOptions['localSettings'] {
  return Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined));
}

describe('API conformance between two engines', () => {
  it(`no sequence of API calls on one engine produces bytes the other engine answers with a connection error (RFC 9113 §5.4.1; ${RUNS} random client⇄server scripts)`, () => {
    let calls = 0;
    let refused = 0;
    let events = 0;
    fc.assert(fc.property(script, (sc) => {
      const run = new Run(
        { localSettings: { ...options(sc.client.settings), enablePush: sc.client.push } },
        { localSettings: options(sc.server) },
      );
      run.pump(1 << 30);
      for (const [o, chunk] of sc.ops) {
        run.apply(o);
        if (chunk !== undefined) run.pump(chunk);
      }
      run.pump(1 << 30);
      calls += run.calls;
      refused += run.refused;
      events += run.frames;
    }), { numRuns: RUNS });
    // not vacuous: most calls went through and produced traffic the other side processed
    expect(calls).toBeGreaterThan(RUNS * 10);
    expect(refused).toBeLessThan(calls * 0.8);
    expect(events).toBeGreaterThan(RUNS * 5);
  }, 120000);
});

describe('API conformance: regressions the property found', () => {
  it('a stream above the last id of our GOAWAY is closed on our side too, so the peer\'s SETTINGS_INITIAL_WINDOW_SIZE raise cannot overflow its window (RFC 9113 §6.8, §6.9.2)', () => {
    const ops: Array<[Op, number | undefined]> = [
      [{ k: 'request', method: 'GET', cl: undefined, eos: false, prio: false, dep: 0, w: 1, excl: false, big: false, pad: undefined }, undefined],
      [{ k: 'request', method: 'GET', cl: undefined, eos: false, prio: false, dep: 0, w: 1, excl: false, big: false, pad: undefined }, 1],
      [{ k: 'window', side: 'c', pick: 1, inc: 2 }, undefined],
      [{ k: 'goaway', side: 's', code: ErrorCode.NO_ERROR, pick: 0, debug: 0 }, 1],
      [{ k: 'settings', side: 'c', list: [[SettingId.INITIAL_WINDOW_SIZE, MAX_INT31 - 1]] }, 1],
    ];
    const run = new Run({}, {});
    run.pump(1 << 30);
    for (const [o, chunk] of ops) {
      run.apply(o);
      if (chunk !== undefined) run.pump(chunk);
    }
    expect(run.refused).toBe(0);
    expect(run.s.streams.get(3)).toBeUndefined();
  });
});
