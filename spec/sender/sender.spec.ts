// The sender: bodies split into DATA frames within both windows and the peer's frame size, in
// scheduler order, following WINDOW_UPDATE and SETTINGS, stopping at the high-water mark;
// requests waiting for a stream slot; the classic flow-control deadlocks.
import fc from 'fast-check';
import { ErrorCode, SettingId } from '../../lib/constants.js';
import type { H2Event } from '../../lib/events.js';
import { Sender } from '../../lib/sender/sender.js';
import { H2Connection } from '../../lib/connection/connection.js';
import { StreamClosedError, UsageError } from '../../lib/errors.js';
import { GET, senderPair } from './helpers.js';

function respondWith(p: ReturnType<typeof senderPair>, sizes: Map<string, number>) {
  return (e: H2Event) => {
    if (e.type !== 'RequestReceived') return;
    const path = e.headers.find(([n]) => n === ':path')![1];
    p.server.sendHeaders(e.streamId, [[':status', '200']]);
    const body = Buffer.alloc(sizes.get(path)!, path.charCodeAt(1));
    for (let o = 0; o < body.length; o += 5000) p.sender.write(e.streamId, body.subarray(o, o + 5000));
    p.sender.end(e.streamId);
  };
}

describe('sending bodies', () => {
  it('delivers every byte exactly once, in order, with small windows and many streams; no frame exceeds a window', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 60000 }), { minLength: 1, maxLength: 14 }), fc.integer({ min: 1000, max: 20000 }), fc.constantFrom('tree', 'round-robin', 'fifo', 'extensible'), (sizes, win, sched) => {
        const p = senderPair({ localSettings: { initialWindowSize: win } }, {}, { scheduler: sched as 'tree' });
        const paths = new Map(sizes.map((n, i) => [`/${String.fromCharCode(97 + i)}`, n]));
        p.pump();
        [...paths.keys()].forEach((path, i) => p.client.sendHeaders(2 * i + 1, GET(path), { endStream: true }));
        p.pump(respondWith(p, paths));
        [...paths.entries()].forEach(([path, n], i) => expect(p.body(2 * i + 1).equals(Buffer.alloc(n, path.charCodeAt(1)))).toBe(true));
        // on the wire, against a shadow of the client's windows; the client's engine would also reset any overrun
        expect(p.windowViolations).toEqual([]);
        expect(p.clientEvents.filter((e) => e.type === 'StreamReset')).toEqual([]);
        for (const d of p.data) expect(d.length).toBeLessThanOrEqual(Math.min(16384, win));
        expect(p.data.filter((d) => d.length === 0).every((d) => d.endStream)).toBe(true); // 0-byte DATA only to end a stream
      }),
      { numRuns: 60 },
    );
  });

  it('sends trailers after the last DATA when asked', () => {
    const p = senderPair();
    p.pump();
    p.client.sendHeaders(1, GET('/t'), { endStream: true });
    p.pump((e) => {
      if (e.type !== 'RequestReceived') return;
      p.server.sendHeaders(1, [[':status', '200']]);
      p.sender.write(1, Buffer.from('payload'));
      p.sender.end(1, [['x-checksum', '42']]);
    });
    expect(p.clientEvents.map((e) => e.type).slice(-4)).toEqual(['ResponseReceived', 'DataReceived', 'TrailersReceived', 'StreamEnded']);
  });

  it('reports back-pressure: write returns false above the high-water mark and onDrain fires when it drains', () => {
    const drained: number[] = [];
    const p = senderPair({}, {}, { highWaterMark: 10000, onDrain: (id) => drained.push(id) });
    p.pump();
    p.client.sendHeaders(1, GET('/x'), { endStream: true });
    let accepted: boolean[] = [];
    p.pump((e) => {
      if (e.type !== 'RequestReceived') return;
      p.server.sendHeaders(1, [[':status', '200']]);
      accepted = [p.sender.write(1, Buffer.alloc(6000)), p.sender.write(1, Buffer.alloc(6000))];
      p.sender.end(1);
    });
    expect(accepted).toEqual([true, false]);
    expect(drained).toEqual([1]);
  });

  it('stops at the engine\'s outbound high-water mark so that priorities are decided close to the wire', () => {
    const server = new H2Connection({ clientSide: false, outboundHighWaterMark: 20000 });
    const client = new H2Connection({ clientSide: true, localSettings: { initialWindowSize: 1 << 20 } });
    client.initiateConnection();
    server.initiateConnection();
    const sender = new Sender(server);
    sender.handle(server.receiveData(client.dataToSend()));
    client.receiveData(server.dataToSend());
    sender.handle(server.receiveData(client.dataToSend()));
    client.incrementFlowControlWindow(1 << 20);
    client.sendHeaders(1, GET('/big'), { endStream: true });
    sender.handle(server.receiveData(client.dataToSend()));
    server.sendHeaders(1, [[':status', '200']]);
    sender.write(1, Buffer.alloc(200000));
    const moved = sender.flush();
    expect(moved).toBeLessThan(40000);
    expect(server.outboundBufferFull).toBe(true);
  });
});

describe('the classic deadlocks', () => {
  it('resumes after a SETTINGS_INITIAL_WINDOW_SIZE decrease made the stream window negative', () => {
    const p = senderPair({}, {}, {});
    p.pump();
    p.client.sendHeaders(1, GET('/x'), { endStream: true });
    p.setAcknowledge(false);
    p.pump((e) => {
      if (e.type !== 'RequestReceived') return;
      p.server.sendHeaders(1, [[':status', '200']]);
      p.sender.write(1, Buffer.alloc(100000, 7));
      p.sender.end(1);
    });
    expect(p.body(1).length).toBe(65535); // windows spent
    p.client.updateSettings([[SettingId.INITIAL_WINDOW_SIZE, 1000]]); // stream window now negative
    p.pump();
    p.setAcknowledge(true);
    p.client.acknowledgeReceivedData(65535, 1);
    p.client.incrementFlowControlWindow(200000, 1);
    p.pump();
    expect(p.body(1).length).toBe(100000);
  });

  it('does not spin when a connection WINDOW_UPDATE arrives while every stream is window-blocked, and resumes on the stream update', () => {
    const p = senderPair({ localSettings: { initialWindowSize: 100 } });
    p.pump();
    p.client.sendHeaders(1, GET('/a'), { endStream: true });
    p.client.sendHeaders(3, GET('/b'), { endStream: true });
    p.setAcknowledge(false);
    p.pump((e) => {
      if (e.type !== 'RequestReceived') return;
      p.server.sendHeaders(e.streamId, [[':status', '200']]);
      p.sender.write(e.streamId, Buffer.alloc(1000, e.streamId));
      p.sender.end(e.streamId);
    });
    expect([p.body(1).length, p.body(3).length]).toEqual([100, 100]);
    p.client.incrementFlowControlWindow(50000); // connection only
    p.pump();
    expect([p.body(1).length, p.body(3).length]).toEqual([100, 100]);
    p.client.incrementFlowControlWindow(900, 3);
    p.pump();
    expect([p.body(1).length, p.body(3).length]).toEqual([100, 1000]);
  });

  it('counts padding the peer sends against our windows (acknowledge flowControlledLength)', () => {
    const server = new H2Connection({ clientSide: false });
    const client = new H2Connection({ clientSide: true });
    client.initiateConnection();
    server.initiateConnection();
    server.receiveData(client.dataToSend());
    client.receiveData(server.dataToSend());
    server.receiveData(client.dataToSend());
    client.sendHeaders(1, [[':method', 'POST'], [':scheme', 'https'], [':authority', 'a'], [':path', '/']]);
    for (let i = 0; i < 8; i++) client.sendData(1, Buffer.alloc(7000), { padLength: 255 });
    const evs = server.receiveData(client.dataToSend());
    let acked = 0;
    for (const e of evs) if (e.type === 'DataReceived') { server.acknowledgeReceivedData(e.flowControlledLength, 1); acked += e.flowControlledLength; }
    expect(acked).toBe(8 * 7256);
    client.receiveData(server.dataToSend());
    expect(client.localFlowControlWindow(1)).toBeGreaterThan(65535 - 8 * 7256);
  });
});

describe('client requests', () => {
  it('wait for a free stream slot instead of failing at MAX_CONCURRENT_STREAMS', async () => {
    const client = new H2Connection({ clientSide: true });
    const server = new H2Connection({ clientSide: false, localSettings: { maxConcurrentStreams: 2 } });
    const sender = new Sender(client);
    client.initiateConnection();
    server.initiateConnection();
    const ids: number[] = [];
    const waits = [0, 1, 2, 3].map(() => sender.request(GET('/q'), { endStream: true }).then((id) => ids.push(id)));
    const step = () => {
      sender.handle(client.receiveData(server.dataToSend()));
      for (const e of server.receiveData(client.dataToSend())) {
        if (e.type === 'RequestReceived') server.sendHeaders(e.streamId, [[':status', '204']], { endStream: true });
      }
    };
    for (let i = 0; i < 6; i++) step();
    await Promise.all(waits);
    expect(ids).toEqual([1, 3, 5, 7]);
    expect(sender.waitingRequests).toBe(0);
  });

  it('sends request bodies through the scheduler', async () => {
    const client = new H2Connection({ clientSide: true });
    const server = new H2Connection({ clientSide: false });
    const sender = new Sender(client);
    client.initiateConnection();
    server.initiateConnection();
    server.receiveData(client.dataToSend());
    sender.handle(client.receiveData(server.dataToSend()));
    const id = await sender.request([[':method', 'POST'], [':scheme', 'https'], [':authority', 'a'], [':path', '/up']]);
    sender.write(id, Buffer.alloc(30000, 1));
    sender.end(id);
    sender.flush();
    const evs = server.receiveData(client.dataToSend());
    expect(evs.filter((e) => e.type === 'DataReceived').reduce((n, e) => n + (e as { data: Uint8Array }).data.length, 0)).toBe(30000);
    expect(evs.at(-1)).toEqual({ type: 'StreamEnded', streamId: id });
    expect(ErrorCode.NO_ERROR).toBe(0);
  });
});

describe('pipe: async iterables and Node Readables', () => {
  it('sends a Readable body with back-pressure and trailers, pausing the source while the queue is full', async () => {
    const { Readable } = await import('node:stream');
    const p = senderPair({ localSettings: { initialWindowSize: 20000 } }, {}, { highWaterMark: 8192 });
    p.pump();
    p.client.sendHeaders(1, GET('/stream'), { endStream: true });
    let done: Promise<void> | undefined;
    let pulled = 0;
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(4000, i));
    const source = Readable.from((function* () { for (const c of chunks) { pulled++; yield c; } })(), { highWaterMark: 1 });
    p.pump((e) => {
      if (e.type !== 'RequestReceived') return;
      p.server.sendHeaders(1, [[':status', '200']]);
      done = p.sender.pipe(1, source, [['x-end', 'yes']]);
    });
    for (let i = 0; i < 200 && p.clientEvents.at(-1)?.type !== 'StreamEnded'; i++) {
      await new Promise((r) => setImmediate(r));
      p.pump();
    }
    await done;
    expect(p.body(1).equals(Buffer.concat(chunks))).toBe(true);
    expect(p.clientEvents.at(-2)).toMatchObject({ type: 'TrailersReceived', headers: [['x-end', 'yes']] });
    expect(pulled).toBe(50);
  });

  it('rejects when the stream is reset while piping', async () => {
    const p = senderPair({ localSettings: { initialWindowSize: 1000 } }, {}, { highWaterMark: 1000 });
    p.pump();
    p.client.sendHeaders(1, GET('/r'), { endStream: true });
    p.setAcknowledge(false);
    let done: Promise<void> | undefined;
    async function* slow() { for (let i = 0; i < 100; i++) yield Buffer.alloc(1000); }
    p.pump((e) => {
      if (e.type !== 'RequestReceived') return;
      p.server.sendHeaders(1, [[':status', '200']]);
      done = p.sender.pipe(1, slow());
    });
    await new Promise((r) => setImmediate(r));
    p.pump();
    p.client.resetStream(1, ErrorCode.CANCEL);
    p.pump();
    await expect(done).rejects.toBeInstanceOf(StreamClosedError);
  });
});
