#!/usr/bin/env node
/**
 * The `h2sched` command. `h2sched serve [dir]` serves a directory, or the embedded demo site,
 * over HTTP/2 with the chosen send scheduler. The first line of output is the URL.
 */
import { readFileSync } from 'node:fs';
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
  -h, --help         this text

Cleartext h2c accepts prior knowledge (curl --http2-prior-knowledge) and HTTP/1.1
"Upgrade: h2c"; any other HTTP/1.1 request gets 505 with a hint.
The first line printed is the URL; then one line per connection. SIGINT or SIGTERM
drains the connections (GOAWAY) and exits.
`;

function fail(msg: string): never {
  process.stderr.write(`h2sched: ${msg}\n\n${HELP}`);
  process.exit(2);
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
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    fail((e as Error).message);
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
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad --port ${values.port}`);
  const scheduler = values.scheduler as SchedulerName;
  if (!SCHEDULER_NAMES.includes(scheduler)) fail(`unknown --scheduler ${values.scheduler}`);
  let tls: { cert: Buffer; key: Buffer } | undefined;
  if (values.tls) {
    if (!values.cert || !values.key) fail('--tls needs --cert and --key');
    tls = { cert: readFileSync(values.cert), key: readFileSync(values.key) };
  }
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
  const h2 = createH2Server(staticHandler(dir), {
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
        process.stdout.write(`refused ${refusedTotal - refusedLogged} connection(s) over --max-connections (${refusedTotal} in all)\n`);
        refusedLogged = refusedTotal;
      }, wait);
      refusedTimer.unref();
    },
    onClose: (info) => {
      process.stdout.write(`connection closed: ${info.requests} requests, ${info.bytesIn} bytes in, ${info.bytesOut} bytes out${info.error ? `, ${info.error}` : ''}\n`);
    },
  });
  h2.server.on(tls ? 'secureConnection' : 'connection', (socket) => {
    connections++;
    process.stdout.write(`connection ${connections} from ${socket.remoteAddress}:${socket.remotePort}\n`);
  });
  h2.server.on('error', (e) => fail(e.message));
  h2.server.listen(port, values.host, () => {
    const a = h2.server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    process.stdout.write(`${tls ? 'https' : 'http'}://${host}:${a.port}/\n`);
    process.stdout.write(`serving ${dir ?? 'the demo site'} over HTTP/2 (${tls ? 'TLS, ALPN h2' : 'h2c'}), scheduler ${scheduler}\n`);
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stdout.write(`${signal}: draining ${h2.sessions.size} connection(s)\n`);
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
