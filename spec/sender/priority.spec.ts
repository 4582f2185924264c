// The sender follows the scheduler on the wire: backlogged siblings get bytes by their weights
// within the WF2Q+ bound, a dependent stream gets nothing while an ancestor can send, and a
// browser-like tree (Firefox-style anchors sent as PRIORITY frames) finishes the critical
// resources first; round-robin changes the order but never the bytes.
import fc from 'fast-check';
import type { H2Event } from '../../lib/events.js';
import { GET, senderPair } from './helpers.js';

const L = 16384;

function serve(p: ReturnType<typeof senderPair>, size: (path: string) => number) {
  return (e: H2Event) => {
    if (e.type !== 'RequestReceived') return;
    const path = e.headers.find(([n]) => n === ':path')![1];
    p.server.sendHeaders(e.streamId, [[':status', '200']]);
    p.sender.write(e.streamId, Buffer.alloc(size(path), 1));
    p.sender.end(e.streamId);
  };
}

describe('priorities on the wire', () => {
  it('gives continuously backlogged siblings bytes in proportion to their weights (|B_i/w_i − B_j/w_j| ≤ 2(L/w_i + L/w_j))', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 256 }), { minLength: 2, maxLength: 5 }), (weights) => {
        const p = senderPair({ localSettings: { initialWindowSize: 1 << 24 } });
        p.pump();
        p.client.incrementFlowControlWindow(1 << 30);
        const ids = weights.map((_, i) => 2 * i + 1);
        // every response is far bigger than what is observed, so all stay backlogged
        ids.forEach((id, i) => p.client.sendHeaders(id, GET(`/${i}`), { endStream: true, priority: { weight: weights[i]! } }));
        let started = false;
        p.pump((e) => {
          if (e.type !== 'RequestReceived') return;
          p.server.sendHeaders(e.streamId, [[':status', '200']]);
          p.sender.write(e.streamId, Buffer.alloc(4 << 20));
          if (e.streamId === ids.at(-1)) started = true;
        });
        expect(started).toBe(true);
        // observe the frames sent while all were backlogged (before any finished)
        const B = new Map(ids.map((id) => [id, 0]));
        let lo = ids.map(() => ids.map(() => 0));
        let hi = ids.map(() => ids.map(() => 0));
        let total = 0;
        for (const d of p.data) {
          B.set(d.streamId, B.get(d.streamId)! + d.length);
          total += d.length;
          if (total > 3 << 20) break;
          ids.forEach((a, i) => ids.forEach((b, j) => {
            const v = B.get(a)! / weights[i]! - B.get(b)! / weights[j]!;
            lo[i]![j] = Math.min(lo[i]![j]!, v);
            hi[i]![j] = Math.max(hi[i]![j]!, v);
          }));
        }
        ids.forEach((_, i) => ids.forEach((__, j) => {
          if (i !== j) expect(hi[i]![j]! - lo[i]![j]!).toBeLessThanOrEqual(2 * (L / weights[i]! + L / weights[j]!) + 1);
        }));
        lo = hi = [];
      }),
      { numRuns: 30 },
    );
  });

  it('sends nothing for a stream while one of its ancestors has data and window (RFC 7540 §5.3.1)', () => {
    const p = senderPair({ localSettings: { initialWindowSize: 1 << 20 } });
    p.pump();
    p.client.incrementFlowControlWindow(1 << 24);
    p.client.sendHeaders(1, GET('/parent'), { endStream: true });
    p.client.sendHeaders(3, GET('/child'), { endStream: true, priority: { dependsOn: 1 } });
    p.client.sendHeaders(5, GET('/grandchild'), { endStream: true, priority: { dependsOn: 3 } });
    p.pump(serve(p, () => 200000));
    const order = p.data.filter((d) => d.length > 0).map((d) => d.streamId);
    const lastOf = (id: number) => order.lastIndexOf(id);
    const firstOf = (id: number) => order.indexOf(id);
    expect(lastOf(1)).toBeLessThan(firstOf(3));
    expect(lastOf(3)).toBeLessThan(firstOf(5));
  });

  it('never sends a byte for a stream while one of its ancestors still has data to send, on random trees (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 256 }), fc.integer({ min: 1, max: 60000 })), { minLength: 2, maxLength: 9 }), (spec) => {
        const p = senderPair({ localSettings: { initialWindowSize: 1 << 20 } });
        p.pump();
        p.client.incrementFlowControlWindow(1 << 24);
        const parent = new Map<number, number>();
        spec.forEach(([pick, weight], k) => {
          const id = 2 * k + 1;
          const dep = k === 0 || pick % (k + 1) === k ? 0 : 2 * (pick % (k + 1)) + 1;
          parent.set(id, dep);
          p.client.sendHeaders(id, GET(`/${k}`), { endStream: true, priority: { dependsOn: dep, weight } });
        });
        // all requests arrive before any response is written: the whole tree is known
        const size = (path: string) => spec[Number(path.slice(1))]![2];
        const reqs: Array<[number, string]> = [];
        p.pump((e) => { if (e.type === 'RequestReceived') reqs.push([e.streamId, e.headers.find(([n]) => n === ':path')![1]]); });
        for (const [id, path] of reqs) {
          p.server.sendHeaders(id, [[':status', '200']]);
          p.sender.write(id, Buffer.alloc(size(path), 1));
          p.sender.end(id);
        }
        p.pump();
        const order = p.data.filter((d) => d.length > 0).map((d) => d.streamId);
        const last = new Map<number, number>();
        order.forEach((id, i) => last.set(id, i));
        order.forEach((id, i) => {
          for (let a = parent.get(id)!; a !== 0; a = parent.get(a)!) expect(last.get(a)!).toBeLessThan(i);
        });
        for (const [id] of reqs) expect(p.body(id).length).toBe(size(`/${(id - 1) / 2}`));
      }),
      { numRuns: 60 },
    );
  });

  it('delivers a browser-like page (anchor tree, 20 resources) byte-exact with small windows, never over a window', () => {
    const p = senderPair({ localSettings: { initialWindowSize: 6000 } });
    p.pump();
    p.client.prioritize(3, { weight: 201 });
    p.client.prioritize(5, { weight: 101 });
    p.client.prioritize(7, { weight: 1 });
    p.client.prioritize(9, { weight: 1, dependsOn: 7 });
    p.client.prioritize(11, { weight: 1, dependsOn: 3 });
    const sizes = new Map<number, number>();
    for (let i = 0; i < 20; i++) {
      const id = 13 + 2 * i;
      sizes.set(id, 3000 + 7919 * i);
      p.client.sendHeaders(id, GET(`/r${i}`), { endStream: true, priority: { dependsOn: [3, 5, 9, 11][i % 4]!, weight: 1 + ((i * 37) % 256) } });
    }
    p.pump(serve(p, (path) => sizes.get(13 + 2 * Number(path.slice(2)))!));
    for (const [id, n] of sizes) expect(p.body(id).length).toBe(n);
    expect(p.windowViolations).toEqual([]);
    expect(p.data.every((d) => d.length <= 6000)).toBe(true);
  });

  it('with a Firefox-style anchor tree, finishes CSS and JS before images under `tree`, not under `round-robin`', () => {
    const run = (scheduler: 'tree' | 'round-robin') => {
      const p = senderPair({ localSettings: { initialWindowSize: 1 << 20 } }, {}, { scheduler });
      p.pump();
      p.client.incrementFlowControlWindow(1 << 24);
      // anchors on idle streams 3, 5, 7, 9, 11 (as Firefox and nghttp send them)
      p.client.prioritize(3, { weight: 201 });
      p.client.prioritize(5, { weight: 101 });
      p.client.prioritize(7, { weight: 1 });
      p.client.prioritize(9, { weight: 1, dependsOn: 7 });
      p.client.prioritize(11, { weight: 1, dependsOn: 3 });
      const requests: Array<[number, string, number]> = [[13, '/img1.jpg', 9], [15, '/img2.jpg', 9], [17, '/app.css', 3], [19, '/app.js', 3]];
      for (const [id, path, anchor] of requests) p.client.sendHeaders(id, GET(path), { endStream: true, priority: { dependsOn: anchor, weight: 32 } });
      p.pump(serve(p, () => 120000));
      const ends = new Map(p.data.filter((d) => d.endStream).map((d, i) => [d.streamId, i]));
      return { ends, data: p.data, body: (id: number) => p.body(id).length, violations: p.windowViolations };
    };
    const tree = run('tree');
    const rr = run('round-robin');
    expect(tree.violations).toEqual([]);
    for (const id of [13, 15, 17, 19]) {
      expect(tree.body(id)).toBe(120000);
      expect(rr.body(id)).toBe(120000); // same bytes either way
    }
    const lastDataIndex = (data: typeof tree.data, id: number) => data.map((d) => d.streamId).lastIndexOf(id);
    const firstDataIndex = (data: typeof tree.data, id: number) => data.map((d) => d.streamId).indexOf(id);
    // tree: CSS and JS finish before either image (images get only their weight-1 share meanwhile)
    expect(Math.max(lastDataIndex(tree.data, 17), lastDataIndex(tree.data, 19))).toBeLessThan(Math.min(lastDataIndex(tree.data, 13), lastDataIndex(tree.data, 15)));
    const imageShare = tree.data.slice(0, lastDataIndex(tree.data, 19)).filter((d) => d.streamId === 13 || d.streamId === 15).length;
    expect(imageShare).toBeLessThanOrEqual(4);
    // round-robin: an image finishes before the CSS or JS does
    expect(Math.min(lastDataIndex(rr.data, 13), lastDataIndex(rr.data, 15))).toBeLessThan(Math.max(lastDataIndex(rr.data, 17), lastDataIndex(rr.data, 19)));
    expect(firstDataIndex(rr.data, 13)).toBeLessThan(lastDataIndex(rr.data, 17));
  });
});
