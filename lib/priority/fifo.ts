/**
 * The `fifo` scheduler: one stream at a time, in the order streams were added; a blocked stream
 * lets the next one go. Ignores every priority signal.
 */
import { Heap } from 'heap-js';
import type { SendScheduler } from './scheduler.js';

interface Slot { readonly id: number; readonly order: number; ready: boolean; queued: boolean }

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

  add(streamId: number): void {
    if (!this.streams.has(streamId)) this.streams.set(streamId, { id: streamId, order: this.order++, ready: false, queued: false });
  }

  update(): void {
    // priorities are ignored by design
  }

  remove(streamId: number): void {
    const s = this.streams.get(streamId);
    if (s) s.ready = false;
    this.streams.delete(streamId);
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
    }
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
