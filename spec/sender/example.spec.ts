// The README's example (examples/net-server.ts): the sender in a plain net server, fetched by a
// node:http2 client — concurrent requests with priorities and bodies larger than the windows.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createServer } from '../../examples/net-server.js';

function get(client: http2.ClientHttp2Session, path: string, weight?: number): Promise<{ status: number; length: number; at: number }> {
  return new Promise((resolve, reject) => {
    const req = client.request({ ':path': path }, weight === undefined ? {} : { weight });
    let length = 0;
    let status = 0;
    req.on('response', (h) => { status = Number(h[':status']); });
    req.on('data', (d: Buffer) => { length += d.length; });
    req.on('end', () => resolve({ status, length, at: performance.now() }));
    req.on('error', reject);
    req.end();
  });
}

describe('examples/net-server.ts with a node:http2 client', () => {
  it('serves concurrent requests, including bodies far larger than the initial windows', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    const client = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const results = await Promise.all([
        get(client, '/?size=10'),
        get(client, '/big?size=1000000', 1),
        ...Array.from({ length: 20 }, (_, i) => get(client, `/s${i}?size=${1000 * (i + 1)}`, 200)),
      ]);
      expect(results.map((r) => r.status)).toEqual(new Array(22).fill(200));
      expect(results[1]!.length).toBe(1000000);
      expect(results.slice(2).map((r) => r.length)).toEqual(Array.from({ length: 20 }, (_, i) => 1000 * (i + 1)));
    } finally {
      client.close();
      await new Promise((r) => server.close(r));
    }
  });
});
