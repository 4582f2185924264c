/**
 * `npm run bench server`: engine and server speed.
 *   1. In memory, through the public API: client⇄server request/response pairs per second and
 *      DATA MB/s on one stream (no sockets).
 *   2. h2load (same flags for every server, servers alternated, several rounds; median and
 *      spread) against h2sched, a node:http2 server doing the same work, and nghttpd as the C
 *      reference: tiny GETs, 64 KiB bodies × 100 concurrent streams, POST echo.
 *   3. Memory per idle connection and per open stream (heap after a full GC, in each server's
 *      own process).
 * Needs h2load and nghttpd for part 2 (apt-get install -y nghttp2-client nghttp2-server); a
 * missing tool is reported, not faked.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, h2load, has, median, spread } from './h2load.js';
import { H2Connection } from '../lib/connection/connection.js';
import { CLIENT_PREFACE, FrameType } from '../lib/constants.js';
import { encodeFrames } from '../lib/frame/encoder.js';
import { HpackEncoder } from '../lib/hpack/encoder.js';

const ROUNDS = Number(process.env.H2SCHED_BENCH_ROUNDS ?? 3);
const here = path.dirname(fileURLToPath(import.meta.url));

const show = (xs: number[], unit: string, d = 0) => `${median(xs).toFixed(d)} ±${spread(xs).toFixed(d)} ${unit}`;


// ------------------------------------------------------------------ 1. in memory

function pairOfEngines(): { client: H2Connection; server: H2Connection; pump: (onServer: (e: { type: string; streamId?: number }) => void, onClient?: (e: { type: string }) => void) => void } {
  const client = new H2Connection({ clientSide: true, localSettings: { initialWindowSize: 1 << 24 } });
  const server = new H2Connection({ clientSide: false, localSettings: { maxConcurrentStreams: 1000 } });
  client.initiateConnection();
  server.initiateConnection();
  const pump = (onServer: (e: { type: string; streamId?: number }) => void, onClient?: (e: { type: string }) => void) => {
    for (;;) {
      const a = client.dataToSend();
      const b = server.dataToSend();
      if (a.length === 0 && b.length === 0) return;
      if (a.length > 0) for (const e of server.receiveData(a)) onServer(e);
      if (b.length > 0) for (const e of client.receiveData(b)) onClient?.(e);
    }
  };
  pump(() => undefined);
  return { client, server, pump };
}

function inMemoryPairs(n: number): number {
  const { client, server, pump } = pairOfEngines();
  const req = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'bench'], [':path', '/'], ['user-agent', 'h2sched-bench'], ['accept', '*/*']] as const;
  const body = Buffer.from('hello world\n');
  const start = performance.now();
  for (let done = 0; done < n;) {
    const batch = Math.min(100, n - done);
    for (let i = 0; i < batch; i++) client.sendHeaders(client.getNextAvailableStreamId(), req, { endStream: true });
    pump((e) => {
      if (e.type === 'RequestReceived') {
        server.sendHeaders(e.streamId!, [[':status', '200'], ['content-type', 'text/plain'], ['content-length', '12']]);
        server.sendData(e.streamId!, body, { endStream: true });
      }
    }, (e) => {
      if (e.type === 'DataReceived') client.acknowledgeReceivedData((e as unknown as { flowControlledLength: number }).flowControlledLength, (e as unknown as { streamId: number }).streamId);
    });
    done += batch;
  }
  return n / ((performance.now() - start) / 1000);
}

function inMemoryData(total: number): number {
  const { client, server, pump } = pairOfEngines();
  client.sendHeaders(1, [[':method', 'GET'], [':scheme', 'https'], [':authority', 'b'], [':path', '/']], { endStream: true });
  pump(() => undefined);
  server.sendHeaders(1, [[':status', '200']]);
  const chunk = new Uint8Array(16384);
  let sent = 0;
  const start = performance.now();
  while (sent < total) {
    let w = Math.min(server.localFlowControlWindow(1), total - sent);
    while (w > 0) {
      const n = Math.min(w, chunk.length);
      server.sendData(1, n === chunk.length ? chunk : chunk.subarray(0, n), { endStream: sent + n === total });
      sent += n;
      w -= n;
    }
    pump(() => undefined, (e) => {
      if (e.type === 'DataReceived') client.acknowledgeReceivedData((e as unknown as { flowControlledLength: number }).flowControlledLength, 1);
    });
  }
  return total / 1e6 / ((performance.now() - start) / 1000);
}

// ------------------------------------------------------------------ 2. h2load

interface Running { proc: ChildProcess; port: number; stop: () => Promise<void> }


async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); r(true); });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on ${port}`);
}

type Kind = 'h2sched' | 'node' | 'nghttpd' | 'h2sched-files' | 'node-files';

async function start(kind: Kind, docroot: string): Promise<Running> {
  const port = await freePort();
  const proc = kind === 'nghttpd'
    ? spawn('nghttpd', ['--no-tls', '-d', docroot, '--echo-upload', String(port)], { stdio: 'ignore' })
    : spawn(process.execPath, ['--expose-gc', path.join(here, 'servers.js'), kind, String(port), docroot], { stdio: ['ignore', 'pipe', 'inherit'] });
  await waitPort(port);
  return { proc, port, stop: () => new Promise<void>((r) => { proc.once('exit', () => r()); proc.kill('SIGKILL'); }) };
}


/**
 * Each case names the server kind in each column: ours, node:http2's, and nghttpd (which always
 * serves the docroot). The file cases compare `h2sched serve` with node:http2's respondWithFile.
 * `H2SCHED_BENCH_CASES=files` (or any word of the names) runs only the matching cases.
 */
interface Case { name: string; ours: Kind; node: Kind; args: (u: string, body: string) => string[] }
const ALL_CASES: Case[] = [
  { name: 'tiny GET', ours: 'h2sched', node: 'node', args: (u) => ['-n', '100000', '-c', '10', '-m', '10', `${u}/`] },
  // the same flags as the tiny GET, so the two rates compare (a shorter run weighs warm-up more)
  { name: 'tiny file (6 octets)', ours: 'h2sched-files', node: 'node-files', args: (u) => ['-n', '100000', '-c', '10', '-m', '10', `${u}/tiny.txt`] },
  { name: '64 KiB × 100 streams', ours: 'h2sched', node: 'node', args: (u) => ['-n', '20000', '-c', '1', '-m', '100', `${u}/64k`] },
  { name: '64 KiB files × 100 streams', ours: 'h2sched-files', node: 'node-files', args: (u) => ['-n', '20000', '-c', '1', '-m', '100', `${u}/64k.bin`] },
  { name: '2 MB files × 10 streams (read from disk)', ours: 'h2sched-files', node: 'node-files', args: (u) => ['-n', '1000', '-c', '1', '-m', '10', `${u}/2m.bin`] },
  { name: 'POST echo 16 KiB', ours: 'h2sched', node: 'node', args: (u, body) => ['-n', '20000', '-c', '10', '-m', '10', '-d', body, `${u}/`] },
];
const FILTER = process.env.H2SCHED_BENCH_CASES;
// `files`: the file cases and the fixed-body tiny GET they are held against
const CASES = FILTER ? ALL_CASES.filter((c) => c.name.includes(FILTER) || (FILTER === 'files' && (c.ours === 'h2sched-files' || c.name === 'tiny GET'))) : ALL_CASES;

// ------------------------------------------------------------------ 3. memory

async function heapOf(port: number): Promise<number> {
  const c = new H2Connection({ clientSide: true });
  c.initiateConnection();
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  c.sendHeaders(1, [[':method', 'GET'], [':scheme', 'http'], [':authority', 'b'], [':path', '/__heap']], { endStream: true });
  sock.write(c.dataToSend());
  const body = await new Promise<string>((resolve) => {
    let text = '';
    sock.on('data', (d: Buffer) => {
      for (const e of c.receiveData(d)) {
        if (e.type === 'DataReceived') text += Buffer.from(e.data).toString();
        if (e.type === 'StreamEnded' && e.streamId === 1) resolve(text);
      }
      sock.write(c.dataToSend());
    });
  });
  sock.destroy();
  return Number(body);
}

/** Raw client connections: preface + SETTINGS (+ ACKs), then optionally `streams` requests that stay open. */
async function openConnections(port: number, count: number, streams = 0): Promise<net.Socket[]> {
  const socks: net.Socket[] = [];
  for (let i = 0; i < count; i++) {
    const s = net.connect(port, '127.0.0.1');
    await new Promise<void>((r) => s.once('connect', () => r()));
    const hpack = new HpackEncoder();
    const frames = [
      { type: FrameType.SETTINGS, streamId: 0, ack: false, settings: [] },
      { type: FrameType.SETTINGS, streamId: 0, ack: true, settings: [] },
    ] as Parameters<typeof encodeFrames>[0];
    const reqs = Array.from({ length: streams }, (_, k) => ({ type: FrameType.HEADERS, streamId: 2 * k + 1, headerBlock: hpack.encode([[':method', 'GET'], [':scheme', 'http'], [':authority', 'b'], [':path', '/__hold']]), endStream: true, endHeaders: true, padLength: undefined, priority: undefined }));
    s.write(Buffer.concat([CLIENT_PREFACE, encodeFrames([...frames, ...(reqs as Parameters<typeof encodeFrames>[0])])]));
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    socks.push(s);
  }
  await new Promise((r) => setTimeout(r, 500));
  return socks;
}

async function memory(kind: 'h2sched' | 'node', docroot: string): Promise<{ perConnection: number; perStream: number }> {
  const srv = await start(kind, docroot);
  try {
    const base = await heapOf(srv.port);
    const conns = await openConnections(srv.port, 200);
    const withConns = await heapOf(srv.port);
    for (const s of conns) s.destroy();
    await new Promise((r) => setTimeout(r, 300));
    const base2 = await heapOf(srv.port);
    const held = await openConnections(srv.port, 5, 200);
    const withStreams = await heapOf(srv.port);
    for (const s of held) s.destroy();
    return { perConnection: (withConns - base) / 200, perStream: (withStreams - base2 - 5 * ((withConns - base) / 200)) / 1000 };
  } finally {
    await srv.stop();
  }
}

// ------------------------------------------------------------------ report

export async function serverReport(): Promise<string> {
  const lines: string[] = ['## Engine and server speed', ''];
  const pairs: number[] = [];
  const data: number[] = [];
  for (let i = 0; i < 5; i++) {
    pairs.push(inMemoryPairs(50_000));
    data.push(inMemoryData(256 << 20));
    process.stdout.write(`\rbench: in-memory run ${i + 1}/5   `);
  }
  process.stdout.write('\n');
  lines.push('In memory, through the public API (client and server `H2Connection`, no sockets; median of 5 ± half the range):', '');
  lines.push('| case | result |', '|---|---:|');
  lines.push(`| request/response pairs (6 request fields, 12-octet body) | ${show(pairs.map((x) => x / 1000), 'k pairs/s', 1)} |`);
  lines.push(`| DATA on one stream, 16 KiB frames | ${show(data, 'MB/s')} |`, '');

  const docroot = mkdtempSync(path.join(tmpdir(), 'h2sched-bench-'));
  writeFileSync(path.join(docroot, 'index.html'), 'hello world\n');
  writeFileSync(path.join(docroot, '64k'), Buffer.alloc(65536, 97));
  writeFileSync(path.join(docroot, '64k.bin'), Buffer.alloc(65536, 97));
  writeFileSync(path.join(docroot, 'tiny.txt'), 'hello\n');
  writeFileSync(path.join(docroot, '2m.bin'), Buffer.alloc(2_000_000, 99)); // above --cache-file-max: FileSource
  const postBody = path.join(docroot, 'post.bin');
  writeFileSync(postBody, Buffer.alloc(16384, 98));
  if (!has('h2load')) {
    lines.push('h2load comparisons: SKIPPED — h2load is not installed (apt-get install -y nghttp2-client).');
  } else {
    const roles = (has('nghttpd') ? ['ours', 'node', 'nghttpd'] : ['ours', 'node']) as Array<'ours' | 'node' | 'nghttpd'>;
    const res = new Map<string, { rps: number[]; mbps: number[]; ok: boolean }>();
    let step = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of CASES) {
        for (const role of round % 2 === 0 ? roles : [...roles].reverse()) {
          const k: Kind = role === 'nghttpd' ? 'nghttpd' : c[role];
          const srv = await start(k, docroot);
          const args = c.args(`http://127.0.0.1:${srv.port}`, postBody);
          await h2load(args.map((a, i) => (args[i - 1] === '-n' ? String(Math.ceil(Number(a) / 10)) : a))); // warm-up: a tenth
          const r = await h2load(c.args(`http://127.0.0.1:${srv.port}`, postBody));
          await srv.stop();
          const key = `${c.name}/${role}`;
          const cur = res.get(key) ?? { rps: [], mbps: [], ok: true };
          cur.rps.push(r.rps);
          cur.mbps.push(r.mbps);
          cur.ok &&= r.ok;
          res.set(key, cur);
          process.stdout.write(`\rbench: h2load ${++step}/${ROUNDS * CASES.length * roles.length} (${c.name}, ${k})          `);
        }
      }
    }
    process.stdout.write('\n');
    lines.push(`h2load against each server on this machine (same flags, servers alternated, ${ROUNDS} rounds after a warm-up pass; median ± half the range; ${has('nghttpd') ? 'nghttpd is the C reference' : 'nghttpd not installed'}):`, '');
    lines.push('File cases: h2sched is `h2sched serve DOCROOT`\'s static handler (open-file cache, small files from memory), node:http2 is `respondWithFile`.', '');
    lines.push('| case | h2sched | node:http2 | nghttpd | h2sched / node:http2 | h2sched / nghttpd |', '|---|---:|---:|---:|---:|---:|');
    const metricOf = (c: Case) => (/^(64|2 MB)/.test(c.name) ? 'mbps' : 'rps') as 'mbps' | 'rps';
    for (const c of CASES) {
      const get = (k: string) => res.get(`${c.name}/${k}`);
      const metric = metricOf(c);
      const unit = metric === 'mbps' ? 'MB/s' : 'req/s';
      const cell = (k: string) => { const r = get(k); return r ? `${show(r[metric], unit)}${r.ok ? '' : ' (failures!)'}` : '—'; };
      const ratio = (k: string) => { const a = get('ours'); const b = get(k); return a && b ? `${(median(a[metric]) / median(b[metric])).toFixed(2)}×` : '—'; };
      lines.push(`| ${c.name} (${c.args('URL', 'FILE').join(' ')}) | ${cell('ours')} | ${cell('node')} | ${cell('nghttpd')} | ${ratio('node')} | ${ratio('nghttpd')} |`);
    }
    const tinyFile = res.get('tiny file (6 octets)/ours');
    const tinyFixed = res.get('tiny GET/ours');
    if (tinyFile && tinyFixed) {
      // each round runs the two one after the other: the ratio within a round shares the machine's state
      const perRound = tinyFile.rps.map((r, i) => r / tinyFixed.rps[i]!);
      lines.push('', `Tiny file / our own fixed-body tiny GET (same flags, same run): ${(median(tinyFile.rps) / median(tinyFixed.rps)).toFixed(2)}× of the medians; `
        + `per round ${perRound.map((x) => `${x.toFixed(2)}×`).join(', ')} (median ${median(perRound).toFixed(2)}×).`);
    }
    lines.push('');
  }
  if (FILTER) return lines.join('\n'); // a subset of the h2load cases: no memory section
  const mem: string[] = ['| server | per idle connection | per open stream |', '|---|---:|---:|'];
  for (const k of ['h2sched', 'node'] as const) {
    const m = await memory(k, docroot);
    mem.push(`| ${k === 'node' ? 'node:http2 (JS heap only; nghttp2 state is native)' : 'h2sched'} | ${(m.perConnection / 1024).toFixed(1)} KiB | ${(m.perStream / 1024).toFixed(2)} KiB |`);
    process.stdout.write(`\rbench: memory (${k}) done   `);
  }
  process.stdout.write('\n');
  lines.push('Memory (heap after a full GC in the server process; 200 idle connections, then 5 × 200 open streams):', '', ...mem);
  return lines.join('\n');
}
