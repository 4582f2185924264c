/**
 * `npm run bench fastify` (also part of `npm run bench server`): Fastify on h2sched's
 * compatibility server against Fastify on node:http2 (`http2: true`), the same tiny JSON route,
 * h2load with the same flags for both, servers alternated, several rounds after a warm-up pass;
 * median ± half the range. Needs h2load (apt-get install -y nghttp2-client); a missing tool is
 * reported, not faked.
 *   H2SCHED_BENCH_ROUNDS (default 3), H2SCHED_BENCH_FASTIFY_N (requests per run, default 100000)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, h2load, has, median, spread } from './h2load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const KINDS = ['fastify-h2sched', 'fastify-node'] as const;
type Kind = (typeof KINDS)[number];




/** Starts a framework server and resolves once it printed "ready". */
async function start(kind: Kind): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const proc: ChildProcess = spawn(process.execPath, [path.join(here, 'framework-servers.js'), kind, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    proc.once('exit', (code) => reject(new Error(`${kind} exited (${code}) before it was ready`)));
  });
  return { port, stop: () => new Promise<void>((r) => { proc.once('exit', () => r()); proc.kill('SIGKILL'); }) };
}


export async function frameworkReport(): Promise<string> {
  const lines = ['## Fastify on h2sched vs Fastify on node:http2', ''];
  if (!has('h2load')) return [...lines, 'SKIPPED — h2load is not installed (apt-get install -y nghttp2-client).'].join('\n');
  const rounds = Number(process.env.H2SCHED_BENCH_ROUNDS ?? 3);
  const n = Number(process.env.H2SCHED_BENCH_FASTIFY_N ?? 100000);
  const args = (port: number, count: number) => ['-n', String(count), '-c', '10', '-m', '10', `http://127.0.0.1:${port}/`];
  const res = new Map<Kind, { rps: number[]; ok: boolean }>(KINDS.map((k) => [k, { rps: [], ok: true }]));
  let step = 0;
  for (let round = 0; round < rounds; round++) {
    for (const k of round % 2 === 0 ? KINDS : [...KINDS].reverse()) {
      const srv = await start(k);
      await h2load(args(srv.port, Math.ceil(n / 10))); // warm-up: a tenth
      const r = await h2load(args(srv.port, n));
      await srv.stop();
      const cur = res.get(k)!;
      cur.rps.push(r.rps);
      cur.ok &&= r.ok;
      process.stdout.write(`\rbench: fastify ${++step}/${rounds * KINDS.length} (${k})          `);
    }
  }
  process.stdout.write('\n');
  const cell = (k: Kind) => { const r = res.get(k)!; return `${median(r.rps).toFixed(0)} ±${spread(r.rps).toFixed(0)} req/s${r.ok ? '' : ' (failures!)'}`; };
  const ratio = median(res.get('fastify-h2sched')!.rps) / median(res.get('fastify-node')!.rps);
  lines.push(`A tiny JSON route (\`app.get('/', async () => ({ hello: 'world' }))\`), h2load ${args(0, n).slice(0, -1).join(' ')}, servers alternated, ${rounds} rounds after a warm-up pass of a tenth; median ± half the range:`, '');
  lines.push('| case | Fastify on h2sched (createCompatServer) | Fastify on node:http2 (`http2: true`) | h2sched / node:http2 |', '|---|---:|---:|---:|');
  lines.push(`| tiny JSON GET | ${cell('fastify-h2sched')} | ${cell('fastify-node')} | **${ratio.toFixed(2)}×** (goal 1.5×) |`);
  lines.push('', `Rounds: ${KINDS.map((k) => `${k} ${res.get(k)!.rps.map((x) => x.toFixed(0)).join(', ')}`).join('; ')}.`);
  return lines.join('\n');
}
