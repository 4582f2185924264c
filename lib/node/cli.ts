#!/usr/bin/env node
/**
 * The `h2sched` command. `h2sched serve [dir]` serves a directory, or the embedded demo site,
 * over HTTP/2 with the chosen send scheduler. The first line of output is the URL.
 */
import { accessSync, constants as fsc, readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { SCHEDULER_NAMES } from '../priority/index.js';
import type { SchedulerName } from '../priority/scheduler.js';
import { MAX_TIMER } from './endpoint.js';
import { createH2Server } from './server.js';
import { staticHandler } from './static.js';

const HELP = `Usage: h2sched serve [dir] [options]

Serves [dir] (or, without it, an embedded demo site: a page with CSS, JS, fonts and images)
over HTTP/2. POST to any path echoes the request body.

Options:
  --port N           port to listen on; 0 picks a free one (default 8080)
  --host H           address to listen on (default 127.0.0.1)
  --tls              serve TLS with ALPN h2 instead of cleartext h2c (needs --cert and --key)
  --cert F, --key F  PEM certificate and private key for --tls
  --scheduler S      send scheduler: ${SCHEDULER_NAMES.join(' | ')} (default tree)
  --idle-timeout MS  close idle connections after MS milliseconds (default 120000)
  --drain-timeout MS on SIGINT/SIGTERM, reset the streams still open after MS
                     milliseconds and exit (default 30000)
  --handshake-timeout MS  close a connection without a complete preface and SETTINGS
                     (or HTTP/1.1 request head) MS after accept (default 10000)
  --header-timeout MS     GOAWAY a connection whose header block (HEADERS without
                     END_HEADERS) is not completed within MS (default 10000)
  --body-timeout MS  reset a stream whose handler waited MS for request body octets
                     that did not come (default 30000)
  --send-timeout MS  reset a response the client's flow-control windows kept at 0 for
                     MS; close a socket that accepted nothing for MS (default 60000)
  --max-connections N  close new sockets beyond N open ones (default 10000)
                     Every timeout: 0 turns it off.
  --log FORMAT       text | json | none: one line per connection opened and closed,
                     as text or JSON lines, or nothing but the URL (default text)
  -h, --help         this text

Cleartext h2c accepts prior knowledge (curl --http2-prior-knowledge) and HTTP/1.1
"Upgrade: h2c"; any other HTTP/1.1 request gets 505 with a hint.
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

function main(argv: string[]): void {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string', default: '8080' },
        host: { type: 'string', default: '127.0.0.1' },
        tls: { type: 'boolean', default: false },
        cert: { type: 'string' },
        key: { type: 'string' },
        scheduler: { type: 'string', default: 'tree' },
        'idle-timeout': { type: 'string', default: '120000' },
        'drain-timeout': { type: 'string', default: '30000' },
        'handshake-timeout': { type: 'string', default: '10000' },
        'header-timeout': { type: 'string', default: '10000' },
        'body-timeout': { type: 'string', default: '30000' },
        'send-timeout': { type: 'string', default: '60000' },
        'max-connections': { type: 'string', default: '10000' },
        log: { type: 'string', default: 'text' },
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
  /** One log line (the URL line is printed whatever --log says). */
  const line = (json: Record<string, unknown>, text: string): void => {
    if (log === 'none') return;
    process.stdout.write(`${log === 'json' ? JSON.stringify({ time: new Date().toISOString(), ...json }) : text}\n`);
  };
  let tls: { cert: Buffer; key: Buffer } | undefined;
  if (values.tls) {
    if (!values.cert || !values.key) fail('--tls needs --cert and --key');
    tls = { cert: pem('cert', values.cert), key: pem('key', values.key) };
  } else if (values.cert || values.key) fail('--cert and --key go with --tls');
  const count = (flag: 'drain-timeout' | 'handshake-timeout' | 'header-timeout' | 'body-timeout' | 'send-timeout' | 'max-connections' | 'idle-timeout'): number => {
    const raw = values[flag]!;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n)) fail(`--${flag} must be a whole number, not ${raw}`);
    if (flag !== 'max-connections' && n > MAX_TIMER) fail(`--${flag} must be at most ${MAX_TIMER} ms (about 24.8 days)`);
    return n;
  };
  const drainTimeoutMs = count('drain-timeout');
  let refusedLogged = 0;
  let refusedTotal = 0;
  let lastRefusedLog = 0;
  let refusedTimer: NodeJS.Timeout | undefined;
  let connections = 0;
  const h2 = createH2Server(staticHandler(dir, { scheduler }), {
    tls,
    scheduler,
    drainTimeoutMs,
    idleTimeout: count('idle-timeout'),
    handshakeTimeout: count('handshake-timeout'),
    headerTimeout: count('header-timeout'),
    bodyTimeout: count('body-timeout'),
    sendTimeout: count('send-timeout'),
    maxConnections: count('max-connections'),
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
  h2.server.on('connection', (socket) => {
    connections++;
    line({ event: 'connection', n: connections, remote: `${socket.remoteAddress}:${socket.remotePort}` },
      `connection ${connections} from ${socket.remoteAddress}:${socket.remotePort}`);
  });
  h2.server.on('error', (e: NodeJS.ErrnoException) => {
    process.stderr.write(`h2sched: cannot listen on ${values.host}:${port}: ${e.code === 'EADDRINUSE' ? 'the address is in use' : e.message}\n`);
    process.exit(1);
  });
  h2.server.listen(port, values.host, () => {
    const a = h2.server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    process.stdout.write(`${tls ? 'https' : 'http'}://${host}:${a.port}/\n`);
    line({ event: 'listening', dir: dir ?? null, tls: tls !== undefined, scheduler },
      `serving ${dir ?? 'the demo site'} over HTTP/2 (${tls ? 'TLS, ALPN h2' : 'h2c'}), scheduler ${scheduler}`);
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    line({ event: 'draining', signal, connections: h2.sessions.size }, `${signal}: draining ${h2.sessions.size} connection(s)`);
    // the drain resets what is left after --drain-timeout; this is only the last resort
    const force = setTimeout(() => process.exit(0), drainTimeoutMs + 5000);
    force.unref();
    void h2.close().then(() => process.exit(0));
  };
  // Started with an IPC channel (child_process.fork), the server answers { type: 'stats' } with what
  // it holds (tests and `npm run chaos` check that every count returns to 0), and { type: 'gc' }
  // collects garbage first when node runs with --expose-gc.
  process.on('message', (m: { type?: string }) => {
    if (m?.type !== 'stats' && m?.type !== 'gc') return;
    if (m.type === 'gc') (globalThis as { gc?: () => void }).gc?.();
    try {
      process.send?.({ type: 'stats', ...h2.stats(), heapUsed: process.memoryUsage().heapUsed });
    } catch {
      /* the parent went away */
    }
  });
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

// Output nobody reads any more (a closed pipe: EPIPE) must not end the server.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

main(process.argv.slice(2));
