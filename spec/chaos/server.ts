/**
 * The server under chaos: the built `h2sched serve DIR` (dist/node/cli.js) in a child process with
 * an IPC channel and `--expose-gc`, serving a temporary directory of files whose bytes we know.
 * Owns the child's lifetime (URL from the first stdout line, exit detection with the stderr tail),
 * the stats queries of the CLI's IPC contract (`{type:'stats'}` / `{type:'gc'}` answered with
 * `{type:'stats', connections, exchanges, senderStreams, schedulerStreams, engineStreams,
 * heapUsed}`), and the fd count from /proc/<pid>/fd.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The stream-record counts and heap the CLI reports over IPC. */
export interface ServerStats {
  connections: number;
  exchanges: number;
  senderStreams: number;
  schedulerStreams: number;
  engineStreams: number;
  heapUsed: number;
}

/** The counts that must be 0 once no client is connected. */
export const RECORD_COUNTS = ['connections', 'exchanges', 'senderStreams', 'schedulerStreams', 'engineStreams'] as const;

/** A file the server serves, with the bytes and content type it must answer with. */
export interface ServedFile {
  urlPath: string;
  body: Buffer;
  type: string;
}

/** Deterministic bytes (xorshift32) so that a seed also fixes the files' content. */
export function prngBytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = (seed | 0) || 0x9e3779b9;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    b.writeInt32LE(x | 0, i);
  }
  for (; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Writes the served tree into a new temporary directory. */
export function makeSite(seed: number): { root: string; files: Map<string, ServedFile> } {
  const root = mkdtempSync(path.join(tmpdir(), 'h2sched-chaos-'));
  const files = new Map<string, ServedFile>();
  const add = (rel: string, body: Buffer, type: string, urlPath = `/${rel}`) => {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, body);
    files.set(urlPath, { urlPath, body, type });
  };
  add('tiny.txt', Buffer.from('hello\n'), 'text/plain; charset=utf-8');
  add('16k.bin', prngBytes(16 << 10, seed ^ 1), 'application/octet-stream');
  add('200k.bin', prngBytes(200 << 10, seed ^ 2), 'application/octet-stream');
  add('5m.bin', prngBytes(5 << 20, seed ^ 3), 'application/octet-stream');
  const index = Buffer.from('<!doctype html><title>chaos</title><link rel=stylesheet href=/sub/deeper/site.css><p>h2sched chaos</p>\n');
  add('index.html', index, 'text/html; charset=utf-8');
  files.set('/', { urlPath: '/', body: index, type: 'text/html; charset=utf-8' });
  add('sub/deeper/site.css', Buffer.from('body { color: #123; }\n'), 'text/css; charset=utf-8');
  const subIndex = Buffer.from('<!doctype html><p>nested index</p>\n');
  add('sub/index.html', subIndex, 'text/html; charset=utf-8');
  files.set('/sub/', { urlPath: '/sub/', body: subIndex, type: 'text/html; charset=utf-8' });
  return { root, files };
}

/** Entries of /proc/<pid>/fd, or undefined where there is no /proc (not Linux) or the process is gone. */
export function fdCount(pid: number | undefined): number | undefined {
  if (pid === undefined || !existsSync('/proc/self/fd')) return undefined;
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** What the open fds are (sockets, files of the served tree, pipes…), counted, for a leak report. */
export function fdKinds(pid: number | undefined): string {
  if (pid === undefined) return '';
  const kinds = new Map<string, number>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`).replace(/\[\d+\]$/, '');
      } catch {
        continue;
      }
      kinds.set(target, (kinds.get(target) ?? 0) + 1);
    }
  } catch {
    return '';
  }
  return [...kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}× ${k}`).join(', ');
}

const TAIL = 64 * 1024;

/** One running `h2sched serve` child. */
export class ServerProcess {
  readonly url: string;
  readonly port: number;
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Resolves when the child exits (whatever the reason). */
  readonly exited: Promise<void>;
  private stderrTail = '';
  private stdoutTail = '';
  private waiting: Array<(s: ServerStats) => void> = [];
  private queue: Promise<unknown> = Promise.resolve();
  /** Set by stop(): the exit was ours, not a crash. */
  stopping = false;

  private constructor(readonly child: ChildProcess, url: string, exited: Promise<void>) {
    this.url = url;
    this.port = Number(new URL(url).port);
    this.exited = exited;
    child.on('message', (m: unknown) => {
      if (m && typeof m === 'object' && (m as { type?: unknown }).type === 'stats') {
        const w = this.waiting.shift();
        w?.(m as ServerStats);
      }
    });
  }

  /** Spawns the CLI and resolves once it printed its URL. */
  static start(cli: string, root: string, scheduler: string): Promise<ServerProcess> {
    // the CLI's default mode (TLS, with h2c and HTTP/1.1 on the same port); its development
    // certificate goes to a temporary cache, never the user's
    const child = spawn(process.execPath, ['--expose-gc', cli, 'serve', root, '--port', '0', '--scheduler', scheduler],
      { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, XDG_CACHE_HOME: mkdtempSync(path.join(tmpdir(), 'h2sched-chaos-cache-')) } });
    let info: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let self: ServerProcess | undefined;
    const exited = new Promise<void>((r) => child.on('exit', (code, signal) => {
      info = { code, signal };
      if (self) self.exitInfo = info;
      r();
    }));
    child.on('error', () => undefined);
    let out = '';
    let err = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`h2sched serve printed no URL in 10 s: ${out}${err}`));
      }, 10000);
      child.stderr!.on('data', (d: Buffer) => {
        if (self) self.stderrTail = (self.stderrTail + d.toString()).slice(-TAIL);
        else err += d.toString();
      });
      child.stdout!.on('data', (d: Buffer) => {
        if (self) {
          self.stdoutTail = (self.stdoutTail + d.toString()).slice(-4096);
          return;
        }
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl > 0) {
          clearTimeout(timer);
          // the clients speak h2c with prior knowledge, which the one port serves whatever the printed scheme
          self = new ServerProcess(child, `http://${new URL(out.slice(0, nl)).host}`, exited);
          self.stdoutTail = out.slice(nl + 1);
          self.stderrTail = err;
          self.exitInfo = info;
          resolve(self);
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        if (!self) reject(new Error(`h2sched serve exited (${info?.code ?? info?.signal}) before printing its URL: ${out}${err}`));
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** What the child wrote to stderr (the last 64 KiB): a crash's stack is here. */
  get stderr(): string {
    return this.stderrTail;
  }

  get stdout(): string {
    return this.stdoutTail;
  }

  fds(): number | undefined {
    return this.alive ? fdCount(this.pid) : undefined;
  }

  /** The CLI's counts, or undefined when it does not answer within `timeoutMs` (no IPC stats support, or dead). */
  stats(timeoutMs = 2000): Promise<ServerStats | undefined> {
    return this.ask({ type: 'stats' }, timeoutMs);
  }

  /** Asks the child to run a full GC, then its counts. */
  gc(timeoutMs = 5000): Promise<ServerStats | undefined> {
    return this.ask({ type: 'gc' }, timeoutMs);
  }

  private ask(msg: object, timeoutMs: number): Promise<ServerStats | undefined> {
    // one question at a time: answers carry no id, so they are matched in order
    const run = async (): Promise<ServerStats | undefined> => {
      if (!this.alive || !this.child.connected) return undefined;
      return new Promise<ServerStats | undefined>((resolve) => {
        let done = false;
        const settle = (s: ServerStats | undefined) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          const i = this.waiting.indexOf(w);
          if (i >= 0) this.waiting.splice(i, 1);
          resolve(valid(s) ? s : undefined);
        };
        const w = (s: ServerStats) => settle(s);
        const timer = setTimeout(() => settle(undefined), timeoutMs);
        this.waiting.push(w);
        try {
          this.child.send(msg, (e) => { if (e) settle(undefined); });
        } catch {
          settle(undefined);
        }
      });
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Ends the child: SIGTERM (drain), SIGKILL after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    this.stopping = true;
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => { if (this.alive) this.child.kill('SIGKILL'); }, graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

function valid(s: ServerStats | undefined): boolean {
  if (!s || typeof s !== 'object') return false;
  return [...RECORD_COUNTS, 'heapUsed'].every((k) => typeof (s as unknown as Record<string, unknown>)[k] === 'number');
}

/** Removes the temporary site. */
export function removeSite(root: string): void {
  rmSync(root, { recursive: true, force: true });
}
