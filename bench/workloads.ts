/**
 * Workloads for the scheduling-quality simulation. Sizes are the demo site's (a page with CSS,
 * JS, fonts and images of realistic sizes); priority signals are what real clients send,
 * captured from them by h2sched's own interop runs:
 *   - Chromium 156 (spec/interop/browser.spec.ts): exclusive RFC 7540 chains with weights from
 *     urgency, plus the RFC 9218 `priority` header;
 *   - nghttp -a (spec/interop/tools.spec.ts): PRIORITY frames on idle streams 3, 5, 7, 9, 11
 *     (weights 201, 101, 1, 1 under 7, 1 under 3), the page under 11, CSS/JS under 3 with weight
 *     32, images under 11 with weight 12.
 */
import type { PriorityFields } from '../lib/frame/types.js';
import { demoSite } from '../lib/node/demo.js';
import type { Cls, SimRequest, Workload } from './sim.js';

const site = demoSite();
const size = (p: string): number => site.get(p)!.body.length;
const CRITICAL: Cls[] = ['html', 'css', 'js'];
const IMAGES = ['/img/hero.png', '/img/photo-1.png', '/img/photo-2.png', '/img/photo-3.png', '/img/photo-4.png', '/img/logo.png'];
const f = (dependsOn: number, weight: number, exclusive = false): PriorityFields => ({ dependsOn, weight, exclusive });

/** When the page's subresources are discovered: after the first HTML bytes (one RTT and a bit). */
const DISCOVER = 250;
const FONTS_AT = 800;

function classOf(path: string): Cls {
  if (path === '/') return 'html';
  if (path.endsWith('.css')) return 'css';
  if (path.endsWith('.js')) return 'js';
  if (path.includes('/fonts/')) return 'font';
  if (path.includes('/img/')) return 'img';
  return 'other';
}

function req(id: number, path: string, at: number, fields?: PriorityFields, priority?: string, extra: Partial<SimRequest> = {}): SimRequest {
  return { id, path, cls: classOf(path), size: size(path), at, fields, priority, ...extra };
}

/** Chromium's page load as recorded: one exclusive chain ordered by urgency. */
export function chrome(): Workload {
  return {
    name: 'chrome', title: 'Chrome-style exclusive chain', critical: CRITICAL, priorityFrames: [],
    requests: [
      req(1, '/', 0, f(0, 256, true), 'u=0, i'),
      req(3, '/css/site.css', DISCOVER, f(0, 256, true), 'u=0'),
      req(5, '/img/hero.png', DISCOVER, f(3, 183, true), 'u=2, i'),
      req(7, '/img/photo-1.png', DISCOVER, f(5, 183, true), 'u=2, i'),
      req(9, '/img/photo-2.png', DISCOVER, f(7, 183, true), 'u=2, i'),
      req(11, '/js/vendor.js', DISCOVER, f(9, 147, true)),
      req(13, '/img/photo-3.png', DISCOVER, f(9, 183, true), 'u=2, i'),
      req(15, '/img/photo-4.png', DISCOVER, f(13, 183, true), 'u=2, i'),
      req(17, '/js/app.js', DISCOVER, f(11, 147, true)),
      req(19, '/img/logo.png', DISCOVER, f(17, 147, true), 'i'),
      req(21, '/fonts/demo-bold.woff2', FONTS_AT, f(0, 256, true), 'u=0'),
      req(23, '/fonts/demo-regular.woff2', FONTS_AT, f(21, 256, true), 'u=0'),
    ],
  };
}

const ANCHORS = [
  { at: 0, id: 3, fields: f(0, 201) }, { at: 0, id: 5, fields: f(0, 101) }, { at: 0, id: 7, fields: f(0, 1) },
  { at: 0, id: 9, fields: f(7, 1) }, { at: 0, id: 11, fields: f(3, 1) },
];

function anchorPage(extra: (path: string) => Partial<SimRequest> = () => ({})): SimRequest[] {
  const out: SimRequest[] = [req(13, '/', 0, f(11, 16))];
  let id = 15;
  for (const p of ['/css/site.css', '/js/vendor.js', '/js/app.js']) out.push(req(id, p, DISCOVER, f(3, 32), undefined, extra(p))), (id += 2);
  for (const p of IMAGES) out.push(req(id, p, DISCOVER, f(11, 12), undefined, extra(p))), (id += 2);
  for (const p of ['/fonts/demo-bold.woff2', '/fonts/demo-regular.woff2']) out.push(req(id, p, FONTS_AT, f(3, 42), undefined, extra(p))), (id += 2);
  return out;
}

/** Firefox / nghttp -a: anchor groups on idle streams. */
export function firefox(): Workload {
  return { name: 'firefox', title: 'Firefox/nghttp anchor tree', critical: CRITICAL, priorityFrames: ANCHORS, requests: anchorPage() };
}

/** A seeded LCG (deterministic workloads). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Twelve equal 200 KB streams with random weights, all at once: shares against GPS. */
export function flat(seed = 1): Workload {
  const r = rng(seed);
  const requests: SimRequest[] = [];
  for (let i = 0; i < 12; i++) {
    const id = 2 * i + 1;
    requests.push({ id, path: `/blob${i}`, cls: 'other', size: 200_000, at: 0, fields: f(0, 1 + Math.floor(r() * 256)) });
  }
  return { name: 'flat', title: 'Flat random weights', critical: [], priorityFrames: [], requests, flat: true };
}

/** The anchor page with vendor.js and two images stalled by the client's flow control until 3 s. */
export function stalls(): Workload {
  const stalled = new Set(['/js/vendor.js', '/img/hero.png', '/img/photo-2.png']);
  return {
    name: 'stalls', title: 'Mixed flow-control stalls', critical: CRITICAL, priorityFrames: ANCHORS,
    requests: anchorPage((p) => (stalled.has(p) ? { stallUntil: 3000 } : {})),
  };
}

/**
 * Preemption (Meenan's test): twenty low-priority images in flight, then at 2 s two
 * high-priority requests arrive (Chrome-style: exclusive on the root, urgency 1).
 */
export function preemption(): Workload {
  const requests: SimRequest[] = [];
  for (let i = 0; i < 20; i++) requests.push({ id: 2 * i + 1, path: `/low${i}.jpg`, cls: 'img', size: 100_000, at: 0, fields: f(i === 0 ? 0 : 2 * i - 1, 110, true), priority: 'u=4, i' });
  requests.push({ id: 41, path: '/hero-late.jpg', cls: 'css', size: 60_000, at: 2000, fields: f(0, 220, true), priority: 'u=1' });
  requests.push({ id: 43, path: '/font-late.woff2', cls: 'css', size: 40_000, at: 2000, fields: f(41, 220, true), priority: 'u=1' });
  return { name: 'preemption', title: 'Late high-priority requests preempt', critical: ['css'], late: [41, 43], priorityFrames: [], requests };
}

/** The anchor page under a storm of random PRIORITY frames (every 20 ms, among the page's streams). */
export function storm(seed = 1): Workload {
  const r = rng(seed);
  const base = firefox();
  const ids = base.requests.map((x) => x.id);
  const frames = [...ANCHORS];
  for (let t = DISCOVER + 20; t < 20_000; t += 20) {
    const id = ids[Math.floor(r() * ids.length)]!;
    let dep = [0, 3, 5, 7, 9, 11, ...ids][Math.floor(r() * (ids.length + 6))]!;
    if (dep === id) dep = 0;
    frames.push({ at: t, id, fields: f(dep, 1 + Math.floor(r() * 256), r() < 0.3) });
  }
  return { name: 'storm', title: 'Reprioritization storm', critical: CRITICAL, priorityFrames: frames, requests: base.requests };
}

export const WORKLOADS: Array<(seed: number) => Workload> = [chrome, firefox, flat, stalls, preemption, storm];
