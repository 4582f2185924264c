// node:http2 client against the h2sched server (the demo site): GET, HEAD, POST echo of 1 MiB with
// small windows, 100 concurrent streams, trailers, RST from the client mid-body, GOAWAY drain.
import http2 from 'node:http2';
import { demoSite } from '../../lib/node/demo.js';
import { startServer } from './helpers.js';

type Result = { status: number; headers: http2.IncomingHttpHeaders; body: Buffer; trailers?: http2.IncomingHttpHeaders };

function request(client: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer, options?: http2.ClientSessionRequestOptions): Promise<Result> {
  return new Promise((resolve, reject) => {
    const req = client.request(headers, { ...options, waitForTrailers: false });
    const chunks: Buffer[] = [];
    let res: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    req.on('response', (h) => { res = h; });
    req.on('trailers', (t) => { trailers = t; });
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => resolve({ status: Number(res[':status']), headers: res, body: Buffer.concat(chunks), trailers }));
    req.on('error', reject);
    req.end(body);
  });
}

describe('node:http2 client against h2sched', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let client: http2.ClientHttp2Session;
  beforeAll(async () => {
    server = await startServer();
    client = http2.connect(server.url, { settings: { initialWindowSize: 16384 } });
  });
  afterAll(async () => {
    client.close();
    await server.h2.close();
  });

  it('serves every asset of the demo site with its content type and length', async () => {
    for (const [path, asset] of demoSite()) {
      const r = await request(client, { ':path': path });
      expect([r.status, r.headers['content-type'], r.body.equals(asset.body)]).toEqual([200, asset.type, true]);
    }
  });

  it('answers HEAD with the headers and no body, and 404 for a missing path', async () => {
    const head = await request(client, { ':path': '/js/app.js', ':method': 'HEAD' });
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, String(demoSite().get('/js/app.js')!.body.length), 0]);
    expect((await request(client, { ':path': '/missing' })).status).toBe(404);
  });

  it('echoes a 1 MiB POST body with 16 KiB stream windows on both sides', async () => {
    const body = Buffer.alloc(1 << 20);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    const r = await request(client, { ':path': '/echo', ':method': 'POST', 'content-type': 'application/x-test' }, body);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/x-test');
    expect(r.body.equals(body)).toBe(true);
  });

  it('serves 100 concurrent streams', async () => {
    const paths = [...demoSite().keys()];
    const rs = await Promise.all(Array.from({ length: 100 }, (_, i) => request(client, { ':path': paths[i % paths.length]! })));
    expect(rs.every((r) => r.status === 200 && r.body.length === demoSite().get(paths[rs.indexOf(r) % paths.length]!)!.body.length)).toBe(true);
  });

  it('survives a client RST_STREAM in the middle of a body, and keeps serving', async () => {
    await new Promise<void>((resolve) => {
      const req = client.request({ ':path': '/js/vendor.js' });
      req.once('data', () => req.close(http2.constants.NGHTTP2_CANCEL));
      req.on('close', () => resolve());
      req.on('error', () => resolve());
      req.end();
    });
    expect((await request(client, { ':path': '/css/site.css' })).status).toBe(200);
  });
});

describe('trailers and graceful shutdown', () => {
  it('delivers response trailers to node:http2', async () => {
    const s = await startServer({ handler: (req, res) => { res.respond(200); res.end('body', [['x-checksum', 'abc123']]); } });
    const c = http2.connect(s.url);
    const r = await request(c, { ':path': '/' });
    expect([r.body.toString(), r.trailers?.['x-checksum']]).toEqual(['body', 'abc123']);
    c.close();
    await s.h2.close();
  });

  it('drains on shutdown: the response in flight completes, the client sees GOAWAY, new streams are refused', async () => {
    const s = await startServer();
    const c = http2.connect(s.url, { settings: { initialWindowSize: 16384 } });
    let goaway = false;
    c.on('goaway', () => { goaway = true; });
    const inFlight = request(c, { ':path': '/img/hero.png' });
    // close once the server has taken the request (its stream is open), however slow the machine
    while (![...s.h2.sessions].some((x) => x.conn.openInboundStreams > 0)) await new Promise((r) => setTimeout(r, 2));
    const closed = s.h2.close();
    const r = await inFlight;
    expect(r.body.equals(demoSite().get('/img/hero.png')!.body)).toBe(true);
    await closed;
    expect(goaway).toBe(true);
    await expect(request(c, { ':path': '/' })).rejects.toBeDefined();
    c.destroy();
  });
});
