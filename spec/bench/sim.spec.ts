// The scheduling-quality simulation (bench/sim.ts) is itself checked: it is deterministic, it
// delivers every octet, and on the captured nghttp anchor workload the tree scheduler finishes the
// critical set (HTML, CSS, JS) in at most half of round-robin's time with total time within 2%
// and no priority inversion — the goals of the benchmark issue, as a regression test.
import { metrics, simulate } from '../../bench/sim.js';
import { firefox, preemption } from '../../bench/workloads.js';

describe('link simulation', () => {
  it('is deterministic and delivers every octet of every stream', () => {
    const w = firefox();
    const a = simulate(w, 'tree');
    const b = simulate(w, 'tree');
    expect(a.streams.map((s) => [s.firstByte, s.done])).toEqual(b.streams.map((s) => [s.firstByte, s.done]));
    for (const s of a.streams) expect(s.arrivals.at(-1)![1]).toBe(s.req.size);
  });

  it('anchor tree: critical set ≤ 0.5× round-robin, total within 2%, zero inversions for tree', () => {
    const w = firefox();
    const tree = metrics(w, simulate(w, 'tree'));
    const rr = metrics(w, simulate(w, 'round-robin'));
    expect(tree.criticalTime).toBeLessThanOrEqual(0.5 * rr.criticalTime);
    expect(Math.abs(tree.totalTime / rr.totalTime - 1)).toBeLessThanOrEqual(0.02);
    expect(tree.inversionOctets).toBe(0);
  });

  it('preemption: late high-priority requests finish far sooner under tree than under round-robin', () => {
    const w = preemption();
    const tree = metrics(w, simulate(w, 'tree'));
    const rr = metrics(w, simulate(w, 'round-robin'));
    expect(tree.lateTime!).toBeLessThan(0.5 * rr.lateTime!);
    expect(tree.inversionOctets).toBe(0);
    expect(rr.inversionOctets).toBeGreaterThan(0);
  });
});
