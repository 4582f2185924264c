// Bodies from files through FileSource, in the link simulation over a simulated disk. The bound
// of the pull-source design (issue 13): a stream whose source has octets left never loses its
// turn because its read-ahead is late. With `prefetch` (the default) and `sync` reads it loses
// none — the DATA arrival trace is the one in-memory bodies give, whatever the disk latency;
// with `async` reads alone it does lose turns once the disk is slower than the link.
import fc from 'fast-check';
import { simulate } from '../../bench/sim.js';
import { WORKLOADS } from '../../bench/workloads.js';

const SCHEDULERS = ['tree', 'round-robin', 'fifo', 'extensible'] as const;
const trace = (r: ReturnType<typeof simulate>) => r.streams.map((s) => s.arrivals);

describe('file bodies in the link simulation', () => {
  it('prefetch and sync reads: every stream gets exactly the turns in-memory bodies get, at any disk latency (0 frames lost)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: WORKLOADS.length - 1 }), fc.integer({ min: 1, max: 1000 }), fc.constantFrom(...SCHEDULERS),
      fc.integer({ min: 0, max: 400 }), fc.constantFrom('prefetch' as const, 'sync' as const),
      (wi, seed, scheduler, latency, mode) => {
        const w = WORKLOADS[wi]!(seed);
        const memory = simulate(w, scheduler);
        const files = simulate(w, scheduler, undefined, undefined, { mode, latency });
        expect(trace(files)).toEqual(trace(memory));
      },
    ), { numRuns: 40 });
  });

  it('prefetch reads mostly ahead on the pool: at most about one synchronous read per response at disk latencies up to 50 ms', () => {
    for (const make of WORKLOADS) {
      const w = make(7);
      for (const latency of [0, 5, 50]) {
        const r = simulate(w, 'tree', undefined, undefined, { mode: 'prefetch', latency });
        expect(r.disk!.syncReads).toBeLessThanOrEqual(w.requests.length);
        expect(r.disk!.asyncReads).toBeGreaterThan(r.disk!.syncReads);
      }
    }
  });

  it('async reads alone: a disk slower than the link makes streams lose turns (why prefetch is the default)', () => {
    const w = WORKLOADS.find((m) => m(1).name === 'storm')!(1);
    const memory = simulate(w, 'tree');
    const slow = simulate(w, 'tree', undefined, undefined, { mode: 'async', latency: 200 });
    expect(slow.disk!.syncReads).toBe(0);
    expect(trace(slow)).not.toEqual(trace(memory));
  });
});
