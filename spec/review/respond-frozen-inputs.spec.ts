// Review of d6d1b5f (lib/node/session.ts `responseBlock`, lib/headers.ts `prepareOutbound`): what
// careless handler authors pass to respond(), on real sockets (in-process server, node:http2
// client as the peer).
import http2 from 'node:http2';
import { UsageError } from '../../lib/errors.js';
import type { HeaderInput } from '../../lib/hpack/types.js';
import type { Handler } from '../../lib/node/session.js';
import { startServer } from '../interop/helpers.js';

type Res = { status: number; headers: http2.IncomingHttpHeaders };

function get(client: http2.ClientHttp2Session, p: string): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = client.request({ ':path': p });
    let r: Res = { status: 0, headers: {} };
    req.on('response', (h) => { r = { status: Number(h[':status']), headers: h }; });
    req.on('data', () => undefined);
    req.on('end', () => resolve(r));
    req.on('error', reject);
    req.end();
  });
}

async function withServer(handler: Handler, fn: (client: http2.ClientHttp2Session) => Promise<void>): Promise<void> {
  const server = await startServer({ handler });
  const client = http2.connect(server.url);
  try {
    await fn(client);
  } finally {
    client.close();
    await server.h2.close();
  }
}

describe('review: respond() with frozen and odd header lists', () => {
  // Observed: Object.freeze keeps accessor properties, so a "frozen pair of strings" can still
  // answer differently each time it is read. isFixed() only checks Object.isFrozen and typeof, so
  // the first value read is prepared once and sent for every later response ('a', 'a').
  // Before the change each respond() read the pair again ('a', 'b'). Expected: the current value
  // (a pair with an accessor is not "fixed": prepared each time, like an unfrozen pair).
  it('review finding, fixed: a frozen pair whose value is a getter sends the getter\'s current value on each response', async () => {
    let current = 'a';
    const pair = Object.freeze(Object.defineProperty(['x-v', ''], 1, { get: () => current, enumerable: true })) as unknown as HeaderInput;
    const list: readonly HeaderInput[] = Object.freeze([pair]);
    await withServer((req, res) => {
      current = req.path.slice(1);
      res.respond(200, list);
      res.end();
    }, async (client) => {
      const seen = [];
      for (const p of ['/a', '/b', '/c']) seen.push((await get(client, p)).headers['x-v']);
      expect(seen).toEqual(['a', 'b', 'c']); // observed: ['a', 'a', 'a']
    });
  });

  // Observed: Object.isFrozen('text/plain') is true (primitives count as frozen), so responseBlock
  // takes the string for a frozen list and WITH_STATUS.set(string) throws "TypeError: Invalid
  // value used as weak map key". Before the change the string reached prepareOutbound and the
  // handler got UsageError('a header is a [name, value] pair'), as respond()'s doc promises
  // ("@throws UsageError for ... an invalid status or header block").
  it('review finding, fixed: respond(200, \'text/plain\') throws UsageError at the call (not TypeError), and the handler can still answer', async () => {
    const thrown: string[] = [];
    await withServer((_req, res) => {
      try {
        res.respond(200, 'text/plain' as unknown as HeaderInput[]);
      } catch (e) {
        thrown.push(e instanceof UsageError ? 'UsageError' : `${(e as Error).constructor.name}: ${(e as Error).message}`);
      }
      res.respond(500);
      res.end();
    }, async (client) => {
      expect((await get(client, '/')).status).toBe(500);
      expect(thrown).toEqual(['UsageError']); // observed: ['TypeError: Invalid value used as weak map key']
    });
  });

  it('(held) a frozen list with an unfrozen pair, or a frozen pair holding a Uint8Array, sends each response\'s current value', async () => {
    const loose: [string, string] = ['x-loose', 'a'];
    const octets = new Uint8Array([0x61]);
    const list: readonly HeaderInput[] = Object.freeze([loose, Object.freeze(['x-octets', octets] as const)]);
    await withServer((req, res) => {
      loose[1] = req.path.slice(1);
      octets[0] = req.path.charCodeAt(1);
      res.respond(200, list);
      res.end();
    }, async (client) => {
      for (const p of ['/a', '/b', '/a', '/c']) {
        const r = await get(client, p);
        expect([r.headers['x-loose'], r.headers['x-octets']]).toEqual([p.slice(1), p.slice(1)]);
      }
    });
  });

  it('(held) one frozen list answered with 200, 404 and as 103 hints, alternating, keeps each status', async () => {
    const fields = Object.freeze([Object.freeze(['x-kind', 'shared'] as const), Object.freeze(['cache-control', 'no-cache'] as const)]);
    await withServer((req, res) => {
      const status = Number(req.path.slice(1));
      if (status === 200) res.respond(103, fields);
      res.respond(status, fields);
      res.end();
    }, async (client) => {
      for (const s of [200, 404, 200, 410, 404, 200]) {
        const r = await get(client, `/${s}`);
        expect([r.status, r.headers['x-kind'], r.headers['cache-control']]).toEqual([s, 'shared', 'no-cache']);
      }
    });
  });
});
