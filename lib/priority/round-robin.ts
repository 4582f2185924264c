/**
 * The `round-robin` scheduler: frame-level round-robin over ready streams, ignoring every
 * priority signal, as hyperium/h2 and many servers do. The baseline the tree has to beat.
 */
import type { SendScheduler } from './scheduler.js';

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

  add(streamId: number): void {
    if (!this.ready.has(streamId)) this.ready.set(streamId, false);
  }

  update(): void {
    // priorities are ignored by design
  }

  remove(streamId: number): void {
    this.ready.delete(streamId);
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
    }
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
      if (this.head > 1024 && this.head * 2 > this.ring.length) {
        this.ring = this.ring.slice(this.head);
        this.head = 0;
      }
    }
  }
}
