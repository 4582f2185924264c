// The connection's receive window on real sockets: a request body nobody reads yet holds at most
// its stream's window, and the connection window (1 MiB by default, raised with a WINDOW_UPDATE
// right after our SETTINGS) leaves room for the other streams' uploads (RFC 9113 §5.2, §6.9).
import { FrameType } from '../../lib/constants.js';
import { UsageError } from '../../lib/errors.js';
import type { Frame } from '../../lib/frame/types.js';
import { connect } from '../../lib/node/client.js';
import { createH2Server } from '../../lib/node/server.js';
import type { H2Request, Handler } from '../../lib/node/session.js';
import { rawPeer, startServer } from './helpers.js';

async function drain(req: H2Request): Promise<number> {
  let n = 0;
  for await (const chunk of req.body) n += chunk.length;
  return n;
}

/** `/stall` waits for `release()` before it reads its body; `/echo` reads its body and answers with its length. */
function stallingHandler() {
  let release!: () => void;
  const released = new Promise<void>((r) => { release = r; });
  const handler: Handler = async (req, res) => {
    if (req.path === '/stall') await released;
    const n = await drain(req);
    res.respond(200);
    res.end(String(n));
  };
  return { handler, release };
}

const windowUpdates = (frames: Frame[]) => frames.filter((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 0) as Array<Frame & { increment: number }>;

describe('connection receive window (server)', () => {
  it('an upload whose handler has not read yet does not stall another upload on the same connection', async () => {
    const { handler, release } = stallingHandler();
    const s = await startServer({ handler });
    const client = await connect(s.url);
    try {
      const stalled = client.request({ method: 'POST', path: '/stall', body: Buffer.alloc(65535, 1) });
      // more than the RFC's default connection window of 65,535 octets, on another stream
      const echo = await client.request({ method: 'POST', path: '/echo', body: Buffer.alloc(512 * 1024, 2) });
      expect(await echo.text()).toBe(String(512 * 1024));
      release();
      expect(await (await stalled).text()).toBe('65535');
    } finally {
      client.destroy();
      await s.h2.close();
    }
  });

  it('raises the connection window right after its SETTINGS: WINDOW_UPDATE(0) of 1 MiB - 65,535 by default, or of connectionWindow - 65,535', async () => {
    for (const [options, expected] of [[{}, 1048576 - 65535], [{ connectionWindow: 4 << 20 }, (4 << 20) - 65535]] as const) {
      const s = await startServer(options);
      try {
        const p = await rawPeer(s.port);
        p.socket.write(Buffer.concat([p.f.preface(), p.f.settings().encode(), p.f.settings().ack().encode()]));
        await p.until((fr) => windowUpdates(fr).length > 0);
        expect(windowUpdates(p.received)[0]!.increment).toBe(expected);
        expect(p.received.findIndex((f) => f.type === FrameType.SETTINGS)).toBeLessThan(p.received.findIndex((f) => f.type === FrameType.WINDOW_UPDATE));
        p.socket.destroy();
      } finally {
        await s.h2.close();
      }
    }
  });

  it('connectionWindow 65,535 keeps the RFC default (no WINDOW_UPDATE), and values outside 65,535..2^31-1 are UsageErrors', async () => {
    const s = await startServer({ connectionWindow: 65535 });
    try {
      const p = await rawPeer(s.port);
      p.socket.write(Buffer.concat([p.f.preface(), p.f.settings().encode(), p.f.settings().ack().encode(), p.f.ping().encode()]));
      await p.until((fr) => fr.some((f) => f.type === FrameType.PING));
      expect(windowUpdates(p.received)).toEqual([]);
      p.socket.destroy();
    } finally {
      await s.h2.close();
    }
    for (const bad of [65534, 2 ** 31, 1.5, Number.NaN]) expect(() => createH2Server(() => undefined, { connectionWindow: bad })).toThrow(UsageError);
  });
});

describe('what the raised window lets a peer hold', () => {
  it('unread bodies stay within the connection window: 16 stalled streams of 65,535 octets fit in 1 MiB, 17 overrun it → GOAWAY FLOW_CONTROL_ERROR', async () => {
    const { handler, release } = stallingHandler();
    const s = await startServer({ handler });
    const stalledUploads = (p: Awaited<ReturnType<typeof rawPeer>>, streams: number): Buffer => {
      const f = p.f;
      const frames: Uint8Array[] = [f.preface(), f.settings().encode(), f.settings().ack().encode()];
      for (let i = 0; i < streams; i++) {
        const id = 2 * i + 1;
        frames.push(f.headers(id).request('POST', '/stall').encode());
        for (let k = 0; k < 4; k++) frames.push(f.data(id, Buffer.alloc(k < 3 ? 16384 : 65535 - 3 * 16384)).encode());
      }
      return Buffer.concat([...frames, f.ping().encode()]);
    };
    try {
      const fits = await rawPeer(s.port);
      fits.socket.write(stalledUploads(fits, 16));
      await fits.until((fr) => fr.some((x) => x.type === FrameType.PING && (x as Frame & { ack: boolean }).ack));
      expect(fits.received.some((x) => x.type === FrameType.GOAWAY)).toBe(false);
      fits.socket.destroy();
      const over = await rawPeer(s.port);
      over.socket.write(stalledUploads(over, 17));
      await over.until((fr) => fr.some((x) => x.type === FrameType.GOAWAY));
      const goaway = over.received.find((x) => x.type === FrameType.GOAWAY) as Frame & { errorCode: number };
      expect(goaway.errorCode).toBe(3); // FLOW_CONTROL_ERROR
      await over.closed;
    } finally {
      release();
      await s.h2.close();
    }
  });
});

describe('connection receive window (client)', () => {
  it('a response body the client has not read yet does not stall another download on the same connection', async () => {
    const big = Buffer.alloc(512 * 1024, 3);
    const first = Buffer.alloc(256 * 1024, 4); // more than a stream window: it stays open, unread
    const s = await startServer({ handler: (req, res) => { res.respond(200); res.end(req.path === '/big' ? big : first); } });
    const client = await connect(s.url);
    try {
      const unread = await client.request({ path: '/first' }); // its first 65,535 octets stay unread for now
      const second = await client.request({ path: '/big' });
      expect((await second.bytes()).length).toBe(big.length);
      expect((await unread.bytes()).length).toBe(first.length);
    } finally {
      client.destroy();
      await s.h2.close();
    }
  });
});
