/**
 * Well-behaved clients for the chaos run: batches of GET / HEAD / POST-echo requests on one
 * connection, through our own client (lib/node/client.ts) or node:http2's, alongside the
 * misbehaving ones. Every answer must be exact: status, content-type, content-length and every
 * body byte (the served file, or the body we sent for a POST echo). A batch that takes longer
 * than its timeout counts as a wedge.
 */
import fc from 'fast-check';
import http2 from 'node:http2';
import { connect } from '../../lib/node/client.js';
import type { PrioritySignal } from '../../lib/priority/signal.js';
import { scriptSeed } from './scripts.js';
import { prngBytes, type ServedFile } from './server.js';

export interface WellRequest {
  method: 'GET' | 'HEAD' | 'POST';
  path: string;
  /** POST body length; the bytes come from prngBytes(bodyLen, bodySeed). */
  bodyLen: number;
  bodySeed: number;
  /** A priority signal (our client only): RFC 7540 fields on HEADERS or an RFC 9218 `priority` header. */
  priority?: PrioritySignal;
}

export interface WellBatch {
  via: 'h2sched' | 'node:http2';
  requests: WellRequest[];
}

const paths = fc.constantFrom('/tiny.txt', '/tiny.txt', '/16k.bin', '/16k.bin', '/200k.bin', '/5m.bin', '/', '/index.html', '/sub/', '/sub/deeper/site.css', '/missing.txt');
const wellRequest: fc.Arbitrary<WellRequest> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ method: fc.constant('GET' as const), path: paths, bodyLen: fc.constant(0), bodySeed: fc.constant(0) }) },
  { weight: 1, arbitrary: fc.record({ method: fc.constant('HEAD' as const), path: paths, bodyLen: fc.constant(0), bodySeed: fc.constant(0) }) },
  { weight: 3, arbitrary: fc.record({ method: fc.constant('POST' as const), path: fc.constantFrom('/echo', '/tiny.txt', '/a/b?c=d'),
    bodyLen: fc.oneof(fc.constantFrom(0, 1, 16384, 65535, 65536, 70000, 300000), fc.nat(200000)), bodySeed: fc.integer() }) },
);
const signal: fc.Arbitrary<PrioritySignal | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.record({ scheme: fc.constant('rfc7540' as const), dependsOn: fc.constantFrom(0, 1, 3, 5), weight: fc.integer({ min: 1, max: 256 }), exclusive: fc.boolean() }),
  fc.record({ scheme: fc.constant('rfc9218' as const), urgency: fc.integer({ min: 0, max: 7 }), incremental: fc.boolean() }),
);
const batchArb: fc.Arbitrary<WellBatch> = fc.record({
  via: fc.constantFrom<'h2sched' | 'node:http2'>('h2sched', 'node:http2'),
  requests: fc.array(fc.tuple(wellRequest, signal), { minLength: 1, maxLength: 6 }).map((list) => list.map(([r, priority], i) => {
    if (!priority) return r;
    // our client numbers a connection's requests 1, 3, 5…: depend only on an earlier one (or the root)
    if (priority.scheme === 'rfc7540') return { ...r, priority: { ...priority, dependsOn: priority.dependsOn % (2 * i + 1) === 0 ? 0 : Math.min(priority.dependsOn, 2 * i - 1) } };
    return { ...r, priority };
  })),
});

export function generateBatch(seed: number, worker: number, index: number): WellBatch {
  return fc.sample(batchArb, { seed: scriptSeed(seed, 1000 + worker, index), numRuns: 1 })[0]!;
}

interface Answer {
  status: number;
  contentType: string | undefined;
  contentLength: string | undefined;
  body: Buffer;
}

function firstDiff(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/** Undefined when the answer is exactly right; otherwise what is wrong. */
export function checkAnswer(req: WellRequest, files: ReadonlyMap<string, ServedFile>, a: Answer): string | undefined {
  const what = `${req.method} ${req.path}${req.method === 'POST' ? ` (${req.bodyLen} B)` : ''}`;
  let want: { status: number; type: string | undefined; length: string | undefined; body: Buffer };
  if (req.method === 'POST') {
    want = { status: 200, type: 'application/octet-stream', length: undefined, body: prngBytes(req.bodyLen, req.bodySeed) };
  } else {
    const file = files.get(new URL(req.path, 'http://x').pathname);
    if (file) want = { status: 200, type: file.type, length: String(file.body.length), body: file.body };
    else want = { status: 404, type: 'text/plain; charset=utf-8', length: '10', body: Buffer.from('not found\n') };
    if (req.method === 'HEAD') want.body = Buffer.alloc(0);
  }
  if (a.status !== want.status) return `${what}: status ${a.status}, want ${want.status}`;
  if (a.contentType !== want.type) return `${what}: content-type ${a.contentType}, want ${want.type}`;
  if (want.length !== undefined && a.contentLength !== want.length) return `${what}: content-length ${a.contentLength}, want ${want.length}`;
  if (!a.body.equals(want.body)) return `${what}: body of ${a.body.length} B differs from the expected ${want.body.length} B at offset ${firstDiff(a.body, want.body)}`;
  return undefined;
}

async function viaH2sched(url: string, requests: WellRequest[]): Promise<Answer[]> {
  const client = await connect(url);
  try {
    return await Promise.all(requests.map(async (r) => {
      const res = await client.request({
        method: r.method, path: r.path, ...(r.priority ? { priority: r.priority } : {}),
        ...(r.method === 'POST' ? { body: prngBytes(r.bodyLen, r.bodySeed), headers: [['content-type', 'application/octet-stream']] } : {}),
      });
      const body = await res.bytes();
      return { status: res.status, contentType: res.header('content-type'), contentLength: res.header('content-length'), body };
    }));
  } finally {
    let t: NodeJS.Timeout | undefined;
    await Promise.race([client.close(), new Promise((r) => { t = setTimeout(r, 2000); })]);
    clearTimeout(t);
    client.destroy();
  }
}

async function viaNode(url: string, requests: WellRequest[]): Promise<Answer[]> {
  const session = http2.connect(url);
  session.on('error', () => undefined);
  try {
    return await Promise.all(requests.map((r) => new Promise<Answer>((resolve, reject) => {
      const headers: http2.OutgoingHttpHeaders = { ':method': r.method, ':path': r.path };
      if (r.method === 'POST') headers['content-type'] = 'application/octet-stream';
      const stream = session.request(headers, { endStream: r.method !== 'POST' });
      const chunks: Buffer[] = [];
      let head: http2.IncomingHttpHeaders | undefined;
      stream.on('response', (h) => { head = h; });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', reject);
      stream.on('end', () => {
        if (!head) return reject(new Error('stream ended without response headers'));
        const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
        resolve({ status: Number(head[':status']), contentType: one(head['content-type']), contentLength: one(head['content-length']), body: Buffer.concat(chunks) });
      });
      stream.on('close', () => { if (!head) reject(new Error(`stream closed (RST code ${stream.rstCode})`)); });
      if (r.method === 'POST') stream.end(prngBytes(r.bodyLen, r.bodySeed));
    })));
  } finally {
    await new Promise<void>((r) => {
      const t = setTimeout(() => { session.destroy(); r(); }, 2000);
      session.close(() => { clearTimeout(t); r(); });
    });
  }
}

/**
 * Runs a batch; resolves with the number of requests checked and bytes received, or the first
 * thing that was wrong (an error, a timeout, or a difference from the expected answer).
 */
export async function runBatch(url: string, files: ReadonlyMap<string, ServedFile>, batch: WellBatch, timeoutMs: number):
Promise<{ checked: number; bytes: number; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); });
  const work = (batch.via === 'h2sched' ? viaH2sched : viaNode)(url, batch.requests);
  work.catch(() => undefined);
  try {
    const answers = await Promise.race([work, timeout]);
    if (answers === 'timeout') return { checked: 0, bytes: 0, error: `${batch.via}: batch [${batch.requests.map((r) => `${r.method} ${r.path}`).join(', ')}] not done in ${timeoutMs} ms (wedged?)` };
    let bytes = 0;
    for (let i = 0; i < answers.length; i++) {
      const wrong = checkAnswer(batch.requests[i]!, files, answers[i]!);
      if (wrong) return { checked: i, bytes, error: `${batch.via}: ${wrong}` };
      bytes += answers[i]!.body.length;
    }
    return { checked: answers.length, bytes };
  } catch (e) {
    return { checked: 0, bytes: 0, error: `${batch.via}: ${(e as Error)?.message ?? String(e)}` };
  } finally {
    clearTimeout(timer);
  }
}
