/**
 * The `tree` scheduler (the default): RFC 7540 priorities on a {@link PriorityTree}. RFC 9218
 * signals are mapped onto it as weights under the root (see {@link urgencyToWeight}); the
 * incremental flag has no 7540 counterpart and is ignored.
 */
import { PriorityError } from './errors.js';
import type { SendScheduler } from './scheduler.js';
import type { PrioritySignal } from './signal.js';
import { urgencyToWeight } from './signal.js';
import { type PriorityInput, PriorityTree, type PriorityTreeOptions } from './tree.js';

export class TreeScheduler implements SendScheduler {
  readonly name = 'tree' as const;
  ignoreRfc7540: boolean;
  readonly tree: PriorityTree;

  constructor(options: PriorityTreeOptions = {}) {
    this.tree = new PriorityTree(options);
    this.ignoreRfc7540 = false;
  }

  get size(): number {
    return this.tree.size;
  }

  private fields(signal: PrioritySignal | undefined): PriorityInput | undefined {
    if (signal === undefined) return undefined;
    if (signal.scheme === 'rfc9218') return { dependsOn: 0, weight: urgencyToWeight(signal.urgency), exclusive: false };
    if (this.ignoreRfc7540) return undefined;
    return signal;
  }

  /** @throws TooManyStreamsError past the tree's `maxStreams` (keep it ≥ our MAX_CONCURRENT_STREAMS). */
  add(streamId: number, signal?: PrioritySignal): void {
    if (this.tree.has(streamId)) return;
    let f = this.fields(signal);
    // A signal the tree cannot use gives the stream default priority: the contract is not to
    // throw for peer input (the engine resets such a stream, RFC 7540 §5.3.1, but may not have).
    if (f !== undefined && f.dependsOn === streamId) f = undefined;
    this.tree.insertStream(streamId, f, { blocked: true });
  }

  update(streamId: number, signal: PrioritySignal): void {
    const f = this.fields(signal);
    if (f === undefined) return;
    try {
      if (signal.scheme === 'rfc9218') {
        if (this.tree.nodeInfo(streamId) !== undefined) this.tree.reprioritize(streamId, f);
      } else {
        this.tree.prioritize(streamId, f);
      }
    } catch (e) {
      // A signal the tree cannot use (self-dependency, bad id) changes nothing.
      if (!(e instanceof PriorityError)) throw e;
    }
  }

  remove(streamId: number): void {
    if (this.tree.has(streamId)) this.tree.removeStream(streamId);
  }

  block(streamId: number): void {
    if (this.tree.has(streamId)) this.tree.block(streamId);
  }

  unblock(streamId: number): void {
    if (this.tree.has(streamId)) this.tree.unblock(streamId);
  }

  has(streamId: number): boolean {
    return this.tree.has(streamId);
  }

  peek(): number | null {
    return this.tree.peek();
  }

  charge(streamId: number, bytes: number): void {
    try {
      this.tree.charge(streamId, bytes);
    } catch (e) {
      // a stream the tree no longer holds: nothing to account
      if (!(e instanceof PriorityError)) throw e;
    }
  }
}

