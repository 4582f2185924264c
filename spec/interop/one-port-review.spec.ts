// Findings of the hostile review of issue 14 on the one port (lib/node/server.ts), each on real
// sockets: the connection cap counted in the server's own 'connection' handler, TLS errors after
// the handshake (renegotiation, a corrupt record), the HTTP/1.1 rules of the 308 and of
// `Upgrade: h2c`, and the 308's port. The CLI-level findings (--workers, the certificate cache)
// are in workers.spec.ts, spec/node/devcert-review.spec.ts and at the end of this file.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { CLIENT_PREFACE, ErrorCode, FrameType } from '../../lib/constants.js';
import { FrameDecoder } from '../../lib/frame/decoder.js';
import type { Frame } from '../../lib/frame/types.js';
import { connect } from '../../lib/node/client.js';
import { localCertificate } from '../../lib/node/devcert.js';
import type { Handler } from '../../lib/node/session.js';
import { frameFactory } from '../helpers/frames.js';
import { deadline, goawayOf, startServer } from './helpers.js';

const CLI = path.resolve('dist/node/cli.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let material: { cert: string; key: string };
beforeAll(async () => {
  const c = await localCertificate({ dir: path.join(mkdtempSync(path.join(tmpdir(), 'h2sched-cache-')), 'h2sched') });
  material = { cert: c.cert, key: c.key };
});

/**
 * Writes `request` on a raw socket and resolves with everything the server sent before it closed,
 * or once `done` holds for it, or after `ms`.
 */
function exchange(port: number, request: string, ms = 3000, done?: (out: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(request, 'latin1'));
    let out = '';
    const t = setTimeout(() => s.destroy(), ms);
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (done?.(out)) s.destroy();
    });
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
    s.on('error', () => undefined);
  });
}

const statusOf = (answer: string) => /^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1];
const locationOf = (answer: string) => /\r\nlocation: (\S+)\r\n/.exec(answer)?.[1];

/** A TLS client speaking HTTP/2 (ALPN h2): sends the preface and SETTINGS, collects the server's frames. */
async function tlsPeer(port: number, options: tls.ConnectionOptions = {}) {
  const socket = tls.connect({ port, host: '127.0.0.1', ALPNProtocols: ['h2'], rejectUnauthorized: false, ...options });
  socket.on('error', () => undefined);
  await new Promise<void>((r, j) => {
    socket.once('secureConnect', () => r());
    socket.once('error', j);
  });
  const decoder = new FrameDecoder({ expectPreface: false });
  const received: Frame[] = [];
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  socket.on('data', (chunk: Buffer) => {
    decoder.push(chunk);
    for (let f = decoder.next(); f !== null; f = decoder.next()) received.push(f);
  });
  socket.write(Buffer.concat([Buffer.from(CLIENT_PREFACE), frameFactory().settings().encode()]));
  const end = Date.now() + 3000;
  while (!received.some((f) => f.type === FrameType.SETTINGS)) {
    if (Date.now() > end) throw new Error('no SETTINGS from the server');
    await sleep(10);
  }
  return { socket, received, closed };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not in time: ${what}`);
    await sleep(10);
  }
}

describe('found by the review (issue 14): maxConnections', () => {
  it('found by the review (issue 14): the cap is counted in the server\'s connection handler (never net.Server.maxConnections), handshaking and sniffing sockets included; refused ones close at once and are counted', async () => {
    const refusedTotals: number[] = [];
    const s = await startServer({ tls: material, maxConnections: 2, onRefused: (n) => refusedTotals.push(n) });
    try {
      expect(s.h2.server.maxConnections ?? Infinity).toBe(Infinity); // a cluster worker would bounce handles
      // one socket in its TLS handshake (half a ClientHello), one still being sniffed
      const held = [net.connect(s.port, '127.0.0.1'), net.connect(s.port, '127.0.0.1')];
      for (const h of held) h.on('error', () => undefined);
      await Promise.all(held.map((h) => new Promise((r) => h.once('connect', r))));
      held[0]!.write(Buffer.from('1603010200010001fc0303', 'hex'));
      await until(() => s.h2.stats().connections === 2, 'both counted');
      const over = [0, 1, 2].map(() => net.connect(s.port, '127.0.0.1'));
      const closedAfter = await Promise.all(over.map((o) => {
        const t0 = Date.now();
        o.on('error', () => undefined);
        return Promise.race([new Promise<number>((r) => o.on('close', () => r(Date.now() - t0))), deadline(3000).then(() => Infinity)]);
      }));
      for (const ms of closedAfter) expect(ms).toBeLessThan(1000);
      expect(s.h2.stats()).toMatchObject({ connections: 2, refused: 3 });
      expect(refusedTotals).toEqual([1, 2, 3]);
      for (const h of held) h.destroy();
      await until(() => s.h2.stats().connections === 0, 'the held sockets released');
      const c = await connect(`http://127.0.0.1:${s.port}`);
      expect((await c.request({ path: '/' })).status).toBe(200);
      await c.close();
    } finally {
      await s.h2.close();
    }
  });
});
