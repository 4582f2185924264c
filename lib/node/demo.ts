/**
 * The embedded demo site of `h2sched serve` (no directory given): a page with CSS, JavaScript,
 * fonts and images of realistic sizes, generated once, deterministically, in memory. Images are
 * real PNGs (noise, so they do not compress), so a browser renders the page.
 */
import { crc32, deflateSync } from 'node:zlib';

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

function png(width: number, height: number, seed: number): Buffer {
  const r = rng(seed);
  const row = 1 + width * 3;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y++) {
    raw[y * row] = 0;
    for (let x = 0; x < width; x++) {
      const o = y * row + 1 + x * 3;
      const t = x / width;
      raw[o] = Math.floor(40 + 180 * t + 30 * r());
      raw[o + 1] = Math.floor(90 + 100 * (y / height) + 30 * r());
      raw[o + 2] = Math.floor(160 + 60 * r());
    }
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 6 })), chunk('IEND', Buffer.alloc(0)),
  ]);
}

function filler(bytes: number, seed: number, line: (i: number, r: () => number) => string): Buffer {
  const r = rng(seed);
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const l = line(i, r);
    parts.push(l);
    n += l.length + 1;
  }
  return Buffer.from(parts.join('\n'));
}

const IMAGES: Array<[string, number, number]> = [
  ['/img/hero.png', 480, 200], ['/img/photo-1.png', 320, 220], ['/img/photo-2.png', 320, 220],
  ['/img/photo-3.png', 320, 220], ['/img/photo-4.png', 320, 220], ['/img/logo.png', 96, 96],
];

/** Where the page asks which scheduler serves it (answered by the static handler). */
export const INFO_PATH = '/__h2sched/info';

/**
 * What the page shows about itself once loaded: the protocol of its own navigation
 * (`nextHopProtocol`, also set as `data-protocol` on `<body>`), the server's scheduler (from
 * INFO_PATH), and a waterfall of its assets from the Resource Timing API — when each one started
 * and finished, so that a reload under another `--scheduler` shows priorities at work.
 */
const SHOW = `addEventListener('load', () => {
  const nav = performance.getEntriesByType('navigation')[0];
  const proto = (nav && nav.nextHopProtocol) || 'unknown';
  document.body.dataset.protocol = proto;
  document.getElementById('protocol').textContent = proto === 'h2' ? 'HTTP/2 (h2)' : proto;
  fetch('${INFO_PATH}').then((r) => r.json()).then((info) => {
    document.body.dataset.scheduler = info.scheduler;
    document.getElementById('scheduler').textContent = info.scheduler;
  }).catch(() => undefined);
  const entries = performance.getEntriesByType('resource').filter((e) => !e.name.includes('/__h2sched/'));
  const end = Math.max(1, ...entries.map((e) => e.responseEnd));
  const box = document.getElementById('waterfall');
  box.style.cssText = 'padding: 8px 24px; font: 12px monospace;';
  for (const e of entries.sort((a, b) => a.startTime - b.startTime)) {
    const row = document.createElement('div');
    row.className = 'bar';
    row.style.cssText = 'position: relative; height: 16px; margin: 2px 0;';
    const bar = document.createElement('span');
    bar.style.cssText = 'position: absolute; top: 2px; height: 12px; background: #1d3f8c; border-radius: 3px; left: ' +
      (100 * e.startTime / end).toFixed(2) + '%; width: ' + Math.max(0.5, 100 * (e.responseEnd - e.startTime) / end).toFixed(2) + '%;';
    const label = document.createElement('span');
    label.style.cssText = 'position: relative; color: #1b2233;';
    label.textContent = new URL(e.name).pathname + '  ' + Math.round(e.responseEnd - e.startTime) + ' ms';
    row.append(bar, label);
    box.append(row);
  }
  box.dataset.bars = String(entries.length);
});
`;

let cached: Map<string, Asset> | undefined;

/** Path → asset of the demo site (built on first use). */
export function demoSite(): Map<string, Asset> {
  if (cached) return cached;
  const site = new Map<string, Asset>();
  const css = filler(60_000, 1, (i, r) => `.c${i} { margin: ${Math.floor(r() * 20)}px; color: #${Math.floor(r() * 0xffffff).toString(16).padStart(6, '0')}; }`);
  site.set('/css/site.css', { type: 'text/css; charset=utf-8', body: Buffer.concat([
    Buffer.from("@font-face { font-family: Demo; src: url(/fonts/demo-regular.woff2) format('woff2'); }\n" +
      "@font-face { font-family: Demo; font-weight: bold; src: url(/fonts/demo-bold.woff2) format('woff2'); }\n" +
      'body { font-family: Demo, sans-serif; margin: 0; background: #f4f6fb; color: #1b2233; }\n' +
      'header { background: #1d3f8c; color: white; padding: 24px; } main { display: grid; grid-template-columns: repeat(2, 1fr); gap: 12px; padding: 24px; }\n' +
      'img { width: 100%; border-radius: 8px; } .hero { grid-column: span 2; }\n'), css]) });
  site.set('/js/vendor.js', { type: 'text/javascript; charset=utf-8', body: filler(300_000, 2, (i, r) => `function v${i}(a){return a*${Math.floor(r() * 1000)}+${i};}`) });
  site.set('/js/app.js', { type: 'text/javascript; charset=utf-8', body: Buffer.concat([
    Buffer.from("document.addEventListener('DOMContentLoaded', () => { document.body.dataset.loaded = 'yes'; });\n" + SHOW),
    filler(150_000, 3, (i) => `const k${i} = v${i % 1000} ? ${i} : 0;`)]) });
  site.set('/fonts/demo-regular.woff2', { type: 'font/woff2', body: filler(45_000, 4, (i, r) => `${i}:${r()}`) });
  site.set('/fonts/demo-bold.woff2', { type: 'font/woff2', body: filler(48_000, 5, (i, r) => `${i}:${r()}`) });
  IMAGES.forEach(([path, w, h], i) => site.set(path, { type: 'image/png', body: png(w, h, 10 + i) }));
  const imgs = IMAGES.map(([p], i) => `<img ${i === 0 ? 'class="hero" ' : ''}src="${p}" alt="demo image ${i}">`).join('\n    ');
  const html = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>h2sched demo</title>
  <link rel="stylesheet" href="/css/site.css">
  <script src="/js/vendor.js" defer></script>
  <script src="/js/app.js" defer></script>
</head>
<body>
  <header><h1>h2sched</h1><p>Served over <b id="protocol">…</b> by the <b id="scheduler">…</b> send scheduler.</p></header>
  <section id="waterfall" aria-label="when each asset of this page arrived"></section>
  <main>
    ${imgs}
  </main>
  <!-- ${'padding to a realistic page size '.repeat(500)} -->
</body>
</html>
`;
  site.set('/', { type: 'text/html; charset=utf-8', body: Buffer.from(html) });
  site.set('/index.html', site.get('/')!);
  cached = site;
  return site;
}
