// The fast-check properties of the priority reference, section (a). Each states the RFC rule or
// fairness bound it checks. Conformance properties run against random trees and operation
// sequences (with a slow reference model); fairness properties against continuously backlogged
// siblings.
import fc from 'fast-check';
import { PriorityError, PriorityTree, SelfDependencyError, DuplicateStreamError, UnknownStreamError, TooManyStreamsError } from '../../lib/priority/index.js';
import { TreeModel } from './model.js';

type Op =
  | { k: 'insert'; id: number; dep: number; w: number; excl: boolean; blocked: boolean; prio: boolean }
  | { k: 'reprio' | 'prioritize'; id: number; dep: number; w: number; excl: boolean }
  | { k: 'remove' | 'block' | 'unblock'; id: number }
  | { k: 'next' }
  | { k: 'charge'; id: number; bytes: number };

const ID_POOL = Array.from({ length: 14 }, (_, i) => 2 * i + 1).concat([2, 4, 6]);
const id = fc.constantFrom(...ID_POOL);
const dep = fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 5, arbitrary: id });
const weight = fc.integer({ min: 1, max: 256 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('insert' as const), id, dep, w: weight, excl: fc.boolean(), blocked: fc.boolean(), prio: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constantFrom('reprio' as const, 'prioritize' as const), id, dep, w: weight, excl: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constantFrom('remove' as const, 'block' as const, 'unblock' as const), id }) },
  { weight: 3, arbitrary: fc.constant({ k: 'next' as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('charge' as const), id, bytes: fc.integer({ min: 0, max: 20000 }) }) },
);

/** The error the model expects for `o`, or undefined when it is valid. */
function expectedError(m: TreeModel, o: Op): (new (...a: never[]) => PriorityError) | undefined {
  if ('dep' in o && o.dep === o.id && (o.k !== 'insert' || o.prio)) return SelfDependencyError;
  const n = 'id' in o ? m.nodes.get(o.id) : undefined;
  switch (o.k) {
    case 'insert':
      if (n && n.kind !== 'idle') return DuplicateStreamError;
      if (m.open() >= m.maxStreams) return TooManyStreamsError;
      return undefined;
    case 'reprio': case 'charge': return n ? undefined : UnknownStreamError;
    case 'remove': case 'block': case 'unblock': return n?.kind === 'open' ? undefined : UnknownStreamError;
    default: return undefined;
  }
}

function applyTree(t: PriorityTree, o: Op): number | null | undefined {
  switch (o.k) {
    case 'insert':
      t.insertStream(o.id, o.prio ? { dependsOn: o.dep, weight: o.w, exclusive: o.excl } : undefined, { blocked: o.blocked });
      return undefined;
    case 'reprio': t.reprioritize(o.id, { dependsOn: o.dep, weight: o.w, exclusive: o.excl }); return undefined;
    case 'prioritize': t.prioritize(o.id, { dependsOn: o.dep, weight: o.w, exclusive: o.excl }); return undefined;
    case 'remove': t.removeStream(o.id); return undefined;
    case 'block': t.block(o.id); return undefined;
    case 'unblock': t.unblock(o.id); return undefined;
    case 'next': return t.next();
    case 'charge': t.charge(o.id, o.bytes); return undefined;
  }
}

function applyModel(m: TreeModel, o: Op): void {
  const n = 'id' in o ? m.nodes.get(o.id) : undefined;
  switch (o.k) {
    case 'insert':
      if (n?.kind === 'idle' && !o.prio) m.insertKeep(o.id, o.blocked);
      else if (o.prio) m.insert(o.id, o.dep, o.w, o.excl, o.blocked);
      else m.insert(o.id, 0, 16, false, o.blocked);
      return;
    case 'reprio': return m.reprioritize(o.id, o.dep, o.w, o.excl);
    case 'prioritize': return m.prioritize(o.id, o.dep, o.w, o.excl);
    case 'remove': return m.remove(o.id);
    case 'block': n!.blocked = true; return;
    case 'unblock': n!.blocked = false; return;
    default: return;
  }
}

function sameStructure(t: PriorityTree, m: TreeModel): void {
  expect(t.ids().sort((a, b) => a - b)).toEqual([...m.nodes.keys()].sort((a, b) => a - b));
  for (const [nid, n] of m.nodes) {
    expect(t.nodeInfo(nid)).toEqual({ parent: n.parent, weight: n.weight, children: m.children(nid), blocked: n.kind !== 'open' || n.blocked, state: n.kind });
  }
  expect(t.nodeInfo(0)!.children).toEqual(m.children(0));
}

describe('conformance properties (stateful, against a reference model)', () => {
  it('P1 well-formed tree, P2 atomic rejection, P3-P8 structure rules, P10 gating, P11 work conservation, on every step', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), fc.constantFrom([1000, 100, 100], [6, 2, 3], [8, 0, 2], [10, 3, 0]), (ops, [ms, mc, mi]) => {
        const t = new PriorityTree({ maxStreams: ms!, maxClosed: mc!, maxIdle: mi! });
        const m = new TreeModel(ms, mc, mi);
        for (const o of ops) {
          const want = expectedError(m, o);
          let got: unknown;
          let picked: number | null | undefined;
          const schedulableBefore = m.schedulable();
          try {
            picked = applyTree(t, o);
          } catch (e) {
            got = e;
          }
          if (want) {
            // P2: the typed error, and the tree exactly as it was (compared with the model below)
            expect(got).toBeInstanceOf(want);
          } else {
            expect(got).toBeUndefined();
            applyModel(m, o);
          }
          if (o.k === 'next') {
            // P10: the pick is schedulable (every ancestor blocked); P11: null only when nothing is
            if (schedulableBefore.length === 0) expect(picked).toBeNull();
            else expect(schedulableBefore).toContain(picked);
          }
          expect(t.validate()).toEqual([]); // P1
          sameStructure(t, m); // P3-P8 by comparison with the model's rules
          expect(t.peek() === null).toBe(m.schedulable().length === 0); // P11
        }
      }),
      { numRuns: 400 },
    );
  });

  it('P9 bounded state: nodes ≤ maxStreams + maxClosed + maxIdle + 1 under adversarial PRIORITY floods; open streams never evicted', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 5000 }), weight, fc.boolean()), { maxLength: 400 }),
        (prios) => {
          const t = new PriorityTree({ maxStreams: 10, maxClosed: 5, maxIdle: 8 });
          for (let i = 1; i <= 19; i += 2) t.insertStream(i);
          for (const [pid, d, w, x] of prios) {
            if (pid !== d) t.prioritize(pid, { dependsOn: d, weight: w, exclusive: x });
            expect(t.nodeCount).toBeLessThanOrEqual(10 + 5 + 8 + 1);
          }
          for (let i = 1; i <= 19; i += 2) expect(t.has(i)).toBe(true);
          expect(t.validate()).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('P12 determinism: identical operation sequences give identical pick sequences', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const run = () => {
          const t = new PriorityTree();
          const out: Array<number | null> = [];
          for (const o of ops) {
            try {
              const r = applyTree(t, o);
              if (r !== undefined) out.push(r);
            } catch {
              out.push(-1);
            }
          }
          for (let i = 0; i < 30; i++) out.push(t.next());
          return out;
        };
        expect(run()).toEqual(run());
      }),
      { numRuns: 200 },
    );
  });
});

// ---- fairness -------------------------------------------------------------------------------

type Discipline = 'wf2q+' | 'sfq';
function flat(weights: number[], discipline: Discipline): { t: PriorityTree; ids: number[] } {
  const t = new PriorityTree({ maxStreams: weights.length + 1, discipline });
  const ids = weights.map((_, i) => 2 * i + 1);
  ids.forEach((sid, i) => t.insertStream(sid, { weight: weights[i]! }));
  return { t, ids };
}
const weightsArb = (max = 6) => fc.array(fc.integer({ min: 1, max: 256 }), { minLength: 2, maxLength: max });
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
/**
 * Longest run of picks a continuously ready sibling v waits. SFQ (reference property 15):
 * Σ_{u≠v}(⌈w_u/w_v⌉ + 1) + 1. WF2Q+: each packet is served between its fluid start and one
 * packet after its fluid finish, so consecutive services are at most 2⌈W/w_v⌉ + 1 picks apart.
 */
function waitBound(d: Discipline, weights: number[], v: number): number {
  if (d === 'wf2q+') return 2 * Math.ceil(sum(weights) / weights[v]!) + 1;
  return weights.reduce((s, w, u) => (u === v ? s : s + Math.ceil(w / weights[v]!) + 1), 0) + 1;
}
function longestGap(seq: number[], x: number): number {
  let gap = 0;
  let longest = 0;
  for (const s of seq) {
    gap = s === x ? 0 : gap + 1;
    longest = Math.max(longest, gap);
  }
  return longest;
}
/** Serves `steps` frames; each stream's next frame length is drawn in advance and given as a hint when `hints`. */
function serveBytes(t: PriorityTree, ids: number[], lens: number[], hints: boolean): number[][] {
  const next = ids.map((_, i) => lens[i % lens.length]!);
  if (hints) ids.forEach((sid, i) => t.setNextLength(sid, next[i]!));
  const B = ids.map(() => 0);
  const history: number[][] = [];
  let k = ids.length;
  for (let step = 0; step < lens.length; step++) {
    const sid = t.peek()!;
    const i = ids.indexOf(sid);
    t.charge(sid, next[i]!);
    B[i] = B[i]! + next[i]!;
    next[i] = lens[k++ % lens.length]!;
    if (hints) t.setNextLength(sid, next[i]!);
    history.push(B.slice());
  }
  return history;
}
/** max over intervals of |ΔB_i/w_i − ΔB_j/w_j|, and max over instants of |B_i/w_i − B_j/w_j|. */
function pairSpread(history: number[][], weights: number[], i: number, j: number): { interval: number; instant: number } {
  let lo = 0;
  let hi = 0;
  for (const B of history) {
    const d = B[i]! / weights[i]! - B[j]! / weights[j]!;
    lo = Math.min(lo, d);
    hi = Math.max(hi, d);
  }
  return { interval: hi - lo, instant: Math.max(hi, -lo) };
}
const L = 16384;
const lensArb = fc.array(fc.integer({ min: 1, max: L }), { minLength: 50, maxLength: 300 });

describe.each<Discipline>(['wf2q+', 'sfq'])('fairness properties, %s', (d) => {
  it('P13 exact long-run shares (RFC 7540 §5.3.2): every window of Σw picks holds exactly w_i picks of each sibling, periodically', () => {
    fc.assert(
      fc.property(weightsArb(), (weights) => {
        const { t, ids } = flat(weights, d);
        const W = sum(weights);
        for (let i = 0; i < weights.length; i++) t.next(); // warm-up
        const period: number[] = [];
        for (let i = 0; i < W; i++) period.push(t.next()!);
        ids.forEach((sid, i) => expect(period.filter((x) => x === sid).length).toBe(weights[i]));
        for (let r = 0; r < 3; r++) {
          const again: number[] = [];
          for (let i = 0; i < W; i++) again.push(t.next()!);
          expect(again).toEqual(period);
        }
      }),
      { numRuns: 150 },
    );
  });

  if (d === 'sfq') {
    it('P14 SFQ lag bound with random byte charges: |ΔB_i/w_i − ΔB_j/w_j| ≤ L/w_i + L/w_j over every interval', () => {
      fc.assert(
        fc.property(weightsArb(5), lensArb, (weights, lens) => {
          const { t, ids } = flat(weights, d);
          const h = serveBytes(t, ids, lens, false);
          for (let i = 0; i < ids.length; i++) {
            for (let j = 0; j < i; j++) expect(pairSpread(h, weights, i, j).interval).toBeLessThanOrEqual(L / weights[i]! + L / weights[j]! + 1e-6);
          }
        }),
        { numRuns: 200 },
      );
    });
  } else {
    it('P14 for WF2Q+ with frame-length hints: |B_i/w_i − B_j/w_j| ≤ L/w_i + L/w_j at every instant, so any interval is within twice that', () => {
      fc.assert(
        fc.property(weightsArb(5), lensArb, (weights, lens) => {
          const { t, ids } = flat(weights, d);
          const h = serveBytes(t, ids, lens, true);
          for (let i = 0; i < ids.length; i++) {
            for (let j = 0; j < i; j++) {
              const b = L / weights[i]! + L / weights[j]!;
              const s = pairSpread(h, weights, i, j);
              expect(s.instant).toBeLessThanOrEqual(b + 1e-6);
              expect(s.interval).toBeLessThanOrEqual(2 * b + 1e-6);
            }
          }
        }),
        { numRuns: 200 },
      );
    });

    it('WF2Q+ lag versus the ideal fluid (GPS) share is within one maximum frame, with frame-length hints', () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 256 }), { minLength: 2, maxLength: 40 }), lensArb, (weights, lens) => {
          const { t, ids } = flat(weights, d);
          const W = sum(weights);
          for (const B of serveBytes(t, ids, lens, true)) {
            const T = sum(B);
            B.forEach((b, i) => expect(Math.abs(b - (T * weights[i]!) / W)).toBeLessThanOrEqual(L));
          }
        }),
        { numRuns: 200 },
      );
    });

    it('WF2Q+ lag versus GPS is within one frame without hints when frames are full-size (the common case)', () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 256 }), { minLength: 2, maxLength: 100 }), fc.integer({ min: 50, max: 400 }), (weights, steps) => {
          const { t, ids } = flat(weights, d);
          const W = sum(weights);
          for (const B of serveBytes(t, ids, new Array<number>(steps).fill(L), false)) {
            const T = sum(B);
            B.forEach((b, i) => expect(Math.abs(b - (T * weights[i]!) / W)).toBeLessThanOrEqual(L));
          }
        }),
        { numRuns: 100 },
      );
    });
  }

  it('P15 bounded wait, flat: a continuously ready sibling is picked at least every waitBound picks', () => {
    fc.assert(
      fc.property(weightsArb(8), (weights) => {
        const { t, ids } = flat(weights, d);
        const seq: number[] = [];
        for (let i = 0; i < 3 * sum(weights) + 10; i++) seq.push(t.next()!);
        ids.forEach((sid, v) => expect(longestGap(seq, sid)).toBeLessThanOrEqual(waitBound(d, weights, v)));
      }),
      { numRuns: 150 },
    );
  });

  it('P15 bounded wait, hierarchical: a leaf waits at most the product of the per-level bounds on its path', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), weight), { minLength: 2, maxLength: 11 }), (spec) => {
        const t = new PriorityTree({ discipline: d });
        const parents: number[] = [];
        const ws: number[] = [];
        spec.forEach(([p, w], k) => {
          const par = k === 0 || p % (k + 1) === k ? 0 : 2 * (p % (k + 1)) + 1;
          parents.push(par);
          ws.push(w);
          t.insertStream(2 * k + 1, { dependsOn: par, weight: w });
        });
        const ids = spec.map((_, k) => 2 * k + 1);
        const isLeaf = (sid: number) => !parents.includes(sid);
        for (const sid of ids) if (!isLeaf(sid)) t.block(sid);
        const seq: number[] = [];
        for (let i = 0; i < 3000; i++) seq.push(t.next()!);
        for (const sid of ids.filter(isLeaf)) {
          let bound = 1;
          for (let x = sid; x !== 0; x = parents[(x - 1) / 2]!) {
            const par = parents[(x - 1) / 2]!;
            const sibs = ids.filter((y) => parents[(y - 1) / 2] === par);
            bound *= waitBound(d, sibs.map((y) => ws[(y - 1) / 2]!), sibs.indexOf(x));
          }
          expect(longestGap(seq, sid)).toBeLessThanOrEqual(bound);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('P16 a blocked parent passes its share: subtree(A) : B = w_A : w_B, and A\'s children split it by their weights', () => {
    fc.assert(
      fc.property(weight, weight, fc.array(weight, { minLength: 1, maxLength: 4 }), fc.integer({ min: 2, max: 6 }), (wA, wB, childW, k) => {
        const t = new PriorityTree({ discipline: d });
        t.insertStream(1, { weight: wA }, { blocked: true });
        t.insertStream(3, { weight: wB });
        childW.forEach((w, i) => t.insertStream(5 + 2 * i, { dependsOn: 1, weight: w }));
        const n = k * (wA + wB);
        const seq: number[] = [];
        for (let i = 0; i < n; i++) seq.push(t.next()!);
        const b = seq.filter((x) => x === 3).length;
        expect(Math.abs(b - k * wB)).toBeLessThanOrEqual(1);
        const Wc = sum(childW);
        childW.forEach((w, i) => {
          expect(Math.abs(seq.filter((x) => x === 5 + 2 * i).length - ((n - b) * w) / Wc)).toBeLessThanOrEqual(childW.length + 1);
        });
      }),
      { numRuns: 150 },
    );
  });

  it('P17 no credit hoarding: a heavy stream blocked for D picks neither bursts nor starves the others on return, whatever D', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 3000 }), fc.nat(300), (light, D, warm) => {
        const weights = [256, ...light];
        const { t, ids } = flat(weights, d);
        const W = sum(weights);
        const n = weights.length;
        for (let i = 0; i < warm; i++) t.next();
        t.block(ids[0]!);
        for (let i = 0; i < D; i++) t.next();
        t.unblock(ids[0]!);
        const seq: number[] = [];
        for (let i = 0; i < 3 * W; i++) seq.push(t.next()!);
        // (a) in every prefix of m picks the returning stream has at most m·w/W + 1 + (n−1)·w/W (+1 rounding)
        let mine = 0;
        seq.forEach((x, m) => {
          if (x === ids[0]) mine++;
          expect(mine).toBeLessThanOrEqual(((m + 1) * 256) / W + 1 + ((n - 1) * 256) / W + 1);
        });
        // (b) every other sibling keeps its wait bound
        ids.slice(1).forEach((sid, v) => expect(longestGap(seq, sid)).toBeLessThanOrEqual(waitBound(d, weights, v + 1)));
      }),
      { numRuns: 150 },
    );
  });

  it('P18 a reprioritization takes effect within one period of the new weights (no stale entries, no double service)', () => {
    fc.assert(
      fc.property(weightsArb(5), weightsArb(5), fc.nat(500), (before, after, warm) => {
        const n = Math.min(before.length, after.length);
        const { t, ids } = flat(before.slice(0, n), d);
        for (let i = 0; i < warm; i++) t.next();
        ids.forEach((sid, i) => t.reprioritize(sid, { weight: after[i]! }));
        const W = sum(after.slice(0, n));
        for (let i = 0; i < W; i++) t.next(); // one period
        const window: number[] = [];
        for (let i = 0; i < W; i++) window.push(t.next()!);
        ids.forEach((sid, i) => expect(Math.abs(window.filter((x) => x === sid).length - after[i]!)).toBeLessThanOrEqual(1));
        expect(t.validate()).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});
