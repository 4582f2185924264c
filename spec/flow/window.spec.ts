// Flow-control windows (RFC 9113 §5.2, §6.9): the 2^31-1 ceiling, negative windows after a
// SETTINGS decrease, and the coalescing acknowledgeReceivedData policy.
import fc from 'fast-check';
import { MAX_INT31 } from '../../lib/constants.js';
import { RecvWindow, SendWindow } from '../../lib/flow/window.js';

describe('send window', () => {
  it('refuses to grow past 2^31-1 and stays unchanged (RFC 9113 §6.9.1)', () => {
    const w = new SendWindow(65535);
    expect(w.adjust(MAX_INT31 - 65535)).toBe(true);
    expect(w.adjust(1)).toBe(false);
    expect(w.size).toBe(MAX_INT31);
  });

  it('may go negative after a SETTINGS_INITIAL_WINDOW_SIZE decrease (RFC 9113 §6.9.2)', () => {
    const w = new SendWindow(65535);
    w.consume(60000);
    expect(w.adjust(16384 - 65535)).toBe(true);
    expect(w.size).toBe(16384 - 60000);
  });
});

describe('receive window and acknowledgeReceivedData', () => {
  it('reports an overrun when the peer sends more than the window', () => {
    const w = new RecvWindow(100);
    expect(w.consume(100)).toBe(true);
    expect(w.consume(1)).toBe(false);
  });

  it('coalesces: nothing until half the window is processed, then one increment', () => {
    const w = new RecvWindow(65535);
    w.consume(40000);
    expect(w.acknowledge(30000)).toBe(0);
    expect(w.acknowledge(3000)).toBe(33000);
    expect(w.current).toBe(65535 - 40000 + 33000);
  });

  it('updates early when the window is exhausted and more than min(1024, max/4) is processed', () => {
    const w = new RecvWindow(65535);
    w.consume(65535);
    expect(w.acknowledge(1024)).toBe(0);
    expect(w.acknowledge(1)).toBe(1025);
  });

  it('never lets the window exceed its target, and never loses an acknowledged byte for good (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1 << 20 }), fc.array(fc.nat(70000), { maxLength: 60 }), (max, sends) => {
        const w = new RecvWindow(max);
        let inFlight = 0;
        for (const n of sends) {
          const k = Math.min(n, w.current);
          w.consume(k);
          inFlight += k;
          const inc = w.acknowledge(k);
          expect(w.current).toBeLessThanOrEqual(w.max);
          expect(inc).toBeGreaterThanOrEqual(0);
        }
        // whatever is still unreturned is at most what stays below the thresholds
        expect(w.processed).toBeLessThan(Math.max(1, w.max >>> 1));
        expect(inFlight).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });

  it('grows the target with manual increments and resizes with SETTINGS deltas, within 2^31-1', () => {
    const w = new RecvWindow(65535);
    expect(w.open(100000)).toBe(true);
    expect(w.max).toBe(165535);
    expect(w.resize(-65535)).toBe(true);
    expect([w.current, w.max]).toEqual([100000, 100000]);
    expect(w.open(MAX_INT31)).toBe(false);
  });
});
