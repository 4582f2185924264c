// The SendScheduler implementations behind one interface: round-robin, FIFO, RFC 9218 extensible
// (property 19) and the tree; the Priority Field Value parser; the urgency ↔ weight bridge.
import fc from 'fast-check';
import {
  createScheduler, ExtensibleScheduler, formatPriorityField, parsePriorityField, SCHEDULER_NAMES, type SendScheduler,
  TreeScheduler, urgencyToWeight, weightToUrgency,
} from '../../lib/priority/index.js';
import { UsageError } from '../../lib/errors.js';

function serve(s: SendScheduler, n: number, bytes = 1): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = s.peek();
    if (id === null) break;
    out.push(id);
    s.charge(id, bytes);
  }
  return out;
}
const u = (urgency: number, incremental = false) => ({ scheme: 'rfc9218' as const, urgency, incremental });
const w = (weight: number, dependsOn = 0, exclusive = false) => ({ scheme: 'rfc7540' as const, dependsOn, weight, exclusive });

describe('the SendScheduler contract, for every scheduler', () => {
  it.each(SCHEDULER_NAMES)('%s: streams start blocked, only unblocked streams are picked, removed ones never', (name) => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('add', 'unblock', 'block', 'remove', 'serve'), fc.integer({ min: 1, max: 9 })), { maxLength: 80 }), (ops) => {
        const s = createScheduler(name);
        const ready = new Set<number>();
        const present = new Set<number>();
        const closed = new Set<number>(); // HTTP/2 never reuses a stream id
        for (const [op, k] of ops) {
          const id = 2 * k - 1;
          if (op === 'add' && !closed.has(id)) { s.add(id); present.add(id); }
          if (op === 'unblock') { s.unblock(id); if (present.has(id)) ready.add(id); }
          if (op === 'block') { s.block(id); ready.delete(id); }
          if (op === 'remove') { s.remove(id); ready.delete(id); if (present.delete(id)) closed.add(id); }
          if (op === 'serve') {
            const got = s.peek();
            // work conservation and gating: a pick exactly when something is ready, and only a ready stream
            if (ready.size === 0) expect(got).toBeNull();
            else expect(ready.has(got!)).toBe(true);
            if (got !== null) s.charge(got, 100);
          }
          expect(s.size).toBe(present.size);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('createScheduler refuses an unknown name with a usage error', () => {
    expect(() => createScheduler('lottery' as never)).toThrow(UsageError);
    expect(createScheduler().name).toBe('tree');
  });
});

describe('round-robin and fifo baselines', () => {
  it('round-robin gives one frame to each ready stream in turn, whatever the priorities', () => {
    const s = createScheduler('round-robin');
    for (const id of [1, 3, 5]) { s.add(id, w(id === 1 ? 256 : 1)); s.unblock(id); }
    expect(serve(s, 7)).toEqual([1, 3, 5, 1, 3, 5, 1]);
    s.block(3);
    expect(serve(s, 4)).toEqual([5, 1, 5, 1]);
  });

  it('fifo serves one stream at a time in the order they were added; a blocked head lets the next go', () => {
    const s = createScheduler('fifo');
    for (const id of [5, 1, 3]) { s.add(id); s.unblock(id); }
    expect(serve(s, 3)).toEqual([5, 5, 5]);
    s.block(5);
    expect(serve(s, 2)).toEqual([1, 1]);
    s.unblock(5);
    expect(serve(s, 1)).toEqual([5]);
  });
});

describe('tree scheduler', () => {
  it('applies RFC 7540 signals and ignores them once the peer sent SETTINGS_NO_RFC7540_PRIORITIES=1', () => {
    const s = new TreeScheduler();
    s.add(1, w(200));
    s.add(3, w(1));
    s.unblock(1);
    s.unblock(3);
    expect(serve(s, 201).filter((x) => x === 3)).toHaveLength(1);
    s.ignoreRfc7540 = true;
    s.update(3, w(256));
    expect(s.tree.nodeInfo(3)!.weight).toBe(1);
    s.update(3, u(0));
    expect(s.tree.nodeInfo(3)!.weight).toBe(256); // RFC 9218 signals still count, bridged to a weight
  });

  it('turns PRIORITY frames for idle streams into anchors and ignores unusable signals', () => {
    const s = new TreeScheduler();
    s.update(3, w(201));
    s.add(5, w(1, 3));
    expect(s.tree.nodeInfo(5)!.parent).toBe(3);
    expect(() => s.update(5, w(16, 5))).not.toThrow(); // self-dependency: ignored here, the engine answers it
  });
});

describe('P19 RFC 9218 extensible scheduler', () => {
  it('never serves urgency k while a ready stream with urgency < k exists', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 12 }), (streams) => {
        const s = new ExtensibleScheduler();
        streams.forEach(([urg, inc, ready], i) => {
          s.add(2 * i + 1, u(urg, inc));
          if (ready) s.unblock(2 * i + 1);
        });
        const readyUrg = streams.filter(([, , r]) => r).map(([x]) => x);
        const got = s.peek();
        if (readyUrg.length === 0) expect(got).toBeNull();
        else expect(streams[(got! - 1) / 2]![0]).toBe(Math.min(...readyUrg));
      }),
      { numRuns: 300 },
    );
  });

  it('serves equal-urgency non-incremental streams one by one in ascending stream id', () => {
    const s = new ExtensibleScheduler();
    for (const id of [7, 3, 5]) { s.add(id, u(3)); s.unblock(id); }
    expect(serve(s, 3)).toEqual([3, 3, 3]);
    s.remove(3);
    expect(serve(s, 2)).toEqual([5, 5]);
  });

  it('keeps equal-urgency incremental streams within one frame of each other in bytes, at all times', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.array(fc.integer({ min: 1, max: 16384 }), { minLength: 20, maxLength: 200 }), (n, lens) => {
        const s = new ExtensibleScheduler();
        const bytes = new Map<number, number>();
        for (let i = 0; i < n; i++) { s.add(2 * i + 1, u(2, true)); s.unblock(2 * i + 1); bytes.set(2 * i + 1, 0); }
        for (const len of lens) {
          const id = s.peek()!;
          s.charge(id, len);
          bytes.set(id, bytes.get(id)! + len);
          const v = [...bytes.values()];
          expect(Math.max(...v) - Math.min(...v)).toBeLessThanOrEqual(16384);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('lets incremental and non-incremental streams of one urgency take turns by bytes, so neither starves', () => {
    const s = new ExtensibleScheduler();
    s.add(1, u(3)); s.unblock(1);
    s.add(3, u(3, true)); s.unblock(3);
    const seq = serve(s, 100, 1000);
    expect(seq.filter((x) => x === 1).length).toBe(50);
  });

  it('applies a PRIORITY_UPDATE received before the stream opened, the latest one only, from a bounded cache', () => {
    const s = new ExtensibleScheduler({ maxPendingSignals: 2 });
    s.update(9, u(6));
    s.update(9, u(0)); // latest wins
    s.update(11, u(5));
    s.update(13, u(5)); // evicts 9's, the oldest
    s.add(11); s.unblock(11);
    s.add(1); s.unblock(1); // default urgency 3
    expect(s.peek()).toBe(1);
    s.add(9); s.unblock(9);
    expect(s.peek()).toBe(1); // 9's signal was evicted: default urgency, id order after 1
    s.add(13, u(0)); s.unblock(13);
    expect(s.peek()).toBe(1); // the buffered update (u=5) is applied on open, after the header's u=0
    s.remove(1);
    s.remove(9);
    expect(s.peek()).toBe(11); // 11 and 13 both at u=5: ascending id
  });

  it('re-queues a stream whose urgency changes, and a returning incremental stream gets no credit for its pause', () => {
    const s = new ExtensibleScheduler();
    s.add(1, u(3, true)); s.unblock(1);
    s.add(3, u(3, true)); s.unblock(3);
    serve(s, 10, 1000);
    s.block(3);
    serve(s, 50, 1000);
    s.unblock(3);
    const seq = serve(s, 10, 1000);
    expect(seq.filter((x) => x === 3).length).toBeLessThanOrEqual(6); // not 50 frames of catch-up
    s.update(1, u(1));
    expect(s.peek()).toBe(1);
  });

  it('bridges RFC 7540 weights to urgencies unless the peer disabled RFC 7540 signals', () => {
    const s = new ExtensibleScheduler();
    s.add(1, w(256)); s.unblock(1);
    s.add(3); s.unblock(3);
    expect(s.peek()).toBe(1); // weight 256 → urgency 0
    s.ignoreRfc7540 = true;
    s.update(1, w(1));
    expect(s.peek()).toBe(1);
  });
});

describe('RFC 9218 Priority Field Value and the urgency ↔ weight bridge', () => {
  it.each([
    ['u=5, i', 5, true],
    ['u=0', 0, false],
    ['i', 3, true],
    ['i=?0, u=7', 7, false],
    ['', 3, false],
    ['u=8', 3, false], // out of range: ignored
    ['u=-1, i=?1', 3, true],
    ['u=2.5', 3, false], // wrong type: ignored
    ['u="1"', 3, false],
    ['u=1, x=abc, i', 1, true], // unknown parameter: ignored
    ['u=(1 2)', 3, false], // inner list: wrong type
    ['garbage;;;', 3, false], // unparsable: defaults
  ])('parses %j as urgency %i, incremental %s', (v, urg, inc) => {
    expect(parsePriorityField(v)).toEqual({ scheme: 'rfc9218', urgency: urg, incremental: inc });
  });

  it('formats and parses back every combination', () => {
    for (let x = 0; x <= 7; x++) {
      for (const inc of [false, true]) expect(parsePriorityField(formatPriorityField({ urgency: x, incremental: inc }))).toMatchObject({ urgency: x, incremental: inc });
    }
  });

  it('maps urgency 0..7 to weights 256, 220, 183, 147, 110, 74, 37, 1 and back', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(urgencyToWeight)).toEqual([256, 220, 183, 147, 110, 74, 37, 1]);
    for (let x = 0; x <= 7; x++) expect(weightToUrgency(urgencyToWeight(x))).toBe(x);
    expect(weightToUrgency(16)).toBe(7);
  });
});
