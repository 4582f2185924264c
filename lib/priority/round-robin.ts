/**
 * The `round-robin` scheduler: frame-level round-robin over ready streams, ignoring every
 * priority signal, as hyperium/h2 and many servers do. The baseline the tree has to beat.
 *
 * The ring is an array read from `head`; a stream is in it at most once, and blocked or removed
 * ones leave lazily when they reach the head. The served prefix and the streams removed while
 * nothing was sent would grow the array without bound, so it is rebuilt from its live entries
 * once it holds more than twice the streams plus a slack: amortized O(1) per entry.
 */
import type { SendScheduler } from './scheduler.js';

/** Entries tolerated beyond twice the streams held before the ring is rebuilt. */
const COMPACT_SLACK = 64;

export class RoundRobinScheduler implements SendScheduler {
  readonly name = 'round-robin' as const;
  ignoreRfc7540: boolean;
  /** Stream → true when ready. */
  private readonly ready: Map<number, boolean>;
  /** Ring of ready streams (a stream that blocks stays until it reaches the head). */
  private ring: number[];
  private head: number;
  private readonly inRing: Set<number>;

  constructor() {
    this.ignoreRfc7540 = false;
    this.ready = new Map();
    this.ring = [];
    this.head = 0;
    this.inRing = new Set();
  }

  get size(): number {
    return this.ready.size;
  }

  /** @internal Entries of the ring array, served prefix included (for the churn bound in the specs). */
  get queuedEntries(): number {
    return this.ring.length;
  }

  add(streamId: number): void {
    if (!this.ready.has(streamId)) this.ready.set(streamId, false);
  }

  update(): void {
    // priorities are ignored by design
  }

  remove(streamId: number): void {
    if (this.ready.delete(streamId)) this.compactIfStale();
  }

  block(streamId: number): void {
    if (this.ready.has(streamId)) this.ready.set(streamId, false);
  }

  unblock(streamId: number): void {
    if (!this.ready.has(streamId)) return;
    this.ready.set(streamId, true);
    if (!this.inRing.has(streamId)) {
      this.inRing.add(streamId);
      this.ring.push(streamId);
      this.compactIfStale();
    }
  }

  /**
   * Keeps, in order, the entries from the head on whose stream is still held (a blocked one
   * keeps its turn); removed ones and the served prefix go.
   */
  private compactIfStale(): void {
    if (this.ring.length <= 2 * this.ready.size + COMPACT_SLACK) return;
    const keep: number[] = [];
    for (let i = this.head; i < this.ring.length; i++) {
      const id = this.ring[i]!;
      if (this.ready.has(id)) keep.push(id);
      else this.inRing.delete(id);
    }
    this.ring = keep;
    this.head = 0;
  }

  has(streamId: number): boolean {
    return this.ready.has(streamId);
  }

  peek(): number | null {
    while (this.head < this.ring.length) {
      const id = this.ring[this.head]!;
      if (this.ready.get(id) === true) return id;
      this.inRing.delete(id);
      this.head++;
    }
    this.ring = [];
    this.head = 0;
    return null;
  }

  charge(streamId: number): void {
    // one frame sent: the head moves to the tail
    if (this.head < this.ring.length && this.ring[this.head] === streamId) {
      this.head++;
      this.ring.push(streamId);
      this.compactIfStale();
    }
  }
}
