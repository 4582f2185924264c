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
