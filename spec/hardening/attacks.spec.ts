// Every known HTTP/2 attack, run against a server H2Connection (with a Sender and the priority
// tree where the attack aims at them) by a peer that does not read: each test checks the RFC's
// answer (GOAWAY ENHANCE_YOUR_CALM, or RST_STREAM for one stream), that memory stays bounded
// (octets queued for the peer, streams, tree nodes), and how many frames went back. A second
// group checks that legitimate busy clients never trip a budget. Time is a fake clock.
import { ErrorCode, FrameType } from '../../lib/constants.js';
import { H2Connection, type H2ConnectionOptions } from '../../lib/connection/connection.js';
import { DEFAULT_ABUSE_LIMITS } from '../../lib/connection/guard.js';
import type { Frame } from '../../lib/frame/types.js';
import { HpackEncoder } from '../../lib/hpack/encoder.js';
import { createScheduler } from '../../lib/priority/index.js';
import type { TreeScheduler } from '../../lib/priority/tree-scheduler.js';
import { Sender } from '../../lib/sender/sender.js';
import type { H2Event } from '../../lib/events.js';
import { ScriptedPeer } from '../helpers/peer.js';

interface Rig {
  conn: H2Connection;
  peer: ScriptedPeer;
  sender: Sender;
  tree: TreeScheduler['tree'];
  t: { now: number };
}

function rig(options: H2ConnectionOptions = {}, settings?: (s: ReturnType<ScriptedPeer['frames']['settings']>) => void): Rig {
  const t = { now: 0 };
  const conn = new H2Connection({ clock: () => t.now, ...options, clientSide: false });
  const peer = new ScriptedPeer(conn);
  const scheduler = createScheduler('tree') as TreeScheduler;
  const sender = new Sender(conn, { scheduler });
  const s = peer.frames.settings();
  settings?.(s);
  peer.handshake(s);
  return { conn, peer, sender, tree: scheduler.tree, t };
}

/** n copies of a frame (or n frames from a builder) as one buffer: a flood in one read. */
function many(n: number, frame: (i: number) => Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < n; i++) parts.push(frame(i));
  return Buffer.concat(parts);
}

/** Feeds the flood, reads nothing, then decodes what piled up for the peer. */
function floodAndCollect(r: Rig, bytes: Uint8Array): { events: H2Event[]; queued: number; back: Frame[]; goaway: (Frame & { errorCode: number; debugData: Uint8Array }) | undefined } {
  const events = r.peer.send(bytes);
  const queued = r.conn.outboundBufferSize;
  const back = r.peer.received();
  const goaway = back.find((f) => f.type === FrameType.GOAWAY) as (Frame & { errorCode: number; debugData: Uint8Array }) | undefined;
  return { events, queued, back, goaway };
}

/** A HEADERS frame without END_HEADERS (CONTINUATION must follow). */
function openBlock(f: ScriptedPeer['frames'], id: number): Uint8Array {
  const b = Uint8Array.from(f.headers(id).request('GET', '/').encode());
  b[4] = b[4]! & ~0x4;
  return b;
}

/** Octets the sender holds for these streams. */
function held(sender: Sender, ids: number[]): number {
  return ids.reduce((n, id) => n + sender.queued(id), 0);
}

const count = (frames: Frame[], type: number) => frames.filter((f) => f.type === type).length;
const GET = (f: ScriptedPeer['frames'], id: number) => f.headers(id).request('GET', `/r${id}`).eos();

function respondForever(r: Rig, id: number, size = 1 << 20): void {
  r.conn.sendHeaders(id, [[':status', '200']]);
  r.sender.write(id, new Uint8Array(size));
}

/** Figures for the report printed after the attacks: what each attack got back and what it left queued. */
const figures: string[] = [];
function record(attack: string, limit: string, queued: number, back: Frame[]): void {
  const kinds = new Map<number, number>();
  for (const f of back) kinds.set(f.type, (kinds.get(f.type) ?? 0) + 1);
  const names: Record<number, string> = { 0: 'DATA', 1: 'HEADERS', 3: 'RST_STREAM', 4: 'SETTINGS', 6: 'PING', 7: 'GOAWAY', 8: 'WINDOW_UPDATE' };
  figures.push(`| ${attack} | ${limit} | ${queued} | ${[...kinds].map(([t, n]) => `${n} ${names[t] ?? t}`).join(', ')} |`);
}
afterAll(() => {
  console.log(`attack | default limit | octets queued for a peer that never reads | frames sent back\n|---|---|---:|---|\n${figures.join('\n')}`);
});

describe('attacks: each gets the RFC answer with bounded memory', () => {
  it('CVE-2019-9512 ping flood: PINGs without reading the ACKs → GOAWAY ENHANCE_YOUR_CALM after the budget', () => {
    const r = rig();
    const { queued, back, goaway } = floodAndCollect(r, many(5000, () => r.peer.frames.ping('12345678').encode()));
    expect(goaway?.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(count(back, FrameType.PING)).toBe(DEFAULT_ABUSE_LIMITS.pings && DEFAULT_ABUSE_LIMITS.pings.burst);
    expect(queued).toBeLessThan(1000 * 17 + 200); // 17 octets per ACK, then the GOAWAY
    expect(r.conn.receiveData(r.peer.frames.ping().encode())).toEqual([]); // closed: nothing more is processed
    record('9512 ping flood (5,000 PINGs)', 'pings 1000 burst, 100/s', queued, back);
  });

  it('CVE-2019-9512 without a rate budget: the cap on queued replies ends it (10,000 ACKs at most)', () => {
    const r = rig({ limits: { pings: false } });
    const { queued, back, goaway } = floodAndCollect(r, many(12_000, () => r.peer.frames.ping('abcdefgh').encode()));
    expect(goaway?.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(Buffer.from(goaway!.debugData).toString()).toMatch(/automatic replies queued and not read/);
    expect(count(back, FrameType.PING)).toBe(10_000);
    expect(queued).toBeLessThan(10_000 * 17 + 200);
    record('9512 ping flood, rate budget off (12,000)', 'maxQueuedReplies 10,000', queued, back);
  });

  it('CVE-2019-9515 settings flood: SETTINGS without reading the ACKs → GOAWAY after 100', () => {
    const r = rig();
    const { queued, back, goaway } = floodAndCollect(r, many(1000, () => r.peer.frames.settings().initialWindowSize(70000).encode()));
    expect(goaway?.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    // the handshake's SETTINGS took one token of the 100
    expect(back.filter((f) => f.type === FrameType.SETTINGS && (f as { ack: boolean }).ack).length).toBe(99);
    expect(queued).toBeLessThan(100 * 9 + 200);
    record('9515 settings flood (1,000)', 'settings 100 burst, 10/s', queued, back);
  });

  it('CVE-2019-9513 resource loop: PRIORITY frames reshuffling 100 busy streams → GOAWAY after 2000; the tree stays valid and bounded', () => {
    const r = rig();
    r.peer.send(many(99, (i) => GET(r.peer.frames, 2 * i + 1).encode()));
    for (let i = 0; i < 99; i++) respondForever(r, 2 * i + 1);
    r.sender.flush();
    r.peer.received();
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    const { events, back, goaway } = floodAndCollect(r, many(20_000, (i) => {
      const id = 2 * rnd(99) + 1;
      let dep = 2 * rnd(99) + 1;
      if (dep === id) dep = 0;
      return r.peer.frames.priority(id, dep, 1 + rnd(256), i % 3 === 0).encode();
    }));
    expect(goaway?.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(back.filter((f) => f.type !== FrameType.GOAWAY && f.type !== FrameType.DATA)).toEqual([]);
    r.sender.handle(events); // the 2000 reshuffles that were accepted reach the tree
    expect(events.filter((e) => e.type === 'PriorityUpdated')).toHaveLength(2000);
    expect(r.tree.validate()).toEqual([]);
    expect(r.tree.nodeCount).toBeLessThanOrEqual(99 + r.tree.maxIdle + r.tree.maxClosed);
    record(`9513 resource loop (20,000 PRIORITY; tree ${r.tree.nodeCount} nodes)`, 'prioritySignals 2000 burst, 200/s', r.conn.outboundBufferSize, back);
  });

  it('CVE-2016-6580 unbounded priority tree: PRIORITY for 100,000 idle streams (within the rate) keeps the tree at its idle cap', () => {
    const r = rig();
    for (let i = 0; i < 100_000; i += 100) {
      r.t.now += 1000; // 100 frames a second: under the priority-signal rate
      const events = r.peer.send(many(100, (k) => r.peer.frames.priority(2 * (i + k) + 1, 0, 16, false).encode()));
      r.sender.handle(events);
    }
    expect(r.peer.error).toBeUndefined();
    expect(r.tree.nodeCount).toBeLessThanOrEqual(r.tree.maxIdle);
    expect(r.conn.streams.live.size).toBe(0); // PRIORITY creates no stream state
    expect(r.tree.validate()).toEqual([]);
  });

  it('CVE-2019-9514 reset flood: malformed requests that each provoke RST_STREAM → GOAWAY after 1000 resets', () => {
    const r = rig();
    const { queued, back, goaway } = floodAndCollect(r, many(5000, (i) => r.peer.frames.headers(2 * i + 1).with([[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', '/'], ['Bad-Case', 'x']]).eos().encode()));
    expect(goaway?.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    const resets = back.filter((f) => f.type === FrameType.RST_STREAM) as Array<Frame & { errorCode: number }>;
    expect(resets).toHaveLength(1000);
    expect(resets.every((f) => f.errorCode === ErrorCode.PROTOCOL_ERROR)).toBe(true);
    expect(queued).toBeLessThan(1000 * 13 + 200);
    expect(r.conn.streams.closedCount).toBeLessThanOrEqual(r.conn.streams.maxClosed);
    record('9514 reset flood (5,000 malformed requests)', 'provokedResets 1000 burst, 33/s', queued, back);
  });

  it('MadeYouReset (2025): WINDOW_UPDATE overflows that each make us reset a stream count as provoked resets', () => {
    const r = rig();
    const bytes = many(3000, (i) => Buffer.concat([
      GET(r.peer.frames, 2 * i + 1).encode(),
      r.peer.frames.windowUpdate(2 * i + 1, 0x7fffffff).encode(), // overflows the stream window: RST FLOW_CONTROL_ERROR
    ]));
    const { back, goaway } = floodAndCollect(r, bytes);
    expect(goaway?.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(count(back, FrameType.RST_STREAM)).toBe(1000);
  });

  it('CVE-2023-44487 rapid reset: HEADERS then RST_STREAM, thousands of times → GOAWAY after 1000; the app saw at most 1001 requests', () => {
    const r = rig();
    const bytes = many(20_000, (i) => Buffer.concat([GET(r.peer.frames, 2 * i + 1).encode(), r.peer.frames.reset(2 * i + 1).cancel().encode()]));
    const { queued, back, goaway } = floodAndCollect(r, bytes);
    expect(goaway?.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(r.peer.events.filter((e) => e.type === 'RequestReceived').length).toBeLessThanOrEqual(1001);
    expect(r.conn.streams.live.size).toBeLessThanOrEqual(1);
    expect(queued).toBeLessThan(200);
    record('44487 rapid reset (20,000 HEADERS+RST)', 'peerResets 1000 burst, 33/s', queued, back);
  });

  it('CVE-2019-9518 empty frames flood: empty DATA without END_STREAM → GOAWAY after 1000', () => {
    const r = rig();
    r.peer.send(r.peer.frames.headers(1).request('POST', '/upload'));
    const { queued, back, goaway } = floodAndCollect(r, many(10_000, () => r.peer.frames.data(1, '').encode()));
    expect(goaway?.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(r.peer.events.filter((e) => e.type === 'DataReceived').length).toBeLessThanOrEqual(1000);
    record('9518 empty DATA flood (10,000)', 'emptyFrames 1000 burst, 100/s', queued, back);
  });

  it('CVE-2024-27316 CONTINUATION flood: endless CONTINUATION without END_HEADERS → GOAWAY at the frame cap, at most 128 KiB held', () => {
    const r = rig();
    const { goaway } = floodAndCollect(r, Buffer.concat([openBlock(r.peer.frames, 1), many(1000, () => r.peer.frames.continuation(1, 'x'.repeat(10_000), false).encode())]));
    expect(goaway?.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(Buffer.from(goaway!.debugData).toString()).toMatch(/header block over 131072 octets/); // at most 128 KiB was held
    record('27316 CONTINUATION flood (1,000 × 10 KB)', '128 KiB per block, 64 CONTINUATIONs', r.conn.outboundBufferSize, [goaway!]);
    // the same with empty CONTINUATIONs: the count cap (64) ends it
    const r2 = rig();
    const { goaway: g2 } = floodAndCollect(r2, Buffer.concat([openBlock(r2.peer.frames, 1), many(1000, () => r2.peer.frames.continuation(1, '', false).encode())]));
    expect(g2?.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(Buffer.from(g2!.debugData).toString()).toMatch(/more than 64 CONTINUATION frames/);
  });

  it('CVE-2016-6581 HPACK bomb: one 4 KB table entry referenced 10,000 times → the stream is refused while decoding, nothing materialized', () => {
    const r = rig();
    const enc = new HpackEncoder();
    // a literal with incremental indexing, then 10,000 one-octet references to it (index 62)
    const first = enc.encode([[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', '/'], ['bomb', 'b'.repeat(4000)]]);
    const refs = Buffer.alloc(10_000, 0x80 | 62);
    const block = Buffer.concat([first, refs]);
    const { back } = floodAndCollect(r, r.peer.frames.headers(1).block(block).eos().encode(1 << 24));
    const reset = back.find((f) => f.type === FrameType.RST_STREAM) as (Frame & { errorCode: number }) | undefined;
    expect(back.find((f) => f.type === FrameType.GOAWAY)).toBeUndefined();
    expect(reset?.streamId).toBe(1);
    expect(r.peer.events.filter((e) => e.type === 'RequestReceived')).toEqual([]);
    record('6581 HPACK bomb (4 KB × 10,000 = 40 MB decoded)', 'header list 64 KiB', r.conn.outboundBufferSize, back);
    // the connection goes on: the next request is served
    r.peer.send(GET(r.peer.frames, 3));
    expect(r.peer.events.at(-2)).toMatchObject({ type: 'RequestReceived', streamId: 3 });
  });

  it('CVE-2019-9516 0-length headers: a block of empty header values stops at the list-size limit (32 octets each), empty names are malformed', () => {
    const r = rig();
    const empties: Array<[string, string]> = Array.from({ length: 5000 }, (_, i) => [`e${i % 10}`, '']);
    const { back } = floodAndCollect(r, r.peer.frames.headers(1).request('GET', '/', empties).eos().encode(1 << 24));
    expect(back.find((f) => f.type === FrameType.RST_STREAM)?.streamId).toBe(1);
    expect(r.peer.events.filter((e) => e.type === 'RequestReceived')).toEqual([]);
    const { back: b2 } = floodAndCollect(r, r.peer.frames.headers(3).with([[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', '/'], ['', 'v']]).eos().encode());
    expect(b2.find((f) => f.type === FrameType.RST_STREAM || f.type === FrameType.GOAWAY)).toBeDefined();
    expect(r.peer.events.filter((e) => e.type === 'RequestReceived')).toEqual([]);
  });

  it('CVE-2019-9511 data dribble: 1-octet windows opened one at a time on 50 streams → GOAWAY after 1000 tiny increments; queues stay at the high-water marks', () => {
    const r = rig({}, (s) => s.initialWindowSize(1));
    r.peer.send(many(50, (i) => GET(r.peer.frames, 2 * i + 1).encode()));
    for (let i = 0; i < 50; i++) respondForever(r, 2 * i + 1, 10 << 20);
    r.sender.flush();
    let goaway: (Frame & { errorCode: number }) | undefined;
    let dataFrames = 0;
    for (let round = 0; round < 100 && !goaway; round++) {
      r.sender.handle(r.peer.send(many(50, (i) => r.peer.frames.windowUpdate(2 * i + 1, 1).encode()), r.peer.frames.windowUpdate(0, 50).encode()));
      r.sender.flush();
      const back = r.peer.received();
      dataFrames += count(back, FrameType.DATA);
      goaway = back.find((f) => f.type === FrameType.GOAWAY) as typeof goaway;
    }
    expect(goaway?.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(dataFrames).toBeLessThanOrEqual(1000 + 50); // one-octet frames: at most one per tiny increment, plus the initial windows
    expect(r.conn.outboundBufferSize).toBe(0); // everything that went out was read above; nothing piles up
    expect(held(r.sender, Array.from({ length: 50 }, (_, i) => 2 * i + 1))).toBeLessThanOrEqual(50 * (10 << 20));
    record(`9511 data dribble (50 streams, 1-octet windows; ${dataFrames} DATA frames in all)`, 'tinyWindowUpdates 1000 burst, 100/s', r.conn.outboundBufferSize, [goaway!]);
  });

  it('CVE-2019-9517 internal data buffering: large responses to a zero window are held back by the sender, not buffered for the wire', async () => {
    const r = rig({}, (s) => s.initialWindowSize(0));
    r.peer.send(many(100, (i) => GET(r.peer.frames, 2 * i + 1).encode()));
    const body = new Uint8Array(16 << 10); // 64 chunks of 16 KiB: 1 MiB per response
    const pipes: Array<Promise<void>> = [];
    for (let i = 0; i < 100; i++) {
      const id = 2 * i + 1;
      r.conn.sendHeaders(id, [[':status', '200']]);
      pipes.push(r.sender.pipe(id, (async function* () { for (let k = 0; k < 64; k++) yield body; })()).catch(() => undefined));
    }
    await new Promise((res) => setImmediate(res));
    r.sender.flush();
    // each stream holds at most one chunk above its high-water mark; nothing is queued for the wire but headers
    expect(held(r.sender, Array.from({ length: 100 }, (_, i) => 2 * i + 1))).toBeLessThanOrEqual(100 * (r.sender.highWaterMark + body.length));
    expect(r.conn.outboundBufferSize).toBeLessThan(100 * 64);
    expect(count(r.peer.received(), FrameType.DATA)).toBe(0);
  });
});

describe('attacks on a client: a server that promises without end', () => {
  function clientRig(options: H2ConnectionOptions = {}) {
    const t = { now: 0 };
    const conn = new H2Connection({ clock: () => t.now, ...options, clientSide: true });
    const peer = new ScriptedPeer(conn);
    peer.handshake();
    conn.sendHeaders(1, [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/']], { endStream: true });
    peer.received();
    return { conn, peer, t };
  }

  it('push flood: PUSH_PROMISE never answered → refused (REFUSED_STREAM) beyond maxReservedStreams 100, GOAWAY ENHANCE_YOUR_CALM after 200 refusals; at most 100 reserved streams held', () => {
    const r = clientRig();
    const f = r.peer.frames;
    const events = r.peer.send(many(5000, (i) => f.pushPromise(1, 2 + 2 * i).request('GET', `/p${i}.js`).encode()));
    const back = r.peer.received();
    const goaway = back.find((x) => x.type === FrameType.GOAWAY) as (Frame & { errorCode: number; lastStreamId: number }) | undefined;
    expect(goaway?.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(events.filter((e) => e.type === 'PushedStreamReceived')).toHaveLength(DEFAULT_ABUSE_LIMITS.maxReservedStreams as number);
    const resets = back.filter((x) => x.type === FrameType.RST_STREAM) as Array<Frame & { errorCode: number }>;
    expect(resets).toHaveLength(200);
    expect(resets.every((x) => x.errorCode === ErrorCode.REFUSED_STREAM)).toBe(true);
    expect(r.conn.streams.reservedRemote).toBe(100);
    expect(r.conn.streams.live.size).toBe(101); // stream 1 and the 100 promises
    expect(r.conn.streams.closedCount).toBeLessThanOrEqual(r.conn.streams.maxClosed);
    expect(r.conn.guard.tripped.refusedPushes).toBe(1);
    record('push flood (5,000 PUSH_PROMISE, client)', 'maxReservedStreams 100; refusedPushes 200 burst, 20/s', r.conn.outboundBufferSize, back);
  });

  it('a server pushing 250 resources for one page at once gets 100 accepted and the rest refused, without a GOAWAY; answered promises free their place', () => {
    const r = clientRig();
    const f = r.peer.frames;
    const events = r.peer.send(many(250, (i) => f.pushPromise(1, 2 + 2 * i).request('GET', `/p${i}.js`).encode()));
    expect(events.filter((e) => e.type === 'PushedStreamReceived')).toHaveLength(100);
    expect(count(r.peer.received(), FrameType.RST_STREAM)).toBe(150);
    for (let i = 0; i < 100; i++) r.peer.send(f.headers(2 + 2 * i).response(200), f.data(2 + 2 * i, 'x').eos());
    expect(r.conn.streams.reservedRemote).toBe(0);
    expect(r.peer.send(f.pushPromise(1, 1000).request('GET', '/late.js')).map((e) => e.type)).toEqual(['PushedStreamReceived']);
    expect(r.peer.error).toBeUndefined();
  });
});

describe('legitimate busy clients never trip a budget', () => {
  it('a long busy session: 10,000 requests with PRIORITY frames, cancels, pings, settings changes and window updates at browser-like rates', () => {
    const r = rig();
    for (let i = 0; i < 10_000; i++) {
      const id = 2 * i + 1;
      r.t.now += 20; // 50 requests a second for 200 s
      const frames: Uint8Array[] = [GET(r.peer.frames, id).encode()];
      if (i % 2 === 0) frames.push(r.peer.frames.priority(id, i > 0 ? id - 2 : 0, 32, i % 10 === 0).encode()); // reprioritize half
      if (i % 10 === 0) frames.push(r.peer.frames.ping().encode()); // 5 PINGs a second
      if (i % 25 === 0) frames.push(r.peer.frames.reset(id).cancel().encode()); // 2 cancels a second
      if (i % 500 === 0) frames.push(r.peer.frames.settings().initialWindowSize(65535 + i).encode()); // a settings change every 10 s
      if (i % 5 === 0) frames.push(r.peer.frames.windowUpdate(0, 100 + (i % 900)).encode()); // small connection credit now and then
      r.peer.send(Buffer.concat(frames));
      if (i % 25 !== 0) {
        r.conn.sendHeaders(id, [[':status', '204']], { endStream: true });
      }
      r.peer.received(); // the client reads
    }
    expect(r.peer.error).toBeUndefined();
    expect(Object.keys(r.conn.guard.tripped)).toEqual([]);
  });

  it('a burst at page load: 100 requests, 100 PRIORITY frames, 5 anchors, 100 cancels on navigation, all at once', () => {
    const r = rig();
    const frames: Uint8Array[] = [];
    for (const a of [3, 5, 7, 9, 11]) frames.push(r.peer.frames.priority(a, 0, 201, false).encode());
    for (let i = 0; i < 100; i++) {
      const id = 13 + 2 * i;
      frames.push(GET(r.peer.frames, id).encode(), r.peer.frames.priority(id, 3 + 2 * (i % 5), 16, false).encode());
    }
    for (let i = 0; i < 100; i++) frames.push(r.peer.frames.reset(13 + 2 * i).cancel().encode());
    r.peer.send(Buffer.concat(frames));
    expect(r.peer.error).toBeUndefined();
  });
});

describe('streams opened after our GOAWAY', () => {
  it('a peer that keeps opening streams above the last id after a graceful GOAWAY is ended with ENHANCE_YOUR_CALM (RFC 9113 §6.8 discards them; each still costs HPACK work)', () => {
    const r = rig();
    r.peer.send(GET(r.peer.frames, 1).encode());
    r.conn.closeConnection(ErrorCode.NO_ERROR);
    r.peer.received();
    const { back, goaway } = floodAndCollect(r, many(5000, (i) => GET(r.peer.frames, 3 + 2 * i).encode()));
    expect(goaway?.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(Buffer.from(goaway!.debugData).toString()).toMatch(/streams opened after our GOAWAY/);
    expect((goaway as unknown as { lastStreamId: number }).lastStreamId).toBe(1);
    record('streams opened after GOAWAY (5,000 HEADERS)', 'peerResets 1000 burst, 33/s', r.conn.outboundBufferSize, back);
  });

  it('the few streams a client opened before it saw our GOAWAY are discarded quietly', () => {
    const r = rig();
    r.peer.send(GET(r.peer.frames, 1).encode());
    r.conn.closeConnection(ErrorCode.NO_ERROR);
    r.peer.received();
    const { back } = floodAndCollect(r, many(50, (i) => GET(r.peer.frames, 3 + 2 * i).encode()));
    expect(back.filter((f) => f.type === FrameType.GOAWAY || f.type === FrameType.RST_STREAM)).toEqual([]);
  });
});
