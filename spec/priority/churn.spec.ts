// Priority churn must not grow a scheduler beyond its live streams: lazily deleted heap entries
// (heap-js has no fast remove) are compacted once stale entries outnumber live ones, so every
// internal queue stays within c × live streams + a constant, whatever the mix of add, update,
// remove, block, unblock, peek and charge — including thousands of updates of one stream.
import fc from 'fast-check';
import {
  createScheduler, type ExtensibleScheduler, type FifoScheduler, type PrioritySignal, type RoundRobinScheduler, type SendScheduler, type TreeScheduler,
} from '../../lib/priority/index.js';

type Op =
  | { k: 'add'; signal: PrioritySignal | undefined }
  | { k: 'update' | 'remove' | 'block' | 'unblock'; pick: number; signal: PrioritySignal }
  | { k: 'peek' }
  | { k: 'charge'; pick: number; bytes: number }
  | { k: 'serve'; bytes: number };

const signal: fc.Arbitrary<PrioritySignal> = fc.oneof(
  fc.record({ scheme: fc.constant('rfc9218' as const), urgency: fc.integer({ min: 0, max: 7 }), incremental: fc.boolean() }),
  fc.record({
    scheme: fc.constant('rfc7540' as const), dependsOn: fc.integer({ min: 0, max: 60 }).map((n) => (n === 0 ? 0 : 2 * n - 1)),
    weight: fc.integer({ min: 1, max: 256 }), exclusive: fc.boolean(),
  }),
);
// `pick` chooses among the streams added so far, mostly the few most recent: the same streams
// are updated, blocked and unblocked again and again.
const pick = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: fc.nat(1000) });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ k: fc.constant('add' as const), signal: fc.option(signal, { nil: undefined }) }) },
  { weight: 8, arbitrary: fc.record({ k: fc.constant('update' as const), pick, signal }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('remove' as const), pick, signal }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('block' as const), pick, signal }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('unblock' as const), pick, signal }) },
  { weight: 1, arbitrary: fc.constant({ k: 'peek' as const }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('charge' as const), pick, bytes: fc.integer({ min: 0, max: 16384 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('serve' as const), bytes: fc.integer({ min: 1, max: 16384 }) }) },
);
const ops = fc.array(op, { minLength: 300, maxLength: 2000, size: 'max' });

/** Plays `ops` on a scheduler, calling `check(liveStreams)` after every step. */
function play(s: SendScheduler, list: readonly Op[], check: (live: number) => void): void {
  const added: number[] = []; // every id ever added, in order; ids are never reused (as in HTTP/2)
  const live = new Set<number>();
  let next = 1;
  const at = (p: number): number => added[added.length - 1 - (p % added.length)]!;
  for (const o of list) {
    if (o.k === 'add') {
      s.add(next, o.signal);
      added.push(next);
      live.add(next);
      next += 2;
    } else if (o.k === 'peek') {
      s.peek();
    } else if (o.k === 'serve') {
      const id = s.peek();
      if (id !== null) s.charge(id, o.bytes);
    } else if (added.length > 0) {
      const id = at(o.pick);
      switch (o.k) {
        case 'update': s.update(id, o.signal); break;
        case 'remove': s.remove(id); live.delete(id); break;
        case 'block': s.block(id); break;
        case 'unblock': s.unblock(id); break;
        case 'charge': s.charge(id, o.bytes); break;
      }
    }
    if (s.size !== live.size) expect(s.size).toBe(live.size);
    check(live.size);
  }
}

/** 1000 updates of one ready stream among three, never picked: the worst case for lazy deletion. */
function hammer(s: SendScheduler, check: (live: number) => void): void {
  for (const id of [1, 3, 5]) { s.add(id); s.unblock(id); }
  for (let i = 0; i < 1000; i++) {
    s.update(3, { scheme: 'rfc9218', urgency: i % 8, incremental: i % 3 === 0 });
    if (i % 7 === 0) { s.block(5); s.unblock(5); }
    check(3);
  }
  for (let i = 7; i < 2007; i += 2) { s.add(i); s.unblock(i); s.remove(i); check(3); } // churn of short-lived streams
  for (const id of [1, 3, 5]) s.remove(id);
  check(0);
}

const C = 2;
const K = 64;
const RUNS = 250;

describe('scheduler state stays proportional to live streams under priority churn', () => {
  it(`extensible (RFC 9218): heap entries ≤ ${C} × live streams + ${K} after every operation (${RUNS} runs of 300-2000 operations)`, () => {
    const bound = (s: ExtensibleScheduler) => (live: number) => { if (s.queuedEntries > C * live + K) expect(s.queuedEntries).toBeLessThanOrEqual(C * live + K); };
    const h = createScheduler('extensible') as ExtensibleScheduler;
    hammer(h, bound(h));
    fc.assert(fc.property(ops, (list) => {
      const s = createScheduler('extensible') as ExtensibleScheduler;
      play(s, list, bound(s));
    }), { numRuns: RUNS });
  });

  it(`fifo: heap entries ≤ ${C} × live streams + ${K} after every operation (${RUNS} runs)`, () => {
    const bound = (s: FifoScheduler) => (live: number) => { if (s.queuedEntries > C * live + K) expect(s.queuedEntries).toBeLessThanOrEqual(C * live + K); };
    const h = createScheduler('fifo') as FifoScheduler;
    hammer(h, bound(h));
    fc.assert(fc.property(ops, (list) => {
      const s = createScheduler('fifo') as FifoScheduler;
      play(s, list, bound(s));
    }), { numRuns: RUNS });
  });

  it(`round-robin: ring entries (served prefix included) ≤ ${C} × live streams + ${K} after every operation (${RUNS} runs)`, () => {
    const bound = (s: RoundRobinScheduler) => (live: number) => { if (s.queuedEntries > C * live + K) expect(s.queuedEntries).toBeLessThanOrEqual(C * live + K); };
    const h = createScheduler('round-robin') as RoundRobinScheduler;
    hammer(h, bound(h));
    fc.assert(fc.property(ops, (list) => {
      const s = createScheduler('round-robin') as RoundRobinScheduler;
      play(s, list, bound(s));
    }), { numRuns: RUNS });
  });

  it(`tree (RFC 7540): nodes ≤ open + maxClosed + maxIdle, and its indexed heaps hold exactly the active children (no stale entries), after every operation (${RUNS} runs)`, () => {
    const bound = (s: TreeScheduler) => (live: number) => {
      if (s.tree.nodeCount > live + s.tree.maxClosed + s.tree.maxIdle) expect(s.tree.nodeCount).toBeLessThanOrEqual(live + s.tree.maxClosed + s.tree.maxIdle);
      const problems = s.tree.validate();
      if (problems.length > 0) expect(problems).toEqual([]);
    };
    const opts = { maxClosed: 8, maxIdle: 8 };
    const h = createScheduler('tree', opts) as TreeScheduler;
    hammer(h, bound(h));
    fc.assert(fc.property(ops, (list) => {
      const s = createScheduler('tree', opts) as TreeScheduler;
      play(s, list, bound(s));
    }), { numRuns: RUNS });
  });

  it('extensible: compaction changes no decision — after 1500 stale entries it serves as a scheduler that never had them', () => {
    // the same ready set and signals, reached with and without churn, serve in the same order
    const churned = createScheduler('extensible');
    const fresh = createScheduler('extensible');
    for (const id of [1, 3, 5, 7]) { churned.add(id); fresh.add(id); }
    churned.unblock(3);
    for (let i = 0; i < 500; i++) {
      churned.update(3, { scheme: 'rfc9218', urgency: i % 8, incremental: i % 2 === 0 }); // a ready stream: a new entry each time
      churned.unblock(7);
      churned.block(7);
    }
    expect(churned.size).toBe(4);
    for (const s of [churned, fresh]) {
      s.update(3, { scheme: 'rfc9218', urgency: 2, incremental: false });
      for (const id of [5, 7]) s.update(id, { scheme: 'rfc9218', urgency: 3, incremental: true });
      for (const id of [1, 3, 5, 7]) s.unblock(id);
    }
    const serve = (s: SendScheduler) => Array.from({ length: 16 }, () => {
      const id = s.peek()!;
      s.charge(id, 1000 + id);
      if (id === 3) s.block(3); // let urgency 3 go: non-incremental 1 and incremental 5, 7 take turns
      return id;
    });
    const order = serve(churned);
    expect(order).toEqual(serve(fresh));
    expect(new Set(order)).toEqual(new Set([1, 3, 5, 7]));
  });
});
