// `npm run soak [-- --seconds 60 --clients 50 --streams 10]`: h2load hammers an in-process
// `h2sched serve` (the demo site: page, CSS, JS, fonts, images, plus POST echoes alongside) for a
// fixed time while the heap is sampled every second. After the load stops and the connections
// close, the heap (after a full GC) must be within 1.5× + 8 MiB of the heap after warm-up, and no
// session may be left. Needs h2load (apt-get install -y nghttp2-client); without it the script
// says so and exits 2.
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createH2Server, staticHandler } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    clients: { type: 'string', default: '50' },
    streams: { type: 'string', default: '10' },
    scheduler: { type: 'string', default: 'tree' },
  },
});
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const streams = Number(values.streams);

try {
  execFileSync('sh', ['-c', 'command -v h2load'], { stdio: 'ignore' });
} catch {
  console.log('soak: SKIPPED — h2load is not installed (apt-get install -y nghttp2-client)');
  process.exit(2);
}
if (typeof globalThis.gc !== 'function') {
  console.log('soak: run with node --expose-gc (npm run soak does)');
  process.exit(2);
}

const mib = (n) => (n / 1048576).toFixed(1);
const gcHeap = () => {
  for (let i = 0; i < 3; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
};

const h2 = createH2Server(staticHandler(undefined), { scheduler: values.scheduler });
await new Promise((r) => h2.server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${h2.server.address().port}`;
const dir = mkdtempSync(path.join(tmpdir(), 'h2sched-soak-'));
const uris = ['/', '/css/site.css', '/js/app.js', '/js/vendor.js', '/fonts/demo-regular.woff2', '/img/hero.png', '/img/logo.png'];
writeFileSync(path.join(dir, 'uris'), uris.map((u) => base + u).join('\n') + '\n');

function h2load(args) {
  return new Promise((resolve, reject) => {
    const p = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('exit', () => resolve(out));
  });
}

console.log(`soak: ${seconds} s, ${clients} connections × ${streams} streams, scheduler ${values.scheduler}, ${base}`);
await h2load(['-n', '2000', '-c', '10', '-m', '10', '-i', path.join(dir, 'uris')]); // warm-up: JIT, caches
await new Promise((r) => setTimeout(r, 200));
const start = gcHeap();
console.log(`soak: heap after warm-up ${mib(start)} MiB`);

const samples = [];
const t0 = Date.now();
const timer = setInterval(() => {
  const m = process.memoryUsage();
  samples.push(m.heapUsed);
  const s = Math.round((Date.now() - t0) / 1000);
  if (s % 5 === 0) console.log(`soak: ${s}/${seconds} s  heap ${mib(m.heapUsed)} MiB  rss ${mib(m.rss)} MiB  sessions ${h2.sessions.size}`);
}, 1000);
const [load, echo] = await Promise.all([
  h2load(['-D', String(seconds), '-c', String(clients), '-m', String(streams), '-i', path.join(dir, 'uris')]),
  h2load(['-D', String(seconds), '-c', '2', '-m', '4', '-d', path.join(dir, 'uris'), `${base}/echo`]), // POST echo alongside
]);
clearInterval(timer);
const line = (out) => (out.match(/requests: .*/) ?? ['?'])[0];
const rate = (out) => (out.match(/finished in .*/) ?? ['?'])[0];
console.log(`soak: GET mix ${rate(load)}\nsoak: GET mix ${line(load)}\nsoak: POST echo ${line(echo)}`);

await new Promise((r) => setTimeout(r, 500));
const end = gcHeap();
const peak = Math.max(...samples);
const bound = start * 1.5 + 8 * 1048576;
const failed = Number((load.match(/(\d+) failed/) ?? [0, 1])[1]) + Number((echo.match(/(\d+) failed/) ?? [0, 1])[1]);
const errored = Number((load.match(/(\d+) errored/) ?? [0, 1])[1]);
console.log(`soak: heap start ${mib(start)} MiB, peak ${mib(peak)} MiB, end ${mib(end)} MiB (bound ${mib(bound)} MiB), sessions left ${h2.sessions.size}`);
await h2.close();
const ok = end <= bound && failed === 0 && errored === 0;
console.log(ok ? 'soak: PASS' : `soak: FAIL (${end > bound ? 'heap grew beyond the bound' : `${failed} failed, ${errored} errored requests`})`);
process.exit(ok ? 0 : 1);
