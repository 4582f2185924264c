// Findings of the hostile review of issue 16 (the node:http2 compatibility API), each on real
// sockets: header values the engine would refuse are refused at the call and nothing throws out of
// the write path; HEAD/204/304 end with their headers so write loops and pipes stop; repeated
// request fields as node:http2 has them; pipeline() resets with INTERNAL_ERROR; 'close' of a
// paused request; a second close(cb); writeHead(status, null, headers); a late req.socket; a
// :method that is not a token.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { pipeline, Readable } from 'node:stream';
import Fastify from 'fastify';
import Koa from 'koa';
import { ErrorCode } from '../../lib/constants.js';
import { UsageError } from '../../lib/errors.js';
import type { HeaderInput } from '../../lib/hpack/types.js';
import { type CompatListener, type CompatRequest, type CompatResponse, type CompatServer, type CompatServerOptions, createCompatServer } from '../../lib/node/compat.js';
import { dataOf, h2cPeer, resetsOf } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function serve(listener: CompatListener, options: CompatServerOptions = {}) {
  const server = createCompatServer({ lingerMs: 200, ...options }, listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { server, port, url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function settled(server: CompatServer): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const s = server.stats();
    if (s.exchanges + s.senderStreams + s.schedulerStreams + s.engineStreams === 0) return;
    await sleep(10);
  }
  expect(server.stats()).toMatchObject({ exchanges: 0, senderStreams: 0, schedulerStreams: 0, engineStreams: 0 });
}

type Outcome = { status: number | undefined; headers: http2.IncomingHttpHeaders; body: string; rstCode: number | undefined };

/** A request with node:http2's client that resolves however the stream ends (response, reset). */
function fetchNode(url: string, headers: http2.OutgoingHttpHeaders, ms = 3000): Promise<Outcome> {
  return new Promise((resolve) => {
    const client = http2.connect(url);
    client.on('error', () => undefined);
    const req = client.request(headers);
    let h: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (x) => { h = x; });
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('error', () => undefined);
    const timer = setTimeout(() => req.close(), ms);
    req.on('close', () => {
      clearTimeout(timer);
      client.close();
      resolve({ status: h[':status'] === undefined ? undefined : Number(h[':status']), headers: h, body: Buffer.concat(chunks).toString(), rstCode: req.rstCode });
    });
  });
}

/** Counts uncaught exceptions while `fn` runs (and a little after). */
async function uncaughtDuring(fn: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (e: unknown) => seen.push(e);
  process.on('uncaughtException', listener);
  try {
    await fn();
    await sleep(50);
  } finally {
    process.off('uncaughtException', listener);
  }
  return seen;
}

const code = (f: () => unknown): string => {
  try {
    f();
    return 'accepted';
  } catch (e) {
    return `${(e as { code?: string }).code ?? 'no code'}${e instanceof UsageError ? '' : ' (not a UsageError)'}`;
  }
};

describe('finding 1: header values the engine would refuse', () => {
  it('are refused with UsageError at setHeader/appendHeader/writeHead/addTrailers (a bad or repeated content-length, two hosts, bad trailers); headersSent stays false and the response then goes out whole', async () => {
    const notes: Record<string, unknown> = {};
    const { server, url, close } = await serve((_req, res) => {
      notes.codes = {
        'content-length abc': code(() => res.setHeader('content-length', 'abc')),
        'content-length empty': code(() => res.setHeader('content-length', '')),
        'content-length NaN': code(() => res.setHeader('content-length', Number.NaN)),
        'content-length -1': code(() => res.setHeader('content-length', -1)),
        'content-length [3, 4]': code(() => res.setHeader('content-length', ['3', '4'])),
        'content-length [3, 3]': code(() => res.setHeader('content-length', ['3', '3'])),
        'host [a, b]': code(() => res.setHeader('host', ['a', 'b'])),
        'writeHead content-length x': code(() => res.writeHead(200, { 'content-length': 'x' })),
        'addTrailers content-length zzz': code(() => res.addTrailers({ 'content-length': 'zzz' })),
        'setTrailer host [a, b]': code(() => res.setTrailer('host', ['a', 'b'])),
      };
      res.setHeader('content-length', 6);
      notes.append = code(() => res.appendHeader('content-length', '7'));
      notes.sent = res.headersSent;
      notes.kept = res.getHeader('content-length');
      res.setHeader('x-app', 'yes');
      Readable.from(['abc', 'def']).pipe(res);
    });
    try {
      const r = await fetchNode(url, { ':path': '/' });
      expect([r.status, r.headers['x-app'], r.headers['content-length'], r.body, r.rstCode]).toEqual([200, 'yes', '6', 'abcdef', 0]);
      expect(notes).toEqual({
        codes: {
          'content-length abc': 'ERR_HTTP2_INVALID_HEADER_VALUE', 'content-length empty': 'ERR_HTTP2_INVALID_HEADER_VALUE',
          'content-length NaN': 'ERR_HTTP2_INVALID_HEADER_VALUE', 'content-length -1': 'ERR_HTTP2_INVALID_HEADER_VALUE',
          'content-length [3, 4]': 'ERR_HTTP2_HEADER_SINGLE_VALUE', 'content-length [3, 3]': 'ERR_HTTP2_HEADER_SINGLE_VALUE',
          'host [a, b]': 'ERR_HTTP2_HEADER_SINGLE_VALUE', 'writeHead content-length x': 'ERR_HTTP2_INVALID_HEADER_VALUE',
          'addTrailers content-length zzz': 'ERR_HTTP2_INVALID_HEADER_VALUE', 'setTrailer host [a, b]': 'ERR_HTTP2_HEADER_SINGLE_VALUE',
        },
        append: 'ERR_HTTP2_HEADER_SINGLE_VALUE', sent: false, kept: 6,
      });
      await settled(server);
    } finally {
      await close();
    }
  });

  it('a header block the engine still refuses when it is sent (content-length on a 2xx to CONNECT) fails the stream with a 500 from inside a pipe, never an uncaught exception', async () => {
    const seen: string[] = [];
    const { server, url, close } = await serve(() => undefined);
    server.on('connect', (_req: CompatRequest, res: CompatResponse) => {
      res.setHeader('content-length', '1'); // fine for a header, refused by the engine on a 2xx to CONNECT (RFC 9110 §9.3.6)
      const src = new Readable({ read() { this.push('x'); this.push(null); } });
      src.pipe(res);
      res.on('close', () => seen.push(`close sent=${res.headersSent}`));
    });
    try {
      let r: Outcome | undefined;
      const uncaught = await uncaughtDuring(async () => {
        r = await fetchNode(url, { ':method': 'CONNECT', ':authority': 'example.com:443' });
      });
      expect(uncaught).toEqual([]);
      expect(r!.status).toBe(500);
      expect(seen).toEqual(['close sent=true']);
      await settled(server);
    } finally {
      await close();
    }
  });

  it('Fastify: reply.header(\'content-length\', \'abc\') with a streamed reply, and a raw setHeader before a stream, give a 500 from Fastify\'s error handler; the process goes on', async () => {
    let compat: CompatServer | undefined;
    const app = Fastify<http2.Http2Server>({
      http2: true,
      serverFactory: (handler) => (compat = createCompatServer({ lingerMs: 200 }, handler as unknown as CompatListener)) as unknown as http2.Http2Server,
    });
    app.get('/hdr-stream', (_req, reply) => { void reply.header('content-length', 'abc').send(Readable.from(['a', 'b'])); });
    app.get('/raw-stream', (_req, reply) => {
      reply.raw.setHeader('content-length', 'abc');
      void reply.send(Readable.from(['a', 'b']));
    });
    app.get('/ok', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    try {
      const results: Array<[number | undefined, string | undefined]> = [];
      const uncaught = await uncaughtDuring(async () => {
        for (const p of ['/hdr-stream', '/raw-stream']) {
          const r = await fetchNode(url, { ':path': p });
          results.push([r.status, (JSON.parse(r.body) as { code?: string }).code]);
        }
      });
      expect(uncaught).toEqual([]);
      expect(results).toEqual([[500, 'ERR_HTTP2_INVALID_HEADER_VALUE'], [500, 'ERR_HTTP2_INVALID_HEADER_VALUE']]);
      expect((await fetchNode(url, { ':path': '/ok' })).body).toBe('ok');
      await settled(compat!);
    } finally {
      await app.close();
    }
  });
});

describe('finding 2: HEAD, 204 and 304 end with their headers (as node:http2)', () => {
  it('write() returns false at once, so a write-until-false loop stops, a pipe from an endless source stops; \'finish\' and \'close\' follow whether or not the app calls end()', async () => {
    const log: string[] = [];
    let produced = 0;
    const { server, url, close } = await serve((req, res) => {
      if (req.url === '/204') res.statusCode = 204;
      res.on('finish', () => log.push(`${req.method} ${req.url} finish`));
      res.on('close', () => log.push(`${req.method} ${req.url} close`));
      if (req.url === '/pipe') {
        const src = new Readable({ read() { produced += 16384; this.push(Buffer.alloc(16384, 120)); } });
        res.on('close', () => src.destroy());
        src.pipe(res);
        return;
      }
      let writes = 0;
      const chunk = Buffer.alloc(16384, 120);
      while (writes < 1000 && res.write(chunk)) writes++; // the cap only keeps a regression from hanging the spec
      log.push(`${req.method} ${req.url} writes before false: ${writes}`);
    });
    try {
      const head = await fetchNode(url, { ':method': 'HEAD', ':path': '/loop' });
      const nc = await fetchNode(url, { ':path': '/204' });
      const pipeHead = await fetchNode(url, { ':method': 'HEAD', ':path': '/pipe' });
      expect([head.status, head.body, head.rstCode]).toEqual([200, '', 0]);
      expect([nc.status, nc.body, nc.rstCode]).toEqual([204, '', 0]);
      expect([pipeHead.status, pipeHead.body, pipeHead.rstCode]).toEqual([200, '', 0]);
      for (let i = 0; i < 100 && log.filter((l) => l.endsWith('close')).length < 3; i++) await sleep(10);
      const of = (prefix: string) => log.filter((l) => l.startsWith(prefix));
      expect(of('HEAD /loop')).toEqual(['HEAD /loop writes before false: 0', 'HEAD /loop finish', 'HEAD /loop close']);
      expect(of('GET /204')).toEqual(['GET /204 writes before false: 0', 'GET /204 finish', 'GET /204 close']);
      expect(of('HEAD /pipe')).toEqual(['HEAD /pipe finish', 'HEAD /pipe close']);
      expect(produced).toBeLessThan(1 << 20); // what the source's own buffer takes, not a runaway
      await settled(server);
    } finally {
      await close();
    }
  });
});

describe('finding 3: repeated request fields as node:http2 has them', () => {
  // node:http2 keeps the first value of these (its kSingleValueHeaders) and joins the others
  const SINGLE = [
    'access-control-allow-credentials', 'access-control-max-age', 'access-control-request-method', 'age', 'authorization',
    'content-encoding', 'content-language', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'dnt',
    'etag', 'expires', 'from', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
    'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'range', 'referer', 'retry-after', 'tk',
    'upgrade-insecure-requests', 'user-agent', 'x-content-type-options',
  ];
  const JOINED = ['accept', 'accept-encoding', 'cache-control', 'server', 'x-custom', 'via', 'forwarded'];

  async function seenBy(port: number, fields: HeaderInput[], trailers?: HeaderInput[]): Promise<{ frames: string; headers?: unknown; trailers?: unknown }> {
    const p = await h2cPeer(port);
    try {
      const request: HeaderInput[] = [[':method', 'POST'], [':scheme', 'http'], [':authority', 'a.example'], [':path', '/x'], ...fields];
      if (trailers === undefined) p.socket.write(p.f.headers(1).with(request).eos().encode());
      else p.socket.write(Buffer.concat([p.f.headers(1).with(request).encode(), p.f.data(1, 'body').encode(), p.f.headers(1).trailers(trailers).encode()]));
      await p.until((fs) => fs.some((f) => f.streamId === 1 && ((f as { endStream?: boolean }).endStream === true || f.type === 3)));
      const got = last;
      last = undefined;
      return { frames: resetsOf(p.received, 1).map((f) => `RST ${f.errorCode}`).join(' ') || 'answered', ...got };
    } finally {
      p.socket.destroy();
    }
  }
  let last: { headers: unknown; trailers: unknown } | undefined;
  const listener = (req: CompatRequest | http2.Http2ServerRequest, res: CompatResponse | http2.Http2ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const pick = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith(':')));
      last = { headers: pick(req.headers), trailers: pick(req.trailers) };
      res.end();
    });
  };

  it('the first value of a single-value field (content-type, authorization, user-agent… node\'s list), others joined — in headers and trailers, the same as node:http2\'s own server', async () => {
    const ours = await serve(listener);
    const theirs = http2.createServer(listener);
    await new Promise<void>((r) => theirs.listen(0, '127.0.0.1', () => r()));
    const fields: HeaderInput[] = [...SINGLE, ...JOINED].flatMap((n): HeaderInput[] => [[n, `${n}-1`], [n, `${n}-2`]]);
    const trailers: HeaderInput[] = [['x-t', '1'], ['x-t', '2'], ['etag', '"a"'], ['etag', '"b"']];
    try {
      const a = await seenBy(ours.port, fields, trailers);
      const b = await seenBy((theirs.address() as AddressInfo).port, fields, trailers);
      expect(a).toEqual(b);
      expect(a.headers).toMatchObject({ 'content-type': 'content-type-1', authorization: 'authorization-1', 'user-agent': 'user-agent-1', accept: 'accept-1, accept-2', 'x-custom': 'x-custom-1, x-custom-2' });
      expect(a.trailers).toEqual({ 'x-t': '1, 2', etag: '"a"' });
      await settled(ours.server);
    } finally {
      await ours.close();
      await new Promise((r) => theirs.close(r));
    }
  });

  it('a request with content-length twice is reset with PROTOCOL_ERROR before the listener runs (as node:http2), equal values or not', async () => {
    let calls = 0;
    const ours = await serve((_req, res) => { calls++; res.end(); });
    const theirs = http2.createServer((_req, res) => { calls++; res.end(); });
    await new Promise<void>((r) => theirs.listen(0, '127.0.0.1', () => r()));
    try {
      for (const port of [ours.port, (theirs.address() as AddressInfo).port]) {
        expect((await seenBy(port, [['content-length', '0'], ['content-length', '0']])).frames).toBe(`RST ${ErrorCode.PROTOCOL_ERROR}`);
        expect((await seenBy(port, [['content-length', '0']])).frames).toBe('answered');
      }
      expect(calls).toBe(2);
      await settled(ours.server);
    } finally {
      await ours.close();
      await new Promise((r) => theirs.close(r));
    }
  });
});

describe('finding 4: res is not taken for a ClientRequest by Node\'s stream helpers', () => {
  it('pipeline(failing source, res) destroys res and resets with INTERNAL_ERROR (not CANCEL), as on node:http2; so does Koa\'s streamed body that fails', async () => {
    const callbacks: string[] = [];
    const { server, url, close } = await serve((req, res) => {
      expect(typeof (res as unknown as { abort?: unknown }).abort).toBe('undefined');
      const src = new Readable({ read() {} });
      pipeline(src, res, (e) => callbacks.push(`${req.url} ${e?.message} destroyed=${res.destroyed}`));
      if (req.url === '/late') {
        src.push('abc');
        setTimeout(() => src.destroy(new Error('src fail')), 20);
      } else src.destroy(new Error('src fail'));
    });
    const koa = new Koa();
    koa.silent = true;
    koa.use(async (ctx) => {
      const r = new Readable({ read() {} });
      r.push('part');
      setTimeout(() => r.destroy(new Error('mid')), 20);
      ctx.body = r;
    });
    const k = await serve(koa.callback() as unknown as CompatListener);
    try {
      const late = await fetchNode(url, { ':path': '/late' });
      const early = await fetchNode(url, { ':path': '/early' });
      const fromKoa = await fetchNode(k.url, { ':path': '/' });
      expect([late.status, late.body, late.rstCode]).toEqual([200, 'abc', ErrorCode.INTERNAL_ERROR]);
      expect(early.rstCode).toBe(ErrorCode.INTERNAL_ERROR);
      expect([fromKoa.status, fromKoa.body, fromKoa.rstCode]).toEqual([200, 'part', ErrorCode.INTERNAL_ERROR]);
      expect(callbacks.sort()).toEqual(['/early src fail destroyed=true', '/late src fail destroyed=true']);
      await settled(server);
      await settled(k.server);
    } finally {
      await close();
      await k.close();
    }
  });
});

describe('finding 5: req \'close\' when the app paused the body', () => {
  it('a request paused mid-body emits \'close\' once the response is complete; what it buffered can still be read, and no second \'close\' comes', async () => {
    const log: string[] = [];
    let request: CompatRequest | undefined;
    const { server, port, close } = await serve((req, res) => {
      request = req;
      req.once('data', (d: Buffer) => {
        log.push(`data ${d.length}`);
        req.pause();
        res.end('done');
      });
      req.on('close', () => log.push('req close'));
      req.on('end', () => log.push('req end'));
      res.on('close', () => log.push('res close'));
    });
    const p = await h2cPeer(port);
    try {
      // the whole body arrives: the app reads one chunk, pauses, completes the response
      p.socket.write(Buffer.concat([p.f.headers(1).request('POST', '/', [], 'a').encode(), p.f.data(1, 'a'.repeat(1000)).encode(), p.f.data(1, 'b'.repeat(1000)).eos().encode()]));
      for (let i = 0; i < 100 && !(log.includes('req close') && log.includes('res close')); i++) await sleep(10);
      expect([log[0], log.slice(1).sort()]).toEqual(['data 1000', ['req close', 'res close']]);
      expect(dataOf(p.received, 1)).toBe(4);
      let rest = 0;
      request!.on('data', (d: Buffer) => { rest += d.length; });
      request!.resume();
      for (let i = 0; i < 100 && !log.includes('req end'); i++) await sleep(10);
      await sleep(20);
      expect([rest, log.slice(3)]).toEqual([1000, ['req end']]);
      await settled(server);
    } finally {
      p.socket.destroy();
      await close();
    }
  });

  it('a `for await` reader still reading when the response completes reads the whole body, then \'close\' (no premature close)', async () => {
    const log: string[] = [];
    const { server, port, close } = await serve(async (req, res) => {
      req.on('close', () => log.push('req close'));
      let n = 0;
      try {
        for await (const chunk of req) {
          n += (chunk as Buffer).length;
          if (!res.writableEnded) res.end('done');
          await sleep(20); // the exchange is released meanwhile
        }
        log.push(`read ${n}`);
      } catch (e) {
        log.push(`failed ${(e as { code?: string }).code}`);
      }
    });
    const p = await h2cPeer(port);
    try {
      // 48 KiB, all arrived: more than the Readable buffers (16 KiB), so some is still unread when the response completes
      const chunk = 'c'.repeat(16384);
      p.socket.write(Buffer.concat([p.f.headers(1).request('POST', '/', [], 'a').encode(), p.f.data(1, chunk).encode(), p.f.data(1, chunk).encode(), p.f.data(1, chunk).eos().encode()]));
      for (let i = 0; i < 100 && log.length < 2; i++) await sleep(10);
      expect(log.sort()).toEqual(['read 49152', 'req close']);
      await settled(server);
    } finally {
      p.socket.destroy();
      await close();
    }
  });
});

describe('finding 6: close(cb) after the server closed', () => {
  it('gets ERR_SERVER_NOT_RUNNING, as net.Server and node:http2 give it', async () => {
    const { server, close } = await serve((_req, res) => res.end());
    await close();
    const second = await Promise.race([new Promise<unknown>((r) => server.close(r)), sleep(1000).then(() => 'never called')]);
    expect((second as { code?: string }).code).toBe('ERR_SERVER_NOT_RUNNING');
  });
});

describe('finding 7: writeHead(status, null, headers)', () => {
  it('sends the headers, as node:http2 does', async () => {
    const { url, close } = await serve((req, res) => {
      if (req.url === '/null') res.writeHead(201, null as unknown as string, { 'x-a': '1' }).end();
      else res.writeHead(202, { 'x-b': '2' }, { 'x-c': '3' }).end(); // node takes the third argument when given
    });
    try {
      const a = await fetchNode(url, { ':path': '/null' });
      const b = await fetchNode(url, { ':path': '/both' });
      expect([a.status, a.headers['x-a']]).toEqual([201, '1']);
      expect([b.status, b.headers['x-b'], b.headers['x-c']]).toEqual([202, undefined, '3']);
    } finally {
      await close();
    }
  });
});

describe('finding 8: req.socket asked for after the stream closed', () => {
  it('is destroyed and not writable, and a \'close\' listener added then fires', async () => {
    const seen: unknown[] = [];
    const { url, close } = await serve((req, res) => {
      res.on('close', () => setTimeout(() => {
        const s = req.socket;
        seen.push(s.destroyed, s.writable, s.readable);
        s.on('close', () => seen.push('close'));
      }, 5));
      res.end('x');
    });
    try {
      expect((await fetchNode(url, { ':path': '/' })).body).toBe('x');
      for (let i = 0; i < 100 && seen.length < 4; i++) await sleep(10);
      expect(seen).toEqual([true, false, false, 'close']);
    } finally {
      await close();
    }
  });
});

describe('finding 9: a :method that is not a token (RFC 9110 §9.1)', () => {
  it('is a malformed request: RST_STREAM PROTOCOL_ERROR, the listener never runs, the connection goes on', async () => {
    const methods: string[] = [];
    const { server, port, close } = await serve((req, res) => {
      methods.push(req.method);
      res.end('ok');
    });
    const p = await h2cPeer(port);
    try {
      p.socket.write(p.f.headers(1).request('G E T', '/', [], 'a').eos().encode());
      p.socket.write(p.f.headers(3).request('GET\u0001', '/', [], 'a').eos().encode());
      p.socket.write(p.f.headers(5).request('M-SEARCH', '/', [], 'a').eos().encode());
      await p.until((fs) => resetsOf(fs, 1).length > 0 && resetsOf(fs, 3).length > 0 && dataOf(fs, 5) === 2);
      expect([resetsOf(p.received, 1)[0]!.errorCode, resetsOf(p.received, 3)[0]!.errorCode]).toEqual([ErrorCode.PROTOCOL_ERROR, ErrorCode.PROTOCOL_ERROR]);
      expect(methods).toEqual(['M-SEARCH']);
      await settled(server);
    } finally {
      p.socket.destroy();
      await close();
    }
  });
});
