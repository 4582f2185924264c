#!/usr/bin/env node
/**
 * The `h2sched` command. `h2sched serve [dir]` serves a directory, or the embedded demo site,
 * over HTTP/2 with the chosen send scheduler, on one port for every client: TLS (with a
 * generated development certificate unless --cert/--key are given), h2c and HTTP/1.1. The first
 * line of output is the URL. With --workers N the primary process forks N workers that share
 * the port (lib/node/workers.ts); each worker runs this same command line.
 */
import cluster from 'node:cluster';
import { accessSync, constants as fsc, readFileSync, statSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { SCHEDULER_NAMES } from '../priority/index.js';
import type { SchedulerName } from '../priority/scheduler.js';
import { localCertificate, type LocalCertificate, LOCAL_CERT_NAMES } from './devcert.js';
import { connectionWindowOf, DEFAULT_CONNECTION_WINDOW, MAX_TIMER } from './endpoint.js';
import { createH2Server } from './server.js';
import { FILE_CACHE_DEFAULTS } from './file-cache.js';
import { DEFAULT_READ_AHEAD, setFilePrefetchLimit } from './file-source.js';
import { staticHandler } from './static.js';
import { DRAIN_MESSAGE, startWorkers, WORKER_SLOT_ENV } from './workers.js';

const HELP = `Usage: h2sched serve [dir] [options]

Serves [dir] (or, without it, an embedded demo site: a page with CSS, JS, fonts and images)
over HTTP/2. POST to any path echoes the request body.

Options:
  --port N           port to listen on; 0 picks a free one (default 8080)
  --host H           address to listen on (default 127.0.0.1)
  --cert F, --key F  PEM certificate and private key to serve TLS with. Without them
                     TLS uses a self-signed certificate for localhost, 127.0.0.1 and
                     ::1, made once and kept in $XDG_CACHE_HOME/h2sched/ (by default
                     ~/.cache/h2sched/, which must be a directory of yours, not a
                     link); it is made anew when expired, unreadable, or its key is
                     readable by others
  --no-tls           cleartext only: h2c, and 505 with a hint for other HTTP/1.1
  --tls              TLS (the default; accepted for older scripts)
  --workers N|auto   N processes share the port (node:cluster); auto: one per CPU;
                     a worker that dies is replaced (default 1: no workers)
  --scheduler S      send scheduler: ${SCHEDULER_NAMES.join(' | ')} (default tree)
  --idle-timeout MS  close idle connections after MS milliseconds (default 120000)
  --drain-timeout MS on SIGINT/SIGTERM, reset the streams still open after MS
                     milliseconds and exit (default 30000)
  --handshake-timeout MS  close a connection without a complete TLS handshake, preface
                     and SETTINGS (or HTTP/1.1 request head) MS after accept (default 10000)
  --header-timeout MS     GOAWAY a connection whose header block (HEADERS without
                     END_HEADERS) is not completed within MS (default 10000)
  --body-timeout MS  reset a stream whose handler waited MS for request body octets
                     that did not come (default 30000)
  --send-timeout MS  reset a response the client's flow-control windows kept at 0 for
                     MS; close a socket that accepted nothing for MS (default 60000)
  --max-connections N  close new sockets beyond N open ones, per worker (default 10000)
                     Every timeout: 0 turns it off.
  --connection-window N  request body octets a connection may have unread, all streams
                     together (65535..2147483647, default 1048576: 16 stream windows)
  --dotfiles MODE    deny | allow: paths with a segment starting with "." are not
                     found (404), or served (default deny)
  --cache-entries N  open-file cache: paths remembered, each file not held in memory
                     keeps one descriptor open (default ${FILE_CACHE_DEFAULTS.entries})
  --cache-memory N   octets of small files held in memory, all together (default ${FILE_CACHE_DEFAULTS.memory})
  --cache-file-max N files up to N octets are held in memory (default ${FILE_CACHE_DEFAULTS.memoryFileMax})
  --cache-valid MS   trust a cached path for MS, then stat it again (default ${FILE_CACHE_DEFAULTS.validMs})
  --read-ahead N     octets of file bodies read ahead, all responses together; above
                     it a response reads a frame at a time (default ${DEFAULT_READ_AHEAD})
  --file-reads MODE  prefetch | async | sync: read file bodies ahead of the window on
                     libuv's pool (a stream picked before its read-ahead arrived reads
                     one frame synchronously), only ahead, or only synchronously when
                     the stream is picked (default prefetch)
  --log FORMAT       text | json | none: one line per connection opened and closed,
                     as text or JSON lines, or nothing but the URL (default text)
  -h, --help         this text

One port for every client; the first octets decide: a TLS ClientHello gets TLS with
ALPN h2, the HTTP/2 preface gets h2c (curl --http2-prior-knowledge), an HTTP/1.1
request with "Upgrade: h2c" is upgraded, and any other HTTP/1.1 request is redirected
(308) to https:// on the same port (with --no-tls: 505 with a hint); a malformed one (no
Host, a target that is not a path or an http(s) URL) gets 400.
The first line printed is the URL; then one line per connection. SIGINT or SIGTERM
drains the connections (GOAWAY) and exits.
`;

/** A mistake on the command line: one line saying what, one saying where to look; status 2. */
function fail(msg: string): never {
  process.stderr.write(`h2sched: ${msg}\nsee h2sched serve --help\n`);
  process.exit(2);
}

/** The directory to serve, refused at start when it cannot be served. */
function servableDir(dir: string): string {
  let st;
  try {
    st = statSync(dir);
  } catch {
    fail(`cannot serve ${dir}: no such directory`);
  }
  if (!st.isDirectory()) fail(`cannot serve ${dir}: not a directory`);
  try {
    accessSync(dir, fsc.R_OK | fsc.X_OK);
  } catch {
    fail(`cannot serve ${dir}: not readable`);
  }
  return dir;
}

/** A PEM file for --cert / --key, or a one-line refusal. */
function pem(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    fail(`cannot read --${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** One log line (the URL line is printed whatever --log says); a worker's lines name it. */
type Line = (json: Record<string, unknown>, text: string) => void;

function logger(log: 'text' | 'json' | 'none', worker: number): Line {
  return (json, text) => {
    if (log === 'none') return;
    const w = worker > 0 ? { worker, ...json } : json;
    process.stdout.write(`${log === 'json' ? JSON.stringify({ time: new Date().toISOString(), ...w }) : worker > 0 ? `worker ${worker}: ${text}` : text}\n`);
  };
}

/** TLS material to serve with, and what to say about it. */
interface TlsMaterial {
  cert: Buffer | string;
  key: Buffer | string;
  /** The development certificate, when it is the one used. */
  local?: LocalCertificate;
}

/** The development certificate from the per-user cache (made when needed), or a one-line failure with status 1. */
async function developmentCertificate(): Promise<LocalCertificate> {
  try {
    // said once on stderr: a start that waits is not a start that hangs
    return await localCertificate({ onWait: (pid, file) => process.stderr.write(`h2sched: waiting for process ${pid}, which is making the development certificate (${file})\n`) });
  } catch (e) {
    process.stderr.write(`h2sched: cannot keep the development certificate: ${(e as Error).message}\n` +
      'h2sched: give one with --cert and --key, or serve cleartext with --no-tls\n');
    process.exit(1);
  }
}

/** `argv` with `options` after the user's (a later option wins), before a `--` that ends the options. */
function withOptions(argv: string[], options: string[]): string[] {
  const end = argv.indexOf('--');
  return end < 0 ? [...argv, ...options] : [...argv.slice(0, end), ...options, ...argv.slice(end)];
}

/** The URL clients use: the scheme and the address as listened on. */
function urlOf(secure: boolean, address: string, family: string | number, port: number): string {
  const host = family === 'IPv6' || family === 6 ? `[${address}]` : address;
  return `${secure ? 'https' : 'http'}://${host}:${port}/`;
}

/**
 * SIGINT/SIGTERM before the server (or the primary's workers) started: nothing to drain yet, so
 * the process exits 0 at once (a certificate-cache lock it holds is released on exit). The
 * handlers that drain replace this one once there is something to drain.
 */
const stopEarly = (): never => process.exit(0);

/**
 * Hands SIGINT and SIGTERM from {@link stopEarly} to `stop`: the new listener first, so that a
 * signal never has none (Node stops watching a signal with no listener, and one that had arrived
 * but was not yet dispatched is lost).
 */
function onSignals(stop: (signal: string) => void): void {
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.off('SIGINT', stopEarly);
  process.off('SIGTERM', stopEarly);
}

async function main(argv: string[]): Promise<void> {
  process.on('SIGINT', stopEarly);
  process.on('SIGTERM', stopEarly);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string', default: '8080' },
        host: { type: 'string', default: '127.0.0.1' },
        tls: { type: 'boolean', default: false },
        'no-tls': { type: 'boolean', default: false },
        cert: { type: 'string' },
        key: { type: 'string' },
        workers: { type: 'string', default: '1' },
        scheduler: { type: 'string', default: 'tree' },
        'idle-timeout': { type: 'string', default: '120000' },
        'drain-timeout': { type: 'string', default: '30000' },
        'handshake-timeout': { type: 'string', default: '10000' },
        'header-timeout': { type: 'string', default: '10000' },
        'body-timeout': { type: 'string', default: '30000' },
        'send-timeout': { type: 'string', default: '60000' },
        'max-connections': { type: 'string', default: '10000' },
        'connection-window': { type: 'string', default: String(DEFAULT_CONNECTION_WINDOW) },
        log: { type: 'string', default: 'text' },
        dotfiles: { type: 'string', default: 'deny' },
        'cache-entries': { type: 'string', default: String(FILE_CACHE_DEFAULTS.entries) },
        'cache-memory': { type: 'string', default: String(FILE_CACHE_DEFAULTS.memory) },
        'cache-file-max': { type: 'string', default: String(FILE_CACHE_DEFAULTS.memoryFileMax) },
        'cache-valid': { type: 'string', default: String(FILE_CACHE_DEFAULTS.validMs) },
        'file-reads': { type: 'string', default: 'prefetch' },
        'read-ahead': { type: 'string', default: String(DEFAULT_READ_AHEAD) },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    // parseArgs explains itself in a sentence; keep the first one
    fail((e as Error).message.split('\n')[0]!.split('. ')[0]!.replace(/\.$/, ''));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    process.stdout.write(HELP);
    process.exit(values.help ? 0 : 2);
  }
  const [command, dir, ...extra] = positionals;
  if (command !== 'serve') fail(`unknown command ${command}`);
  if (extra.length > 0) fail(`unexpected arguments: ${extra.join(' ')}`);
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) fail(`--port must be an integer 0–65535, not ${values.port}`);
  const scheduler = values.scheduler as SchedulerName;
  if (!SCHEDULER_NAMES.includes(scheduler)) fail(`unknown --scheduler ${values.scheduler} (one of ${SCHEDULER_NAMES.join(', ')})`);
  const log = values.log;
  if (log !== 'text' && log !== 'json' && log !== 'none') fail(`--log must be text, json or none, not ${log}`);
  if (dir !== undefined) servableDir(dir);
  const workers = values.workers === 'auto' ? availableParallelism() : Number(values.workers);
  if (values.workers !== 'auto' && (!/^\d+$/.test(values.workers) || workers < 1 || workers > 1024)) fail(`--workers must be a whole number 1–1024 or auto, not ${values.workers}`);
  // in a worker (forked by the primary of --workers) its slot number, else 0
  const worker = cluster.isWorker ? Number(process.env[WORKER_SLOT_ENV] ?? cluster.worker?.id ?? 1) : 0;
  const line = logger(log, worker);
  // TLS: files given, else the development certificate; --no-tls: none
  if (values.tls && values['no-tls']) fail('--tls and --no-tls contradict each other');
  if ((values.cert === undefined) !== (values.key === undefined)) fail(values.cert === undefined ? '--key needs --cert' : '--cert needs --key');
  if (values['no-tls'] && values.cert !== undefined) fail('--cert and --key serve TLS: leave out --no-tls');
  type CountFlag = 'drain-timeout' | 'handshake-timeout' | 'header-timeout' | 'body-timeout' | 'send-timeout' | 'max-connections' | 'idle-timeout'
    | 'cache-entries' | 'cache-memory' | 'cache-file-max' | 'cache-valid' | 'read-ahead' | 'connection-window';
  const count = (flag: CountFlag): number => {
    const raw = values[flag]!;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n)) fail(`--${flag} must be a whole number, not ${raw}`);
    if ((flag.endsWith('-timeout') || flag === 'cache-valid') && n > MAX_TIMER) fail(`--${flag} must be at most ${MAX_TIMER} ms (about 24.8 days)`);
    return n;
  };
  if (values.dotfiles !== 'deny' && values.dotfiles !== 'allow') fail(`--dotfiles must be deny or allow, not ${values.dotfiles}`);
  const reads = values['file-reads'];
  if (reads !== 'prefetch' && reads !== 'async' && reads !== 'sync') fail(`--file-reads must be prefetch, async or sync, not ${reads}`);
  if (count('cache-entries') < 1) fail('--cache-entries must be at least 1');
  setFilePrefetchLimit(count('read-ahead'));
  const fileOptions = {
    scheduler,
    dotfiles: values.dotfiles,
    entries: count('cache-entries'),
    memory: count('cache-memory'),
    memoryFileMax: count('cache-file-max'),
    validMs: count('cache-valid'),
    source: { mode: reads },
  } as const;
  const drainTimeoutMs = count('drain-timeout');
  // every number is checked before a certificate is made
  const limits = {
    idleTimeout: count('idle-timeout'),
    handshakeTimeout: count('handshake-timeout'),
    headerTimeout: count('header-timeout'),
    bodyTimeout: count('body-timeout'),
    sendTimeout: count('send-timeout'),
    maxConnections: count('max-connections'),
    connectionWindow: count('connection-window'),
  };
  try {
    connectionWindowOf(limits.connectionWindow);
  } catch {
    fail('--connection-window must be in 65535..2147483647');
  }
  let tls: TlsMaterial | undefined;
  if (values.cert !== undefined && values.key !== undefined) tls = { cert: pem('cert', values.cert), key: pem('key', values.key) };
  else if (!values['no-tls']) {
    const local = await developmentCertificate();
    tls = { cert: local.cert, key: local.key, local };
  }
  /** The listening line and the certificate's, after the URL. */
  const started = (url: string, extraJson: Record<string, unknown> = {}, extraText = ''): void => {
    line({ event: 'listening', url, dir: dir ?? null, tls: tls !== undefined, scheduler, ...extraJson },
      `serving ${dir ?? 'the demo site'} over HTTP/2 (${tls ? 'TLS with ALPN h2; h2c and HTTP/1.1 on the same port' : 'cleartext h2c, no TLS'}), scheduler ${scheduler}${extraText}`);
    if (tls?.local) {
      const c = tls.local;
      line({ event: 'certificate', file: c.certFile, key: c.keyFile, generated: c.generated ?? null, fingerprint256: c.fingerprint256, validTo: c.validTo.toISOString(), names: LOCAL_CERT_NAMES },
        `certificate ${c.certFile} (${c.generated ? `made now: ${c.generated}` : 'reused'}; self-signed for ${LOCAL_CERT_NAMES.join(', ')}; ` +
        `valid until ${c.validTo.toISOString().slice(0, 10)}; SHA-256 ${c.fingerprint256})`);
    } else if (tls) line({ event: 'certificate', file: values.cert }, `certificate ${values.cert}`);
  };

  if (workers > 1 && cluster.isPrimary) {
    // the workers run this command line; the primary hands them the certificate it resolved
    const args = withOptions(argv, tls?.local ? ['--cert', tls.local.certFile, '--key', tls.local.keyFile] : []);
    await supervise({ args, workers, host: values.host, port, secure: tls !== undefined, drainTimeoutMs, line, started });
    return;
  }

  // the file cache (and its descriptors) lives where requests are served: here, or in each worker
  const files = staticHandler(dir, fileOptions);
  let refusedLogged = 0;
  let refusedTotal = 0;
  let lastRefusedLog = 0;
  let refusedTimer: NodeJS.Timeout | undefined;
  let connections = 0;
  const h2 = createH2Server(files, {
    tls,
    scheduler,
    drainTimeoutMs,
    ...limits,
    onRefused: (total) => {
      // at most one line a second, however fast sockets are refused; the last ones are logged too
      refusedTotal = total;
      if (refusedTimer !== undefined) return;
      const wait = Math.max(0, lastRefusedLog + 1000 - Date.now());
      refusedTimer = setTimeout(() => {
        refusedTimer = undefined;
        lastRefusedLog = Date.now();
        line({ event: 'refused', count: refusedTotal - refusedLogged, total: refusedTotal },
          `refused ${refusedTotal - refusedLogged} connection(s) over --max-connections (${refusedTotal} in all)`);
        refusedLogged = refusedTotal;
      }, wait);
      refusedTimer.unref();
    },
    onClose: (info) => {
      line({ event: 'closed', requests: info.requests, bytesIn: info.bytesIn, bytesOut: info.bytesOut, ...(info.error ? { error: info.error } : {}) },
        `connection closed: ${info.requests} requests, ${info.bytesIn} bytes in, ${info.bytesOut} bytes out${info.error ? `, ${info.error}` : ''}`);
    },
  });
  // at accept, before the first octets say what the connection is (one refused over
  // --max-connections was destroyed by the server's own listener: it has its 'refused' line)
  h2.server.on('connection', (socket) => {
    if (socket.destroyed) return;
    connections++;
    line({ event: 'connection', n: connections, remote: `${socket.remoteAddress}:${socket.remotePort}` },
      `connection ${connections} from ${socket.remoteAddress}:${socket.remotePort}`);
  });
  h2.server.on('error', (e: NodeJS.ErrnoException) => {
    process.stderr.write(`h2sched: cannot listen on ${values.host}:${port}: ${e.code === 'EADDRINUSE' ? 'the address is in use' : e.message}\n`);
    process.exit(1);
  });
  let stopping = false;
  h2.server.listen(port, values.host, () => {
    if (worker > 0 || stopping) return; // the primary prints the URL once every worker listens
    const a = h2.server.address() as AddressInfo;
    const url = urlOf(tls !== undefined, a.address, a.family, a.port);
    process.stdout.write(`${url}\n`);
    started(url);
  });
  const stop = (signal: string) => {
    if (stopping) {
      // a second signal ends it now; a worker leaves that to its primary (a terminal's Ctrl-C
      // reaches the workers too, and the primary's drain request follows)
      if (worker === 0) process.exit(1);
      return;
    }
    stopping = true;
    line({ event: 'draining', signal, connections: h2.sessions.size }, `${signal}: draining ${h2.sessions.size} connection(s)`);
    // the drain resets what is left after --drain-timeout; this is only the last resort
    const force = setTimeout(() => process.exit(0), drainTimeoutMs + 5000);
    force.unref();
    void h2.close().then(() => {
      files.close();
      process.exit(0);
    });
  };
  // Started with an IPC channel (child_process.fork, or a worker of the primary), the server
  // answers { type: 'stats' } with what it holds (tests and `npm run chaos` check that every
  // count returns to 0), and { type: 'gc' } collects garbage first when node runs with --expose-gc;
  // a worker drains on its primary's { type: 'h2sched:drain' }.
  process.on('message', (m: { type?: string }) => {
    if (m?.type === DRAIN_MESSAGE.type) return stop('the primary\'s drain request');
    if (m?.type !== 'stats' && m?.type !== 'gc') return;
    if (m.type === 'gc') (globalThis as { gc?: () => void }).gc?.();
    try {
      process.send?.({ type: 'stats', ...h2.stats(), heapUsed: process.memoryUsage().heapUsed, files: files.cache?.stats() });
    } catch {
      /* the parent went away */
    }
  });
  onSignals(stop);
}

/**
 * The primary of --workers: forks them, prints the URL once all listen, sums their stats for an
 * IPC parent, and on SIGINT/SIGTERM drains them all and exits when the last one has (a second
 * signal kills them). Exits 1 when the first workers cannot start or every slot was given up.
 */
async function supervise(o: { args: string[]; workers: number; host: string; port: number; secure: boolean; drainTimeoutMs: number; line: Line; started: (url: string, json: Record<string, unknown>, text: string) => void }): Promise<void> {
  // --port 0: the primary picks the port, so that a worker replaced after all had died gets the same one
  const port = o.port !== 0 ? o.port : await new Promise<number>((resolve) => {
    const probe = createServer();
    probe.on('error', (e: NodeJS.ErrnoException) => {
      process.stderr.write(`h2sched: cannot listen on ${o.host}:0: ${e.message}\n`);
      process.exit(1);
    });
    probe.listen(0, o.host, () => {
      const { port: p } = probe.address() as AddressInfo;
      probe.close(() => resolve(p));
    });
  });
  const pool = startWorkers({
    count: o.workers,
    args: withOptions(o.args, ['--port', String(port)]),
    log: o.line,
    warn: (text) => process.stderr.write(`h2sched: ${text}\n`),
  });
  let stopping = false;
  pool.listening.then((a) => {
    if (stopping) return; // stopped while the workers started: no URL to use
    const url = urlOf(o.secure, a.address, a.addressType, a.port);
    process.stdout.write(`${url}\n`);
    o.started(url, { workers: a.workers }, `, ${a.workers.length} workers`);
    for (const w of a.workers) o.line({ event: 'worker', worker: w.slot, pid: w.pid, state: 'listening' }, `worker ${w.slot} listening (pid ${w.pid})`);
  }, (e: Error) => {
    process.stderr.write(`h2sched: ${e.message}\n`);
    pool.kill();
    process.exit(1);
  });
  void pool.empty.then(() => {
    process.stderr.write('h2sched: no worker left\n');
    process.exit(1);
  });
  const stop = (signal: string) => {
    if (stopping) {
      pool.kill();
      process.exit(1);
    }
    stopping = true;
    const pids = pool.pids();
    o.line({ event: 'draining', signal, workers: pids }, `${signal}: draining ${pids.length} worker(s)`);
    // each worker resets what is left after --drain-timeout and exits; this is the last resort
    const force = setTimeout(() => {
      pool.kill();
      process.exit(1);
    }, o.drainTimeoutMs + 10000);
    force.unref();
    // (a worker still starting is asked again once it listens)
    void pool.drain().then(() => process.exit(0));
  };
  onSignals(stop);
  // an IPC parent's stats: every worker's, summed; `workers` lists their pids
  process.on('message', (m: { type?: string }) => {
    if (m?.type !== 'stats' && m?.type !== 'gc') return;
    void pool.ask(m as { type: string }, 'stats').then((answers) => {
      const sum: Record<string, unknown> = { type: 'stats' };
      for (const a of answers as Array<Record<string, unknown>>) {
        for (const [k, v] of Object.entries(a)) if (typeof v === 'number') sum[k] = ((sum[k] as number | undefined) ?? 0) + v;
      }
      try {
        process.send?.({ ...sum, workers: pool.pids(), answered: answers.length });
      } catch {
        /* the parent went away */
      }
    });
  });
}

// Output nobody reads any more (a closed pipe: EPIPE) must not end the server.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`h2sched: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
