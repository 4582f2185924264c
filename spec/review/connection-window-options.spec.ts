// Review of 8b9d212 ("Connection receive window raised to 1 MiB"): the option and the CLI flag,
// and the client (lib/node/client.ts) against servers that send more than its windows.
import { execFile } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { ErrorCode, FrameType } from '../../lib/constants.js';
import { H2SchedError, UsageError } from '../../lib/errors.js';
import { FrameDecoder } from '../../lib/frame/decoder.js';
import type { Frame } from '../../lib/frame/types.js';
import { connect } from '../../lib/node/client.js';
import { createH2Server } from '../../lib/node/server.js';
import { frameFactory } from '../helpers/frames.js';
import { deadline, rawPeer } from '../interop/helpers.js';
import { serveWithProbe, sleep } from './window-helpers.js';

const CLI = path.resolve('dist/node/cli.js');

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = execFile(process.execPath, [CLI, ...args], { timeout: 10000 }, (e, stdout, stderr) => {
      resolve({ code: e ? ((e as { code?: number }).code ?? null) : 0, out: stdout + stderr });
    });
    p.stdin?.end();
  });
}

/** What a raw server may still send on a connection: 65,535 + the client's WINDOW_UPDATEs − what it sent. */
interface Windows {
  conn(): number;
  stream(id: number): number;
  /** Counts `flow` octets sent on `id`. */
  sent(id: number, flow: number): void;
}

/** A raw HTTP/2 server: SETTINGS, ACKs, PING answers; `onRequest` answers each request's HEADERS. */
async function rawServer(onRequest: (sock: net.Socket, id: number, f: ReturnType<typeof frameFactory>, w: Windows) => void) {
  const got: Frame[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    const f = frameFactory();
    const dec = new FrameDecoder({ expectPreface: true });
    let connIn = 0;
    let connOut = 0;
    const streamIn = new Map<number, number>();
    const streamOut = new Map<number, number>();
    const w: Windows = {
      conn: () => 65535 + connIn - connOut,
      stream: (id) => 65535 + (streamIn.get(id) ?? 0) - (streamOut.get(id) ?? 0),
      sent: (id, flow) => { connOut += flow; streamOut.set(id, (streamOut.get(id) ?? 0) + flow); },
    };
    sock.on('error', () => undefined);
    sock.write(f.settings().encode());
    sock.on('data', (c: Buffer) => {
      dec.push(c);
      for (let x = dec.next(); x !== null; x = dec.next()) {
        got.push(x);
        if (x.type === FrameType.SETTINGS && !(x as Frame & { ack: boolean }).ack) sock.write(f.settings().ack().encode());
        if (x.type === FrameType.PING && !(x as Frame & { ack: boolean }).ack) sock.write(f.ping((x as Frame & { opaqueData: Uint8Array }).opaqueData).ack().encode());
        if (x.type === FrameType.WINDOW_UPDATE) {
          const inc = (x as Frame & { increment: number }).increment;
          if (x.streamId === 0) connIn += inc;
          else streamIn.set(x.streamId, (streamIn.get(x.streamId) ?? 0) + inc);
        }
        if (x.type === FrameType.HEADERS) onRequest(sock, x.streamId, f, w);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    got, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => { for (const s of sockets) s.destroy(); server.close(); },
  };
}

const describeError = (e: unknown) => `${(e as Error).constructor.name}: ${(e as Error).message}`;

describe('review: connectionWindow option and --connection-window (8b9d212)', () => {
  it('review finding: connectionWindow that is not a number (a Symbol from JavaScript) escapes as a TypeError, not a UsageError (createH2Server and connect)', async () => {
    // connectionWindowOf builds its message with `${value}`, which throws for a Symbol (the same
    // pattern is in timerMs and the maxConnections check)
    const bad = Symbol('1 MiB') as unknown as number;
    let server: unknown;
    try {
      createH2Server(() => undefined, { connectionWindow: bad });
    } catch (e) {
      server = e;
    }
    const client = await connect('http://127.0.0.1:1', { connectionWindow: bad }).then(() => undefined, (e: unknown) => e);
    expect({ server: (server as Error)?.constructor?.name, client: (client as Error)?.constructor?.name }).toEqual({ server: 'UsageError', client: 'UsageError' });
  });

  it('(held) other bad values are UsageErrors (H2SchedError) before anything connects or listens; the client checks before connecting', async () => {
    for (const bad of [65534, 2 ** 31, 1.5, Number.NaN, Infinity, -1, '1048576', null, 10n]) {
      expect(() => createH2Server(() => undefined, { connectionWindow: bad as unknown as number })).toThrow(UsageError);
      // port 1: nothing listens there; a UsageError means it never tried
      await expect(connect('http://127.0.0.1:1', { connectionWindow: bad as unknown as number })).rejects.toBeInstanceOf(UsageError);
    }
    expect(new UsageError('x')).toBeInstanceOf(H2SchedError);
  });

  it('(held) --connection-window: 65534, 2147483648, 1.5, 1e6, 0x100000, abc and "" exit 2 with a message before anything listens; 65535 sends no WINDOW_UPDATE, 2147483647 sends 2147418112', async () => {
    for (const bad of ['65534', '2147483648', '1.5', '1e6', '0x100000', 'abc', '']) {
      const r = await run(['serve', '--no-tls', '--port', '0', '--log', 'none', '--connection-window', bad]);
      expect({ bad, code: r.code, said: /--connection-window must be/.test(r.out), listened: /^http:/m.test(r.out) }).toEqual({ bad, code: 2, said: true, listened: false });
    }
    for (const [value, increment] of [['65535', undefined], ['2147483647', 2147483647 - 65535], [undefined, (1 << 20) - 65535]] as const) {
      const s = await serveWithProbe(['serve', '--no-tls', '--port', '0', '--log', 'none', ...(value === undefined ? [] : ['--connection-window', value])]);
      try {
        const p = await rawPeer(s.port);
        p.socket.write(Buffer.concat([p.f.preface(), p.f.settings().encode(), p.f.settings().ack().encode(), p.f.ping().encode()]));
        await p.until((fr) => fr.some((x) => x.type === FrameType.PING));
        const wu = p.received.filter((x) => x.type === FrameType.WINDOW_UPDATE && x.streamId === 0) as Array<Frame & { increment: number }>;
        expect({ value, increments: wu.map((x) => x.increment) }).toEqual({ value, increments: increment === undefined ? [] : [increment] });
        p.socket.destroy();
      } finally {
        await s.stop();
      }
    }
  }, 60000);

  it('review finding (low): `serve --help` prints "Every timeout: 0 turns it off." as the last line of --connection-window, whose 0 is refused', async () => {
    const r = await run(['serve', '--help']);
    const lines = r.out.split('\n');
    const at = lines.findIndex((l) => l.trimStart().startsWith('--connection-window'));
    expect(at).toBeGreaterThan(0);
    // the entry: its first line and the indented lines under it, up to the next option
    const entry: string[] = [lines[at]!];
    for (let i = at + 1; i < lines.length && !lines[i]!.trimStart().startsWith('-'); i++) entry.push(lines[i]!.trim());
    expect(entry.join(' ')).not.toMatch(/0 turns it off/);
  });
});

describe('review: the client with servers that send more than its windows (8b9d212)', () => {
  it('(held) the client raises its window after its SETTINGS; a server overrunning one stream window gets RST FLOW_CONTROL_ERROR (that body rejects with StreamClosedError); 17 × 65,535 unread octets overrun the 1 MiB: GOAWAY FLOW_CONTROL_ERROR, every request rejects with StreamClosedError', async () => {
    const srv = await rawServer((sock, id, f) => {
      sock.write(f.headers(id).response(200).encode());
      if (id === 1) {
        for (let k = 0; k < 5; k++) sock.write(f.data(id, Buffer.alloc(16384)).encode()); // 81,920 > 65,535
        return;
      }
      // 65,535 octets per stream, padding included: within each stream window
      for (let k = 0; k < 3; k++) sock.write(f.data(id, Buffer.alloc(16383)).padded(0).encode());
      sock.write(f.data(id, Buffer.alloc(16383)).encode());
    });
    const client = await connect(srv.url);
    try {
      const first = await client.request({ path: '/one' });
      await client.ping();
      await sleep(50);
      const oneStream = await first.bytes().then(() => 'read', describeError);
      expect(oneStream).toBe('StreamClosedError: stream 1 was reset (error code 3)');
      expect(srv.got.find((x) => x.type === FrameType.RST_STREAM && x.streamId === 1)).toMatchObject({ errorCode: ErrorCode.FLOW_CONTROL_ERROR });
      // the client's first frames: SETTINGS, then WINDOW_UPDATE(0) of 1 MiB − 65,535
      expect(srv.got.slice(0, 2).map((x) => [x.type, x.streamId, (x as Frame & { increment?: number }).increment])).toEqual([
        [FrameType.SETTINGS, 0, undefined], [FrameType.WINDOW_UPDATE, 0, (1 << 20) - 65535],
      ]);
      const many = [];
      for (let i = 0; i < 20; i++) many.push(client.request({ path: `/${i}` }).then(async (r) => { await sleep(300); return r.bytes(); }).then(() => 'read', describeError));
      const outcomes = new Set(await Promise.all(many));
      expect([...outcomes]).toEqual(['StreamClosedError: connection closed: FLOW_CONTROL_ERROR: DATA beyond the connection window']);
      expect(srv.got.find((x) => x.type === FrameType.GOAWAY)).toMatchObject({ errorCode: ErrorCode.FLOW_CONTROL_ERROR });
      expect(client.isClosed).toBe(true);
    } finally {
      client.destroy();
      srv.close();
    }
  }, 30000);

  it('(held) the client returns credit for unread responses it cancels or that end: after 15 unread responses of 65,535 octets (8 cancelled, 7 ended), a 3 MiB padded download on the same connection completes', async () => {
    const big = 3 << 20;
    let highest = 0;
    const srv = await rawServer((sock, id, f, w) => {
      sock.write(f.headers(id).response(200).encode());
      if (id < 31) {
        // 65,535 octets, padded; every other response ends, the rest stays open until cancelled
        for (let k = 0; k < 3; k++) {
          sock.write(f.data(id, Buffer.alloc(16000)).padded(383).encode());
          w.sent(id, 16384);
        }
        const last = f.data(id, Buffer.alloc(16383));
        if ((id - 1) % 4 === 0) last.eos();
        sock.write(last.encode());
        w.sent(id, 16383);
        return;
      }
      // a compliant sender: only within the client's windows
      let sent = 0;
      const timer = setInterval(() => {
        highest = Math.max(highest, w.conn());
        while (sent < big) {
          const n = Math.min(16000, big - sent);
          if (n + 101 > Math.min(w.conn(), w.stream(id))) break;
          const d = f.data(id, Buffer.alloc(n, 9)).padded(100);
          if (sent + n === big) d.eos();
          sock.write(d.encode());
          w.sent(id, n + 101);
          sent += n;
        }
        if (sent >= big || sock.destroyed) clearInterval(timer);
      }, 2);
    });
    const client = await connect(srv.url);
    try {
      const unread = [];
      for (let i = 0; i < 15; i++) unread.push(await client.request({ path: `/unread-${i}` }));
      await client.ping();
      for (const [i, r] of unread.entries()) if (i % 2 === 1) r.cancel();
      const r = await client.request({ path: '/big' });
      const body = await Promise.race([r.bytes(), deadline(10000).then(() => undefined)]);
      expect(body?.length).toBe(big);
      expect(client.isClosed).toBe(false);
      expect(highest).toBeLessThanOrEqual(1 << 20); // the client never opened more than its 1 MiB
    } finally {
      client.destroy();
      srv.close();
    }
  }, 30000);
});
