/**
 * Interop helpers: an in-process `h2sched serve` equivalent on a free port, tool detection, and
 * `itWith(tool, …)`, which runs a test only when the tool is installed and otherwise registers it
 * as skipped with the install command in its name (never a silent pass).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FrameDecoder } from '../../lib/frame/decoder.js';
import type { Frame, GoawayFrame, RstStreamFrame } from '../../lib/frame/types.js';
import { FrameType } from '../../lib/constants.js';
import { createH2Server, type H2ServerOptions, type ServerStats } from '../../lib/node/server.js';
import type { Handler } from '../../lib/node/session.js';
import { staticHandler } from '../../lib/node/static.js';
import { has } from '../../bench/h2load.js';
import { frameFactory } from '../helpers/frames.js';

export async function startServer(options: H2ServerOptions & { handler?: Handler } = {}) {
  const h2 = createH2Server(options.handler ?? staticHandler(undefined), options);
  await new Promise<void>((r) => h2.server.listen(0, '127.0.0.1', () => r()));
  const { port } = h2.server.address() as AddressInfo;
  return { h2, port, url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}` };
}

const INSTALL: Record<string, string> = {
  curl: 'apt-get install -y curl',
  nghttp: 'apt-get install -y nghttp2-client',
  h2load: 'apt-get install -y nghttp2-client',
  nghttpd: 'apt-get install -y nghttp2-server',
  openssl: 'apt-get install -y openssl',
  chromium: 'apt-get install -y chromium',
  certutil: 'apt-get install -y libnss3-tools',
};

/** Whether a command is installed (the bench's check). */
export { has };

/** `it` when every tool is installed; otherwise a skipped test whose name says how to install them. */
export function itWith(tools: string[], name: string, fn: () => Promise<void>, timeout = 60000): void {
  const missing = tools.filter((t) => !has(t));
  if (missing.length === 0) {
    it(name, fn, timeout);
  } else {
    const how = [...new Set(missing.map((t) => INSTALL[t] ?? `install ${t}`))].join('; ');
    console.warn(`skipping "${name}": ${missing.join(', ')} not installed (${how})`);
    it.skip(`${name} [needs ${missing.join(', ')}: ${how}]`, fn);
  }
}

/**
 * A raw client socket: writes bytes, collects the server's frames, knows when the socket closed
 * (and when). `until(pred)` waits for a frame condition.
 */
export async function rawPeer(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const decoder = new FrameDecoder({ expectPreface: false });
  const received: Frame[] = [];
  const peer = {
    socket, received, f: frameFactory(), closedAt: 0,
    closed: new Promise<void>((r) => socket.on('close', () => { peer.closedAt = Date.now(); r(); })),
    /** Resolves once `pred` holds for the frames received so far (rejects after `ms`). */
    async until(pred: (frames: Frame[]) => boolean, ms = 5000): Promise<void> {
      const end = Date.now() + ms;
      while (!pred(received)) {
        if (Date.now() > end) throw new Error(`frames never matched; got ${received.map((x) => `${x.type}@${x.streamId}`).join(' ')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
  socket.on('data', (chunk: Buffer) => {
    decoder.push(chunk);
    for (let f = decoder.next(); f !== null; f = decoder.next()) received.push(f);
  });
  socket.on('error', () => undefined);
  return peer;
}

export interface Child {
  proc: ChildProcess;
  /**
   * `http://HOST:PORT` of the port the child printed: h2c with prior knowledge, which the one port
   * serves whatever the printed scheme (so `connect(url)` needs no certificate).
   */
  url: string;
  /** The first line as printed (`https://…/` when the CLI serves TLS, its default). */
  printed: string;
  port: number;
  output(): string;
  exited: Promise<number | null>;
  alive(): boolean;
  stats(): Promise<ServerStats>;
  fds(): number;
  /** Waits until every stream count is 0 (the server released everything), and with `sockets`, the connection count too. */
  settled(ms?: number, sockets?: number): Promise<ServerStats>;
  stop(): Promise<void>;
}

let cacheHome: string | undefined;
/**
 * An `XDG_CACHE_HOME` for the CLI children of this spec file: they keep their development
 * certificate there, never in the user's cache (made on first use).
 */
export function testCacheHome(): string {
  cacheHome ??= mkdtempSync(path.join(tmpdir(), 'h2sched-cache-'));
  return cacheHome;
}

/**
 * Forks `script args` (the built CLI, or a fixture) with an IPC channel and `XDG_CACHE_HOME` set
 * to {@link testCacheHome} (unless `env` says otherwise); resolves with the URL of its first
 * line. `stats()` asks it over IPC, `fds()` counts /proc/PID/fd.
 */
export function child(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Child> {
  const proc = fork(script, args, { silent: true, execArgv: [], env: { ...process.env, XDG_CACHE_HOME: testCacheHome(), ...env } });
  let out = '';
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => { exitCode = code; r(code); }));
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      const first = out.length === 0 || !out.includes('\n');
      out += d.toString();
      const nl = out.indexOf('\n');
      if (first && nl > 0) {
        const printed = out.slice(0, nl);
        const u = new URL(printed);
        const c: Child = {
          proc, printed, url: `http://${u.host}`, port: Number(u.port), output: () => out, exited,
          alive: () => exitCode === undefined,
          stats: () => new Promise((res, rej) => {
            const t = setTimeout(() => rej(new Error('no stats answer')), 2000);
            proc.once('message', (m) => { clearTimeout(t); res(m as ServerStats); });
            proc.send({ type: 'stats' });
          }),
          fds: () => readdirSync(`/proc/${proc.pid}/fd`).length,
          settled: async (ms = 3000, sockets?: number) => {
            const end = Date.now() + ms;
            for (;;) {
              const s = await c.stats();
              if (s.exchanges + s.senderStreams + s.schedulerStreams + s.engineStreams === 0 && (sockets === undefined || s.connections === sockets)) return s;
              if (Date.now() > end) return s;
              await new Promise((r) => setTimeout(r, 25));
            }
          },
          stop: async () => {
            if (exitCode === undefined) proc.kill('SIGKILL');
            await exited;
          },
        };
        resolve(c);
      }
    });
    void exited.then((code) => reject(new Error(`exited (${code}) before printing its URL: ${out}`)));
  });
}

/** A raw h2c peer past the handshake (preface, our SETTINGS with `window` as the initial window, the ACK of the server's). */
export async function h2cPeer(port: number, window?: number) {
  const p = await rawPeer(port);
  const s = p.f.settings();
  if (window !== undefined) s.initialWindowSize(window);
  p.socket.write(Buffer.concat([p.f.preface(), s.encode(), p.f.settings().ack().encode()]));
  await p.until((fs) => fs.some((f) => f.type === FrameType.SETTINGS));
  return p;
}

/** A timeout for a race that must not keep the process alive once the race is won. */
export const deadline = (ms: number): Promise<unknown> => new Promise((r) => setTimeout(r, ms).unref());
export const goawayOf = (fs: Frame[]): GoawayFrame | undefined => fs.find((f) => f.type === FrameType.GOAWAY) as GoawayFrame | undefined;
export const resetsOf = (fs: Frame[], id: number): RstStreamFrame[] => fs.filter((f) => f.type === FrameType.RST_STREAM && f.streamId === id) as RstStreamFrame[];
/** DATA payload octets received on stream `id`. */
export const dataOf = (fs: Frame[], id: number): number => fs.filter((f) => f.type === FrameType.DATA && f.streamId === id).reduce((n, f) => n + (f as { data: Uint8Array }).data.length, 0);
