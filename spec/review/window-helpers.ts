// Helpers of the connection-window review: a raw h2c peer that keeps to the flow-control windows
// the server grants (a compliant sender), and a look at the server's own receive window.
import net from 'node:net';
import { FrameType } from '../../lib/constants.js';
import { FrameDecoder } from '../../lib/frame/decoder.js';
import type { Frame } from '../../lib/frame/types.js';
import type { H2Server } from '../../lib/node/server.js';
import { frameFactory } from '../helpers/frames.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type WU = Frame & { increment: number };

/**
 * A raw client that counts what it may send: 65,535 + the server's WINDOW_UPDATEs on stream 0 −
 * what it sent (padding included), and the same per stream (the server's SETTINGS do not change
 * the initial stream window here: 65,535).
 */
export async function compliantPeer(port: number, opts: { upgrade?: string; settings?: Uint8Array } = {}) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const f = frameFactory();
  const decoder = new FrameDecoder({ expectPreface: false });
  const received: Frame[] = [];
  let http1 = opts.upgrade !== undefined;
  let pre = Buffer.alloc(0);
  let connIn = 0;
  const streamIn = new Map<number, number>();
  const onFrame = (x: Frame) => {
    received.push(x);
    if (x.type === FrameType.WINDOW_UPDATE) {
      if (x.streamId === 0) connIn += (x as WU).increment;
      else streamIn.set(x.streamId, (streamIn.get(x.streamId) ?? 0) + (x as WU).increment);
    }
  };
  let closed = false;
  socket.on('close', () => { closed = true; });
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    if (http1) {
      pre = Buffer.concat([pre, chunk]);
      const end = pre.indexOf('\r\n\r\n');
      if (end < 0) return;
      http1 = false;
      chunk = pre.subarray(end + 4);
    }
    decoder.push(chunk);
    for (let x = decoder.next(); x !== null; x = decoder.next()) onFrame(x);
  });
  if (opts.upgrade !== undefined) socket.write(opts.upgrade);
  socket.write(Buffer.concat([f.preface(), opts.settings ?? f.settings().encode()]));
  let connOut = 0;
  const streamOut = new Map<number, number>();
  const peer = {
    socket, f, received,
    get closed() { return closed; },
    connWindow: () => 65535 + connIn - connOut,
    streamWindow: (id: number) => 65535 + (streamIn.get(id) ?? 0) - (streamOut.get(id) ?? 0),
    /** Waits until `pred` holds for the frames received (rejects after `ms`). */
    async until(pred: (frames: Frame[]) => boolean, ms = 5000): Promise<void> {
      const end = Date.now() + ms;
      while (!pred(received)) {
        if (Date.now() > end) throw new Error(`frames never matched; got ${received.map((x) => `${x.type}@${x.streamId}`).join(' ')}`);
        await sleep(5);
      }
    },
    write(b: Uint8Array) { socket.write(b); },
    /**
     * Sends `total` octets on `id` in DATA frames of at most `frame` octets of data plus `pad`
     * padding, only within both windows; rejects when the windows stay closed for `ms`.
     */
    async upload(id: number, total: number, o: { frame?: number; pad?: number; end?: boolean; ms?: number; stopOnReset?: boolean } = {}): Promise<number> {
      const frame = o.frame ?? 16384 - ((o.pad ?? -1) + 1);
      let left = total;
      let sent = 0;
      while (left > 0) {
        const n = Math.min(frame, left);
        const flow = n + (o.pad === undefined ? 0 : o.pad + 1);
        const end = Date.now() + (o.ms ?? 3000);
        while (peer.connWindow() < flow || peer.streamWindow(id) < flow) {
          if (o.stopOnReset && received.some((x) => x.type === FrameType.RST_STREAM && x.streamId === id)) return sent;
          if (closed) throw new Error(`socket closed after ${sent} octets on stream ${id}`);
          if (Date.now() > end) throw new Error(`stalled on stream ${id} after ${sent} octets: connection window ${peer.connWindow()}, stream window ${peer.streamWindow(id)}`);
          await sleep(2);
        }
        left -= n;
        const d = f.data(id, Buffer.alloc(n, 0x61));
        if (o.pad !== undefined) d.padded(o.pad);
        if (left === 0 && o.end) d.eos();
        socket.write(d.encode());
        connOut += flow;
        streamOut.set(id, (streamOut.get(id) ?? 0) + flow);
        sent += flow;
      }
      return sent;
    },
    /** Counts `flow` octets sent by hand (frames written with `write`). */
    sentRaw(id: number, flow: number) {
      connOut += flow;
      streamOut.set(id, (streamOut.get(id) ?? 0) + flow);
    },
    /** A PING round trip: every frame sent before it has been processed by the server. */
    async sync(ms = 5000) {
      const data = Buffer.from(String(Math.random()).slice(2, 10).padEnd(8, '0'));
      socket.write(f.ping(data).encode());
      await peer.until((fr) => fr.some((x) => x.type === FrameType.PING && (x as Frame & { ack: boolean }).ack && Buffer.from((x as Frame & { opaqueData: Uint8Array }).opaqueData).equals(data)), ms);
    },
    destroy() { socket.destroy(); },
  };
  return peer;
}

/** The server's only session's receive window: what the peer may send, what was read and not returned yet, and the target. */
export function serverWindow(h2: H2Server) {
  const [s] = [...h2.sessions];
  if (s === undefined) throw new Error('no session');
  const w = (s.conn as unknown as { recvWindow: { current: number; processed: number; max: number } }).recvWindow;
  return { current: w.current, processed: w.processed, max: w.max };
}

/**
 * Frames that make each DATA frame before them land in a socket read of its own: unknown
 * extension frames (ignored, never counted by the abuse budgets) that fill the rest of a 64 KiB
 * read. `dataFrame` is the encoded length of the DATA frame they follow.
 */
export function readFiller(f: ReturnType<typeof frameFactory>, dataFrame: number): Buffer {
  const parts = [0, 1, 2].map(() => f.unknown(0xfa, 0, Buffer.alloc(16384)).encode());
  const rest = 65536 - 3 * (16384 + 9) - dataFrame - 9 - 9;
  return Buffer.concat([...parts, f.unknown(0xfa, 0, Buffer.alloc(rest)).encode()]);
}

/**
 * `h2sched serve ARGS` (the built CLI) in a child process with the memory probe preloaded:
 * `mem()` is process.memoryUsage() after two full collections in the child.
 */
export async function serveWithProbe(args: string[]) {
  const { fork } = await import('node:child_process');
  const path = await import('node:path');
  const proc = fork(path.resolve('dist/node/cli.js'), args, {
    silent: true, execArgv: ['--expose-gc', '--require', path.resolve('spec/review/fixtures/mem-probe.cjs')],
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^http:\/\/[^\n]*:(\d+)\/?\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    proc.on('exit', (c) => reject(new Error(`exited (${c}) before printing its URL: ${out}`)));
  });
  const mem = () => new Promise<NodeJS.MemoryUsage>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no mem answer')), 5000);
    const on = (m: { type?: string } & NodeJS.MemoryUsage) => {
      if (m?.type !== 'mem') return;
      clearTimeout(t);
      proc.off('message', on);
      resolve(m);
    };
    proc.on('message', on);
    proc.send({ type: 'mem' });
  });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await gone;
    }
  };
  return { proc, port, mem, stop, output: () => out };
}
