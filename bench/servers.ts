/**
 * The servers the speed bench compares, doing the same work, as child processes:
 *   node dist-bench/bench/servers.js h2sched|node PORT
 *   node dist-bench/bench/servers.js h2sched-files|node-files PORT DOCROOT
 * Paths: `/` a 12-octet body, `/64k` 64 KiB, POST anything: echo, `/__heap` the heap after a full
 * GC (needs --expose-gc), `/__hold` never answers (an open stream, for memory per stream).
 * The `-files` kinds serve DOCROOT: h2sched's static handler (as `h2sched serve DOCROOT` runs
 * it), and node:http2 with `respondWithFile` (its documented way to serve a file: it opens and
 * fstats the file per request and sends it from the descriptor in C++).
 * Prints "ready" once listening.
 */
import http2 from 'node:http2';
import path from 'node:path';
import mime from 'mime-types';
import { createH2Server } from '../lib/node/server.js';
import { staticHandler } from '../lib/node/static.js';

const SMALL = Buffer.from('hello world\n');
const BIG = Buffer.alloc(65536, 97);
const held: Array<() => void> = [];

function heap(): string {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; gc && i < 3; i++) gc();
  return String(process.memoryUsage().heapUsed);
}

// a clean exit on SIGINT writes --cpu-prof profiles
process.on('SIGINT', () => process.exit(0));

const [kind, portArg, docroot] = process.argv.slice(2);
const port = Number(portArg);
if (kind === 'h2sched') {
  const h2 = createH2Server(async (req, res) => {
    if (req.method === 'POST') {
      res.respond(200);
      await res.pipe(req.body);
      return;
    }
    if (req.path === '/__hold') return new Promise<void>((r) => held.push(r));
    const body = req.path === '/64k' ? BIG : req.path === '/__heap' ? Buffer.from(heap()) : SMALL;
    res.respond(200, [['content-type', 'text/plain'], ['content-length', String(body.length)]]);
    res.end(body);
  }, { connection: { localSettings: { maxConcurrentStreams: 1000 } } });
  h2.server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
} else if (kind === 'node') {
  const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    if (headers[':method'] === 'POST') {
      stream.respond({ ':status': 200 });
      stream.pipe(stream);
      return;
    }
    const p = headers[':path'];
    if (p === '/__hold') return;
    const body = p === '/64k' ? BIG : p === '/__heap' ? Buffer.from(heap()) : SMALL;
    stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': String(body.length) });
    stream.end(body);
  });
  server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
} else if (kind === 'h2sched-files' && docroot !== undefined) {
  const h2 = createH2Server(staticHandler(docroot), { connection: { localSettings: { maxConcurrentStreams: 1000 } } });
  h2.server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
} else if (kind === 'node-files' && docroot !== undefined) {
  const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
  const root = path.resolve(docroot);
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const file = path.join(root, decodeURIComponent(String(headers[':path']).split('?')[0]!));
    if (!file.startsWith(root + path.sep)) {
      stream.respond({ ':status': 404 });
      stream.end();
      return;
    }
    stream.respondWithFile(file, { 'content-type': mime.contentType(path.extname(file)) || 'application/octet-stream' }, {
      onError: () => {
        if (!stream.headersSent) stream.respond({ ':status': 404 });
        stream.end();
      },
    });
  });
  server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
} else {
  process.stderr.write('usage: servers.js h2sched|node PORT, or servers.js h2sched-files|node-files PORT DOCROOT\n');
  process.exit(2);
}
