// The node:http2 compatibility API (createCompatServer) on real sockets, fetched with node:http2's
// client and ours: what `req` and `res` show and accept (side by side with node:http2's own
// compatibility server where the two must agree), back-pressure both ways, aborts, containment of
// everything an application can throw, the server object frameworks touch, and TLS.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { UsageError } from '../../lib/errors.js';
import { connect } from '../../lib/node/client.js';
import { type CompatListener, type CompatRequest, type CompatResponse, type CompatServerOptions, createCompatServer } from '../../lib/node/compat.js';
import { itWith } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function serve(listener: CompatListener, options: CompatServerOptions = {}) {
  const server = createCompatServer({ lingerMs: 200, ...options }, listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { server, port, url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Waits until no stream record is left anywhere in the server. */
async function settled(server: ReturnType<typeof createCompatServer>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const s = server.stats();
    if (s.exchanges + s.senderStreams + s.schedulerStreams + s.engineStreams === 0) return;
    await sleep(10);
  }
  expect(server.stats()).toMatchObject({ exchanges: 0, senderStreams: 0, schedulerStreams: 0, engineStreams: 0 });
}

type NodeResult = { status: number; headers: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders | undefined; informational: number[] };

function nodeRequest(client: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer | string, trailers?: http2.OutgoingHttpHeaders): Promise<NodeResult> {
  return new Promise((resolve, reject) => {
    const req = client.request(headers, { waitForTrailers: trailers !== undefined, endStream: body === undefined && trailers === undefined });
    const chunks: Buffer[] = [];
    const informational: number[] = [];
    let res: http2.IncomingHttpHeaders = {};
    let t: http2.IncomingHttpHeaders | undefined;
    req.on('headers', (h) => informational.push(Number(h[':status'])));
    req.on('response', (h) => { res = h; });
    req.on('trailers', (h) => { t = h; });
    req.on('wantTrailers', () => req.sendTrailers(trailers!));
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => resolve({ status: Number(res[':status']), headers: res, body: Buffer.concat(chunks), trailers: t, informational }));
    req.on('error', reject);
    if (body !== undefined || trailers !== undefined) req.end(body);
  });
}

/** What a listener saw of a request, for comparing with node:http2's own compatibility server. */
function describeRequest(req: CompatRequest | http2.Http2ServerRequest) {
  const port = String(req.socket.localPort);
  const unport = (v: unknown) => (typeof v === 'string' ? v.replace(port, 'PORT') : v);
  return {
    method: req.method, url: req.url, authority: unport(req.authority), scheme: req.scheme,
    httpVersion: req.httpVersion, major: req.httpVersionMajor, minor: req.httpVersionMinor,
    headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, unport(v)])),
    // cookie crumbs: node:http2 lists each in rawHeaders, our engine has joined them (RFC 9113 §8.2.3)
    rawHeaders: req.rawHeaders.map(unport).filter((v, i, a) => v !== 'cookie' && a[i - 1] !== 'cookie'),
    complete: req.complete, aborted: req.aborted,
    socket: { remoteAddress: req.socket.remoteAddress, family: req.socket.remoteFamily, localAddress: req.socket.localAddress, sameAsConnection: req.socket === req.connection },
  };
}

describe('req: the request as node:http2 shows it', () => {
  it('headers (repeated fields joined as node joins them, pseudo-headers included), rawHeaders, method, url, authority, scheme, version, socket fields: the same as node:http2\'s own compatibility server', async () => {
    const seen: unknown[] = [];
    const ports: Array<[number | undefined, number | undefined, boolean]> = [];
    const rawCookies: string[] = [];
    const listener = (req: CompatRequest | http2.Http2ServerRequest, res: CompatResponse | http2.Http2ServerResponse) => {
      seen.push(describeRequest(req));
      if (rawCookies.length === 0) rawCookies.push(...req.rawHeaders.filter((v, i, a) => v === 'cookie' || a[i - 1] === 'cookie'));
      ports.push([req.socket.remotePort, req.socket.localPort, (req.socket as { encrypted?: boolean }).encrypted === true]);
      res.end('ok');
    };
    const ours = await serve(listener);
    const theirs = http2.createServer(listener);
    await new Promise<void>((r) => theirs.listen(0, '127.0.0.1', () => r()));
    const theirPort = (theirs.address() as AddressInfo).port;
    const headers = { ':method': 'GET', ':path': '/a/b?c=1&d=%20', cookie: ['a=1', 'b=2'], 'set-cookie': ['s=1', 't=2'], 'x-rep': ['1', '2'], 'user-agent': 'compat-spec', accept: '*/*' };
    try {
      for (const port of [ours.port, theirPort]) {
        const c = http2.connect(`http://127.0.0.1:${port}`);
        expect((await nodeRequest(c, headers)).body.toString()).toBe('ok');
        c.close();
      }
      expect(seen[0]).toEqual(seen[1]);
      expect(seen[0]).toMatchObject({
        method: 'GET', url: '/a/b?c=1&d=%20', authority: '127.0.0.1:PORT', scheme: 'http', httpVersion: '2.0', major: 2, minor: 0,
        headers: { ':path': '/a/b?c=1&d=%20', cookie: 'a=1; b=2', 'set-cookie': ['s=1', 't=2'], 'x-rep': '1, 2', 'user-agent': 'compat-spec' },
        socket: { remoteAddress: '127.0.0.1', sameAsConnection: true },
      });
      expect((seen[0] as { rawHeaders: string[] }).rawHeaders.slice(0, 2)).toEqual([':method', 'GET']);
      expect(rawCookies).toEqual(['cookie', 'a=1; b=2']);
      expect(ports[0]![0]).toBeGreaterThan(0);
      expect(ports[0]![1]).toBe(ours.port);
      expect(ports[0]![2]).toBe(false);
    } finally {
      await ours.close();
      await new Promise((r) => theirs.close(r));
    }
  });

  it('the socket stand-in cannot be read, written or paused (other streams share the connection); destroy() resets only its stream', async () => {
    const thrown: string[] = [];
    const { server, url, close } = await serve((req, res) => {
      for (const f of ['write', 'read', 'pause', 'resume'] as const) {
        try {
          (req.socket[f] as () => void)();
        } catch (e) {
          thrown.push((e as { code: string }).code);
        }
      }
      if (req.url === '/destroy') req.socket.destroy();
      else res.end('alive');
    });
    const client = await connect(url);
    try {
      const r = await client.request({ path: '/destroy' });
      await expect(r.bytes()).rejects.toThrow(/reset/);
    } catch (e) {
      expect(String(e)).toMatch(/reset|closed/); // the reset may come before the headers
    }
    try {
      expect(await (await client.request({ path: '/' })).text()).toBe('alive'); // same connection
      expect(thrown).toEqual(Array(8).fill('ERR_HTTP2_NO_SOCKET_MANIPULATION'));
      await settled(server);
    } finally {
      client.destroy();
      await close();
    }
  });
});

describe('res: headers', () => {
  it('writeHead in all its forms; setHeader/getHeader/getHeaders/getHeaderNames/hasHeader/removeHeader; statusMessage ignored; a date header unless sendDate is false', async () => {
    const notes: Record<string, unknown> = {};
    const { url, close } = await serve((req, res) => {
      switch (req.url) {
        case '/methods': {
          res.setHeader('X-A', '1');
          res.setHeader('x-multi', ['a', 'b']);
          res.setHeader('x-num', 5);
          res.appendHeader('x-multi', 'c');
          notes.get = [res.getHeader('x-a'), res.getHeader('X-MULTI'), res.getHeader('x-num'), res.getHeader('nope')];
          notes.has = [res.hasHeader('X-A'), res.hasHeader('nope')];
          notes.names = res.getHeaderNames();
          notes.headers = { ...res.getHeaders() };
          res.removeHeader('x-num');
          res.statusMessage = 'Something';
          notes.message = res.statusMessage;
          notes.sentBefore = res.headersSent;
          res.writeHead(201, 'Created', { 'x-b': '2' });
          notes.sentAfter = res.headersSent;
          try {
            res.setHeader('x-late', '1');
          } catch (e) {
            notes.late = (e as { code: string }).code;
          }
          try {
            res.writeHead(200);
          } catch (e) {
            notes.twice = (e as { code: string }).code;
          }
          res.end('created');
          return;
        }
        case '/object': res.writeHead(202, { 'x-c': '3', 'x-list': ['p', 'q'] }).end(); return;
        case '/nested': res.writeHead(203, [['x-d', '4'], ['x-e', '5']]).end(); return;
        case '/flat': res.writeHead(206, ['x-f', '6', 'x-g', '7']).end(); return;
        case '/status-only': res.writeHead(418).end(); return;
        case '/nodate': res.sendDate = false; res.end(); return;
        case '/own-date': res.setHeader('date', 'Thu, 01 Jan 1970 00:00:00 GMT'); res.end(); return;
        case '/bad-status':
          for (const code of [101, 600, 99]) {
            try {
              res.statusCode = code;
            } catch (e) {
              (notes.badStatus ??= [] as string[]) && (notes.badStatus as string[]).push((e as { code: string }).code);
            }
          }
          res.statusCode = 404;
          res.end();
      }
    });
    const c = http2.connect(url);
    try {
      const m = await nodeRequest(c, { ':path': '/methods' });
      expect([m.status, m.body.toString()]).toEqual([201, 'created']);
      expect(m.headers).toMatchObject({ 'x-a': '1', 'x-multi': 'a, b, c', 'x-b': '2' });
      expect(m.headers['x-num']).toBeUndefined();
      expect(Number.isNaN(Date.parse(String(m.headers.date)))).toBe(false);
      expect(notes).toEqual({
        get: ['1', ['a', 'b', 'c'], 5, undefined], has: [true, false], names: ['x-a', 'x-multi', 'x-num'],
        headers: { 'x-a': '1', 'x-multi': ['a', 'b', 'c'], 'x-num': 5 }, message: '', sentBefore: false, sentAfter: true,
        late: 'ERR_HTTP2_HEADERS_SENT', twice: 'ERR_HTTP2_HEADERS_SENT',
      });
      expect((await nodeRequest(c, { ':path': '/object' })).headers).toMatchObject({ ':status': 202, 'x-c': '3', 'x-list': 'p, q' });
      expect((await nodeRequest(c, { ':path': '/nested' })).headers).toMatchObject({ ':status': 203, 'x-d': '4', 'x-e': '5' });
      expect((await nodeRequest(c, { ':path': '/flat' })).headers).toMatchObject({ ':status': 206, 'x-f': '6', 'x-g': '7' });
      expect((await nodeRequest(c, { ':path': '/status-only' })).status).toBe(418);
      expect((await nodeRequest(c, { ':path': '/nodate' })).headers.date).toBeUndefined();
      expect((await nodeRequest(c, { ':path': '/own-date' })).headers.date).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
      expect((await nodeRequest(c, { ':path': '/bad-status' })).status).toBe(404);
      expect(notes.badStatus).toEqual(['ERR_HTTP2_INFO_STATUS_NOT_ALLOWED', 'ERR_HTTP2_STATUS_INVALID', 'ERR_HTTP2_STATUS_INVALID']);
    } finally {
      c.close();
      await close();
    }
  });

  it('connection-specific fields are refused at setHeader (node:http2 refuses them when it sends the headers), `connection` is dropped, and bad names and values are refused with node\'s codes', async () => {
    const outcome: Record<string, string> = {};
    const { url, close } = await serve((_req, res) => {
      const attempts: Array<[string, unknown]> = [
        ['keep-alive', 'timeout=5'], ['Transfer-Encoding', 'chunked'], ['upgrade', 'h2c'], ['proxy-connection', 'x'],
        ['http2-settings', 'x'], ['te', 'gzip'], ['te', 'trailers'], ['connection', 'close'],
        ['bad name', 'x'], [':status', '200'], ['x-ctl', 'a\nb'], ['x-undef', undefined], ['x-fine', 'yes'],
      ];
      for (const [k, v] of attempts) {
        try {
          res.setHeader(k, v as string);
          outcome[`${k}: ${String(v)}`] = 'set';
        } catch (e) {
          outcome[`${k}: ${String(v)}`] = `${(e as { code: string }).code}${e instanceof UsageError ? '' : ' (not a UsageError)'}`;
        }
      }
      res.end('fine');
    });
    const c = http2.connect(url);
    try {
      const r = await nodeRequest(c, { ':path': '/' });
      expect([r.status, r.body.toString(), r.headers['x-fine'], r.headers.te, r.headers.connection]).toEqual([200, 'fine', 'yes', 'trailers', undefined]);
      expect(outcome).toEqual({
        'keep-alive: timeout=5': 'ERR_HTTP2_INVALID_CONNECTION_HEADERS', 'Transfer-Encoding: chunked': 'ERR_HTTP2_INVALID_CONNECTION_HEADERS',
        'upgrade: h2c': 'ERR_HTTP2_INVALID_CONNECTION_HEADERS', 'proxy-connection: x': 'ERR_HTTP2_INVALID_CONNECTION_HEADERS',
        'http2-settings: x': 'ERR_HTTP2_INVALID_CONNECTION_HEADERS', 'te: gzip': 'ERR_HTTP2_INVALID_CONNECTION_HEADERS', 'te: trailers': 'set',
        'connection: close': 'set', 'bad name: x': 'ERR_INVALID_HTTP_TOKEN', ':status: 200': 'ERR_HTTP2_PSEUDOHEADER_NOT_ALLOWED',
        'x-ctl: a\nb': 'ERR_INVALID_CHAR', 'x-undef: undefined': 'ERR_HTTP2_INVALID_HEADER_VALUE', 'x-fine: yes': 'set',
      });
    } finally {
      c.close();
      await close();
    }
  });
});

describe('res: body', () => {
  it('write and end in all their forms (string with encoding, Buffer, callbacks), writableEnded/writableFinished/finished, \'finish\' before \'close\', a second end() harmless', async () => {
    const events: string[] = [];
    const { url, close } = await serve((req, res) => {
      res.on('finish', () => events.push(`finish ${res.writableFinished}`));
      res.on('close', () => events.push('close'));
      if (req.url === '/forms') {
        res.write('h\u00e9llo ', 'latin1');
        events.push(`sent ${res.headersSent}`);
        res.write(Buffer.from('2021', 'hex'), () => events.push('cb1'));
        res.write('abc', 'utf8', () => events.push('cb2'));
        res.end('!', 'utf8', () => events.push('cb3'));
        events.push(`ended ${res.writableEnded} ${res.finished} ${res.writableFinished}`);
        res.end(() => events.push('second end'));
      } else if (req.url === '/end-cb') {
        res.end(() => events.push('end cb'));
      } else {
        res.end(Buffer.from('buf'), () => events.push('end chunk cb'));
      }
    });
    const c = http2.connect(url);
    try {
      const a = await nodeRequest(c, { ':path': '/forms' });
      expect(a.body).toEqual(Buffer.concat([Buffer.from('h\u00e9llo ', 'latin1'), Buffer.from([0x20, 0x21]), Buffer.from('abc!')]));
      for (let i = 0; i < 50 && !events.includes('close'); i++) await sleep(5);
      // end()'s callback runs before the 'finish' listeners (as with node:http2, where it waits on the stream's finish)
      expect(events).toEqual(['sent true', 'ended true true false', 'cb1', 'cb2', 'second end', 'cb3', 'finish true', 'close']);
      events.length = 0;
      expect((await nodeRequest(c, { ':path': '/end-cb' })).body.length).toBe(0);
      expect((await nodeRequest(c, { ':path': '/end-chunk' })).body.toString()).toBe('buf');
      for (let i = 0; i < 50 && events.filter((e) => e === 'close').length < 2; i++) await sleep(5);
      expect(events.filter((e) => e.endsWith('cb'))).toEqual(['end cb', 'end chunk cb']);
    } finally {
      c.close();
      await close();
    }
  });

  it('HEAD keeps content-length and drops the body; 204 drops body and content-length; 304 drops the body; write() on them returns false (the body is over, as node:http2)', async () => {
    const writes: Array<[string, boolean]> = [];
    const { url, close } = await serve((req, res) => {
      if (req.url === '/204') res.statusCode = 204;
      if (req.url === '/304') res.statusCode = 304;
      res.setHeader('content-length', '9');
      writes.push([`${req.method} ${req.url}`, res.write('not sent ')]);
      res.end();
    });
    const c = http2.connect(url);
    try {
      const head = await nodeRequest(c, { ':method': 'HEAD', ':path': '/' });
      expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, '9', 0]);
      const nc = await nodeRequest(c, { ':path': '/204' });
      expect([nc.status, nc.headers['content-length'], nc.body.length]).toEqual([204, undefined, 0]);
      const nm = await nodeRequest(c, { ':path': '/304' });
      expect([nm.status, nm.body.length]).toEqual([304, 0]);
      expect((await nodeRequest(c, { ':path': '/' })).body.toString()).toBe('not sent ');
      expect(writes).toEqual([['HEAD /', false], ['GET /204', false], ['GET /304', false], ['GET /', true]]);
    } finally {
      c.close();
      await close();
    }
  });

  it('content-length is honoured: a body longer or shorter than announced resets the stream (the client never gets a malformed response); the connection goes on', async () => {
    const errors: string[] = [];
    const { server, url, close } = await serve((req, res) => {
      res.on('error', (e: Error & { code?: string }) => errors.push(`${req.url} ${e.code}`));
      res.setHeader('content-length', '5');
      if (req.url === '/longer') res.end('123456');
      else if (req.url === '/shorter') res.end('1234');
      else res.end('12345');
    });
    const client = await connect(url);
    try {
      for (const p of ['/longer', '/shorter']) {
        await expect((async () => (await client.request({ path: p })).bytes())()).rejects.toThrow(/reset|error code 2/);
      }
      expect(await (await client.request({ path: '/exact' })).text()).toBe('12345');
      expect(errors).toEqual(['/longer ERR_HTTP_CONTENT_LENGTH_MISMATCH', '/shorter ERR_HTTP_CONTENT_LENGTH_MISMATCH']);
      await settled(server);
    } finally {
      client.destroy();
      await close();
    }
  });

  it('trailers both ways: req.trailers once the body ended, res.addTrailers after the body', async () => {
    let seen: unknown;
    const { url, close } = await serve((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        seen = { body: Buffer.concat(parts).toString(), trailers: { ...req.trailers }, raw: req.rawTrailers };
        res.addTrailers({ 'x-checksum': 'abc', 'x-count': 2 });
        res.end('reply');
      });
    });
    const c = http2.connect(url);
    try {
      const r = await nodeRequest(c, { ':method': 'POST', ':path': '/' }, 'uploaded', { 'x-sum': '42' });
      expect([r.body.toString(), r.trailers?.['x-checksum'], r.trailers?.['x-count']]).toEqual(['reply', 'abc', '2']);
      expect(seen).toEqual({ body: 'uploaded', trailers: { 'x-sum': '42' }, raw: ['x-sum', '42'] });
    } finally {
      c.close();
      await close();
    }
  });

  it('100-continue is answered before the request listener runs; CONNECT without a \'connect\' listener gets 405; an unknown expectation 417', async () => {
    const { url, close } = await serve((req, res) => {
      res.end(`${req.method} ok`);
    });
    const c = http2.connect(url);
    try {
      const r = await nodeRequest(c, { ':method': 'POST', ':path': '/', expect: '100-continue' }, 'body');
      expect([r.informational, r.status, r.body.toString()]).toEqual([[100], 200, 'POST ok']);
      expect((await nodeRequest(c, { ':method': 'CONNECT', ':authority': 'example.com:443' })).status).toBe(405);
      expect((await nodeRequest(c, { ':path': '/', expect: 'something' })).status).toBe(417);
    } finally {
      c.close();
      await close();
    }
  });
});

describe('back-pressure both ways', () => {
  it('write() returns false once the sender\'s queue is full and \'drain\' follows: 1 MiB to a client with 16 KiB windows arrives whole, the queue never far above its mark', async () => {
    const body = Buffer.alloc(1 << 20);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    let falses = 0;
    let drains = 0;
    let maxQueued = 0;
    const { server, url, close } = await serve((req, res) => {
      const sender = [...server.h2.sessions][0]!.sender;
      let off = 0;
      res.on('drain', () => drains++);
      const more = () => {
        while (off < body.length) {
          const ok = res.write(body.subarray(off, off + 16384));
          off += 16384;
          maxQueued = Math.max(maxQueued, sender.queued(req.streamId));
          if (!ok) {
            falses++;
            res.once('drain', more);
            return;
          }
        }
        res.end();
      };
      more();
    });
    const client = await connect(url, { connection: { localSettings: { initialWindowSize: 16384 } } });
    try {
      const r = await client.request({ path: '/' });
      const parts: Uint8Array[] = [];
      for await (const part of r.body) {
        parts.push(part);
        await sleep(1); // a slow reader: its window opens as it reads
      }
      expect(Buffer.concat(parts).equals(body)).toBe(true);
      expect(falses).toBeGreaterThan(5);
      expect(drains).toBe(falses);
      expect(maxQueued).toBeLessThanOrEqual(65536 + 16384);
      await settled(server);
    } finally {
      client.destroy();
      await close();
    }
  });

  it('a request body is read from the client only as the Readable wants it: an unread upload stalls at the windows, then flows when the app reads', async () => {
    let yielded = 0;
    let release!: () => void;
    const reading = new Promise<void>((r) => { release = r; });
    const { server, url, close } = await serve(async (req, res) => {
      await reading;
      req.pipe(res); // echo, with back-pressure both ways
    });
    const client = await connect(url);
    const total = 1 << 20;
    async function* upload() {
      for (let sent = 0; sent < total; sent += 16384) {
        yielded += 16384;
        yield Buffer.alloc(16384, sent / 16384);
      }
    }
    try {
      const pending = client.request({ method: 'POST', path: '/', body: upload() });
      await sleep(300);
      const stalledAt = yielded;
      expect(stalledAt).toBeLessThanOrEqual(256 * 1024); // the stream window (64 KiB) and the client's own queue, not 1 MiB
      release();
      const r = await pending;
      const echoed = await r.bytes();
      expect(echoed.length).toBe(total);
      expect(echoed[total - 1]).toBe(63);
      await settled(server);
    } finally {
      client.destroy();
      await close();
    }
  });
});

describe('aborts and containment', () => {
  it('a client reset mid-response: req \'aborted\' and aborted = true, res \'close\' without \'finish\', the socket stand-in \'close\'; later writes are harmless; nothing is left', async () => {
    const events: string[] = [];
    let later: boolean | undefined;
    const { server, url, close } = await serve((req, res) => {
      req.on('aborted', () => events.push(`aborted ${req.aborted}`));
      req.on('close', () => events.push('req close'));
      res.on('finish', () => events.push('finish'));
      res.on('close', () => {
        events.push(`res close finished=${res.writableFinished}`);
        later = res.write('after');
      });
      req.socket.on('close', () => events.push('socket close'));
      res.write('first part');
    });
    const client = await connect(url);
    try {
      const r = await client.request({ path: '/' });
      r.cancel();
      for (let i = 0; i < 100 && events.length < 4; i++) await sleep(10);
      expect(events.sort()).toEqual(['aborted true', 'req close', 'res close finished=false', 'socket close']);
      expect(later).toBe(false);
      await settled(server);
    } finally {
      client.destroy();
      await close();
    }
  });

  it('whatever the application throws — in the listener, an async listener, a stream event, a write callback, an unhandled \'error\' — ends only that stream (500, or RST_STREAM once headers went out); the connection and the process go on', async () => {
    const { server, url, close } = await serve(async (req, res) => {
      switch (req.url) {
        case '/throw': throw new Error('listener threw');
        case '/reject': await sleep(5); throw new Error('async listener rejected');
        case '/after-headers': res.writeHead(200); res.write('partial'); await sleep(5); throw new Error('too late for a 500');
        case '/finish-listener': res.on('finish', () => { throw new Error('finish listener threw'); }); res.end('complete'); return;
        case '/write-callback': res.write('x', () => { throw new Error('write callback threw'); }); return;
        case '/unhandled-error': res.writeHead(200); res.write('x'); res.destroy(new Error('nobody listens')); return;
        case '/data-listener': req.on('data', () => { throw new Error('data listener threw'); }); return;
        default: res.end('still here');
      }
    });
    const client = await connect(url);
    try {
      for (const p of ['/throw', '/reject']) {
        const r = await client.request({ path: p });
        expect([p, r.status]).toEqual([p, 500]);
        await r.bytes();
      }
      for (const p of ['/after-headers', '/write-callback', '/unhandled-error']) {
        const r = await client.request({ path: p });
        expect(r.status).toBe(200);
        await expect(r.bytes()).rejects.toThrow(/error code 2/); // RST_STREAM INTERNAL_ERROR
      }
      const fin = await client.request({ path: '/finish-listener' });
      expect(await fin.text()).toBe('complete'); // a response handed over whole is left to complete
      const data = await client.request({ method: 'POST', path: '/data-listener', body: 'some body' });
      expect(data.status).toBe(500);
      await data.bytes();
      expect(await (await client.request({ path: '/' })).text()).toBe('still here');
      await settled(server);
    } finally {
      client.destroy();
      await close();
    }
  });
});

describe('timeouts and destroy', () => {
  it('setTimeout on req or res: \'timeout\' on both after that long without body octets moving; res.destroy() after end() still resets a response in flight', async () => {
    const events: string[] = [];
    const big = Buffer.alloc(1 << 20, 5);
    const { server, url, close } = await serve((req, res) => {
      if (req.url === '/slow') {
        req.on('timeout', () => events.push('req timeout'));
        res.setTimeout(50, () => {
          events.push('res timeout');
          res.end('late');
        });
        return;
      }
      res.end(big);
      res.destroy(); // the client's 16 KiB window holds most of the body back: the stream is reset
    });
    const client = await connect(url, { connection: { localSettings: { initialWindowSize: 16384 } } });
    try {
      const t0 = Date.now();
      expect(await (await client.request({ path: '/slow' })).text()).toBe('late');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
      expect(events).toEqual(['req timeout', 'res timeout']);
      await expect((async () => (await client.request({ path: '/destroyed' })).bytes())()).rejects.toThrow(/reset|closed/);
      await settled(server);
    } finally {
      client.destroy();
      await close();
    }
  });
});

describe('the server object frameworks touch', () => {
  it('listen in net.Server\'s forms, \'listening\', address(), listening, close(cb) with \'close\', ERR_SERVER_NOT_RUNNING, \'error\' for a port in use, inert timeouts', async () => {
    const events: string[] = [];
    const s = createCompatServer((_req, res) => res.end('x'));
    s.on('listening', () => events.push('listening'));
    s.on('close', () => events.push('close'));
    expect(s.setTimeout(1000, () => undefined)).toBe(s);
    s.keepAliveTimeout = 1;
    s.requestTimeout = 1;
    s.headersTimeout = 1;
    await new Promise<void>((r) => s.listen({ port: 0, host: '127.0.0.1' }, () => r()));
    expect(s.listening).toBe(true);
    const { port, address } = s.address() as AddressInfo;
    expect(address).toBe('127.0.0.1');
    // a second server on the same port: 'error' EADDRINUSE
    const t = createCompatServer(() => undefined);
    const err = await new Promise<NodeJS.ErrnoException>((r) => { t.once('error', r); t.listen(port, '127.0.0.1'); });
    expect(err.code).toBe('EADDRINUSE');
    const c = http2.connect(`http://127.0.0.1:${port}`);
    expect((await nodeRequest(c, { ':path': '/' })).body.toString()).toBe('x');
    c.close();
    await new Promise<void>((r, j) => s.close((e) => (e ? j(e) : r())));
    expect(s.listening).toBe(false);
    expect(events).toEqual(['listening', 'close']);
    const notRunning = await new Promise<Error | undefined>((r) => createCompatServer().close(r));
    expect((notRunning as { code?: string }).code).toBe('ERR_SERVER_NOT_RUNNING');
    // listen(port, cb) and listen(port, host, backlog, cb)
    const u = createCompatServer();
    await new Promise<void>((r) => u.listen(0, '127.0.0.1', 10, () => r()));
    expect(u.listening).toBe(true);
    await new Promise((r) => u.close(r));
  });

  it('closeIdleConnections() closes connections without streams; closeAllConnections() cuts the others', async () => {
    let hold: CompatResponse | undefined;
    const { server, url, close } = await serve((req, res) => {
      if (req.url === '/hold') hold = res;
      else res.end('x');
    });
    const idle = http2.connect(url);
    await nodeRequest(idle, { ':path': '/' });
    const busy = http2.connect(url);
    const held = nodeRequest(busy, { ':path': '/hold' });
    for (let i = 0; i < 100 && hold === undefined; i++) await sleep(10);
    expect(server.h2.sessions.size).toBe(2);
    server.closeIdleConnections();
    for (let i = 0; i < 100 && server.h2.sessions.size > 1; i++) await sleep(10);
    expect(server.h2.sessions.size).toBe(1); // the one with a stream open stays
    server.closeAllConnections();
    expect(await held.then((r) => r.status, () => 'failed')).not.toBe(200);
    for (let i = 0; i < 100 && server.h2.sessions.size > 0; i++) await sleep(10);
    expect(server.h2.sessions.size).toBe(0);
    idle.destroy();
    busy.destroy();
    await close();
  });

  itWith(['openssl'], 'TLS with ALPN h2: req.socket.encrypted, alpnProtocol, scheme https', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'h2sched-compat-tls-'));
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost']);
    const { url, close } = await serve((req, res) => {
      res.end(JSON.stringify({ encrypted: req.socket.encrypted, alpn: req.socket.alpnProtocol, scheme: req.scheme }));
    }, { tls: { cert: readFileSync(path.join(dir, 'cert.pem')), key: readFileSync(path.join(dir, 'key.pem')) } });
    const c = http2.connect(url, { rejectUnauthorized: false });
    try {
      expect(JSON.parse((await nodeRequest(c, { ':path': '/' })).body.toString())).toEqual({ encrypted: true, alpn: 'h2', scheme: 'https' });
    } finally {
      c.close();
      await close();
    }
  });
});
