/**
 * The `extensible` scheduler (RFC 9218 §10): urgency 0..7 in strict order; within an urgency,
 * non-incremental streams one at a time in ascending stream id, incremental streams round-robin
 * by bytes. When both kinds wait at the same urgency they take turns by bytes sent, so neither
 * starves the other (§10 warns about both cases).
 *
 * RFC 7540 signals are bridged with {@link weightToUrgency} (dependencies are ignored) unless the
 * peer disabled them. Signals for streams not yet added (PRIORITY_UPDATE may arrive before the
 * request, §7.1) are kept, the latest per stream, in a bounded cache and applied on `add`.
 *
 * The heaps (heap-js: no decrease-key, linear `remove`) use lazy deletion: a ready stream has
 * exactly one current entry, and every change (new urgency, block, remove, a charge) bumps its
 * generation and leaves the old entry stale, to be skipped when it surfaces. Churn (a client
 * re-signalling one stream thousands of times) would pile stale entries up without bound, so the
 * heaps are rebuilt from their current entries once the entries exceed twice the ready streams
 * plus {@link COMPACT_SLACK}: O(entries) then, amortized O(1) per stale entry, never a `remove()`.
 */
import { Heap } from 'heap-js';
import type { SendScheduler } from './scheduler.js';
import { DEFAULT_URGENCY, type PrioritySignal, weightToUrgency } from './signal.js';

interface Slot {
  readonly id: number;
  urgency: number;
  incremental: boolean;
  /** Byte clock among the incremental streams of its urgency. */
  cycle: number;
  ready: boolean;
  gen: number;
}

interface Entry { readonly s: Slot; readonly gen: number; readonly key: number }

/** Stale entries tolerated beyond the ready streams before the heaps are rebuilt. */
const COMPACT_SLACK = 64;

const current = (e: Entry): boolean => e.gen === e.s.gen;

class Level {
  /** Non-incremental: by stream id. */
  readonly sequential: Heap<Entry> = new Heap<Entry>((a, b) => a.key - b.key);
  /** Incremental: by byte clock, then id. */
  readonly incremental: Heap<Entry> = new Heap<Entry>((a, b) => a.key - b.key || a.s.id - b.s.id);
  sequentialBytes = 0;
  incrementalBytes = 0;
  /** Clock of the incremental stream served last: where a newly ready one joins. */
  clock = 0;
}

/** Options of {@link ExtensibleScheduler}. */
export interface ExtensibleSchedulerOptions {
  /** Most signals kept for streams not yet added. Default 128. */
  maxPendingSignals?: number;
}

export class ExtensibleScheduler implements SendScheduler {
  readonly name = 'extensible' as const;
  ignoreRfc7540: boolean;
  private readonly streams: Map<number, Slot>;
  private readonly levels: Level[];
  private readonly pendingSignals: Map<number, PrioritySignal>;
  private readonly maxPendingSignals: number;
  /** Entries in all heaps, stale ones included. */
  private entries: number;
  /** Ready streams: each has exactly one current entry. */
  private ready: number;

  constructor(options: ExtensibleSchedulerOptions = {}) {
    this.ignoreRfc7540 = false;
    this.streams = new Map();
    this.levels = Array.from({ length: 8 }, () => new Level());
    this.pendingSignals = new Map();
    this.maxPendingSignals = options.maxPendingSignals ?? 128;
    this.entries = 0;
    this.ready = 0;
  }

  get size(): number {
    return this.streams.size;
  }

  /** @internal Entries in the heaps, stale ones included (for the churn bound in the specs). */
  get queuedEntries(): number {
    let n = 0;
    for (const l of this.levels) n += l.sequential.length + l.incremental.length;
    return n;
  }

  /** Rebuilds the heaps from their current entries once stale ones outnumber the ready streams. */
  private compactIfStale(): void {
    if (this.entries <= 2 * this.ready + COMPACT_SLACK) return;
    let n = 0;
    for (const level of this.levels) {
      for (const h of [level.sequential, level.incremental]) {
        h.init(h.heapArray.filter(current));
        n += h.length;
      }
    }
    this.entries = n;
  }

  add(streamId: number, signal?: PrioritySignal): void {
    if (this.streams.has(streamId)) return;
    const s: Slot = { id: streamId, urgency: DEFAULT_URGENCY, incremental: false, cycle: 0, ready: false, gen: 0 };
    this.streams.set(streamId, s);
    if (signal) this.apply(s, signal);
    const late = this.pendingSignals.get(streamId);
    if (late) {
      this.pendingSignals.delete(streamId);
      this.apply(s, late);
    }
  }

  update(streamId: number, signal: PrioritySignal): void {
    const s = this.streams.get(streamId);
    if (s) {
      this.apply(s, signal);
      return;
    }
    if (signal.scheme === 'rfc7540' && this.ignoreRfc7540) return;
    this.pendingSignals.delete(streamId);
    this.pendingSignals.set(streamId, signal);
    if (this.pendingSignals.size > this.maxPendingSignals) this.pendingSignals.delete(this.pendingSignals.keys().next().value!);
  }

  private apply(s: Slot, signal: PrioritySignal): void {
    let urgency: number;
    let incremental: boolean;
    if (signal.scheme === 'rfc9218') {
      urgency = signal.urgency;
      incremental = signal.incremental;
    } else {
      if (this.ignoreRfc7540) return;
      urgency = weightToUrgency(signal.weight);
      incremental = s.incremental;
    }
    if (urgency === s.urgency && incremental === s.incremental) return;
    s.urgency = urgency;
    s.incremental = incremental;
    s.cycle = 0;
    if (s.ready) {
      s.gen++;
      this.push(s);
      this.compactIfStale();
    }
  }

  remove(streamId: number): void {
    const s = this.streams.get(streamId);
    if (!s) return;
    this.streams.delete(streamId);
    if (!s.ready) return;
    s.ready = false;
    s.gen++;
    this.ready--;
    this.compactIfStale();
  }

  block(streamId: number): void {
    const s = this.streams.get(streamId);
    if (!s || !s.ready) return;
    s.ready = false;
    s.gen++;
    this.ready--;
    this.compactIfStale();
  }

  unblock(streamId: number): void {
    const s = this.streams.get(streamId);
    if (!s || s.ready) return;
    s.ready = true;
    s.gen++;
    this.ready++;
    this.push(s);
    this.compactIfStale();
  }

  has(streamId: number): boolean {
    return this.streams.has(streamId);
  }

  private push(s: Slot): void {
    const level = this.levels[s.urgency]!;
    this.entries++;
    if (s.incremental) {
      // join at the current clock: no credit for time spent blocked
      s.cycle = Math.max(s.cycle, level.clock);
      level.incremental.push({ s, gen: s.gen, key: s.cycle });
    } else {
      level.sequential.push({ s, gen: s.gen, key: s.id });
    }
  }

  /** The current entry on top of `h`, dropping the stale ones above it. */
  private top(h: Heap<Entry>): Entry | undefined {
    for (let e = h.peek(); e !== undefined; e = h.peek()) {
      if (e.gen === e.s.gen) return e;
      h.pop();
      this.entries--;
    }
    return undefined;
  }

  peek(): number | null {
    for (const level of this.levels) {
      const seq = this.top(level.sequential);
      const inc = this.top(level.incremental);
      if (seq && inc) return level.incrementalBytes < level.sequentialBytes ? inc.s.id : seq.s.id;
      if (seq) return seq.s.id;
      if (inc) return inc.s.id;
    }
    return null;
  }

  charge(streamId: number, bytes: number): void {
    const s = this.streams.get(streamId);
    if (!s) return;
    const level = this.levels[s.urgency]!;
    if (!s.incremental) {
      level.sequentialBytes += bytes;
      return;
    }
    level.incrementalBytes += bytes;
    level.clock = s.cycle;
    s.cycle += bytes;
    if (s.ready) {
      s.gen++;
      this.entries++;
      level.incremental.push({ s, gen: s.gen, key: s.cycle });
      this.compactIfStale();
    }
    // keep the two counters small and comparable
    if (level.sequentialBytes > 2 ** 40 || level.incrementalBytes > 2 ** 40) {
      const m = Math.min(level.sequentialBytes, level.incrementalBytes);
      level.sequentialBytes -= m;
      level.incrementalBytes -= m;
    }
  }
}
