/**
 * The `extensible` scheduler (RFC 9218 §10): urgency 0..7 in strict order; within an urgency,
 * non-incremental streams one at a time in ascending stream id, incremental streams round-robin
 * by bytes. When both kinds wait at the same urgency they take turns by bytes sent, so neither
 * starves the other (§10 warns about both cases).
 *
 * RFC 7540 signals are bridged with {@link weightToUrgency} (dependencies are ignored) unless the
 * peer disabled them. Signals for streams not yet added (PRIORITY_UPDATE may arrive before the
 * request, §7.1) are kept, the latest per stream, in a bounded cache and applied on `add`.
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

  constructor(options: ExtensibleSchedulerOptions = {}) {
    this.ignoreRfc7540 = false;
    this.streams = new Map();
    this.levels = Array.from({ length: 8 }, () => new Level());
    this.pendingSignals = new Map();
    this.maxPendingSignals = options.maxPendingSignals ?? 128;
  }

  get size(): number {
    return this.streams.size;
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
    }
  }

  remove(streamId: number): void {
    const s = this.streams.get(streamId);
    if (!s) return;
    s.ready = false;
    s.gen++;
    this.streams.delete(streamId);
  }

  block(streamId: number): void {
    const s = this.streams.get(streamId);
    if (!s || !s.ready) return;
    s.ready = false;
    s.gen++;
  }

  unblock(streamId: number): void {
    const s = this.streams.get(streamId);
    if (!s || s.ready) return;
    s.ready = true;
    s.gen++;
    this.push(s);
  }

  has(streamId: number): boolean {
    return this.streams.has(streamId);
  }

  private push(s: Slot): void {
    const level = this.levels[s.urgency]!;
    if (s.incremental) {
      // join at the current clock: no credit for time spent blocked
      s.cycle = Math.max(s.cycle, level.clock);
      level.incremental.push({ s, gen: s.gen, key: s.cycle });
    } else {
      level.sequential.push({ s, gen: s.gen, key: s.id });
    }
  }

  private static top(h: Heap<Entry>): Entry | undefined {
    for (let e = h.peek(); e !== undefined; e = h.peek()) {
      if (e.gen === e.s.gen) return e;
      h.pop();
    }
    return undefined;
  }

  peek(): number | null {
    for (const level of this.levels) {
      const seq = ExtensibleScheduler.top(level.sequential);
      const inc = ExtensibleScheduler.top(level.incremental);
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
      level.incremental.push({ s, gen: s.gen, key: s.cycle });
    }
    // keep the two counters small and comparable
    if (level.sequentialBytes > 2 ** 40 || level.incrementalBytes > 2 ** 40) {
      const m = Math.min(level.sequentialBytes, level.incrementalBytes);
      level.sequentialBytes -= m;
      level.incrementalBytes -= m;
    }
  }
}
