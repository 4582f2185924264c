/**
 * The `fifo` scheduler: one stream at a time, in the order streams were added; a blocked stream
 * lets the next one go. Ignores every priority signal.
 *
 * A stream is in the heap at most once (`queued`); blocked and removed ones leave lazily when
 * they surface. Streams removed behind a head that keeps sending would stay forever, so the heap
 * is rebuilt from its ready entries once it holds more than twice the streams plus a slack.
 */
import { Heap } from 'heap-js';
import type { SendScheduler } from './scheduler.js';

interface Slot { readonly id: number; readonly order: number; ready: boolean; queued: boolean }

/** Entries tolerated beyond twice the streams held before the heap is rebuilt. */
const COMPACT_SLACK = 64;

export class FifoScheduler implements SendScheduler {
  readonly name = 'fifo' as const;
  ignoreRfc7540: boolean;
  private readonly streams: Map<number, Slot>;
  private readonly heap: Heap<Slot>;
  private order: number;

  constructor() {
    this.ignoreRfc7540 = false;
    this.streams = new Map();
    this.heap = new Heap<Slot>((a, b) => a.order - b.order);
    this.order = 0;
  }

  get size(): number {
    return this.streams.size;
  }

  /** @internal Entries in the heap, stale ones included (for the churn bound in the specs). */
  get queuedEntries(): number {
    return this.heap.length;
  }

  add(streamId: number): void {
    if (!this.streams.has(streamId)) this.streams.set(streamId, { id: streamId, order: this.order++, ready: false, queued: false });
  }

  update(): void {
    // priorities are ignored by design
  }

  remove(streamId: number): void {
    const s = this.streams.get(streamId);
    if (!s) return;
    s.ready = false;
    this.streams.delete(streamId);
    this.compactIfStale();
  }

  block(streamId: number): void {
    const s = this.streams.get(streamId);
    if (s) s.ready = false;
  }

  unblock(streamId: number): void {
    const s = this.streams.get(streamId);
    if (!s) return;
    s.ready = true;
    if (!s.queued) {
      s.queued = true;
      this.heap.push(s);
      this.compactIfStale();
    }
  }

  /** Drops blocked and removed entries once they outnumber the streams held: amortized O(1). */
  private compactIfStale(): void {
    if (this.heap.length <= 2 * this.streams.size + COMPACT_SLACK) return;
    const keep: Slot[] = [];
    for (const s of this.heap.heapArray) {
      if (s.ready) keep.push(s);
      else s.queued = false;
    }
    this.heap.init(keep);
  }

  has(streamId: number): boolean {
    return this.streams.has(streamId);
  }

  peek(): number | null {
    for (let s = this.heap.peek(); s !== undefined; s = this.heap.peek()) {
      if (s.ready) return s.id;
      this.heap.pop();
      s.queued = false;
    }
    return null;
  }

  charge(): void {
    // the head keeps the link until it blocks or ends
  }
}
