/**
 * The SendScheduler plug-in interface: what the sender drives to decide which stream sends next.
 * Four implementations share it, so benchmarks and servers swap them by name.
 */
import type { PrioritySignal } from './signal.js';

export type SchedulerName = 'tree' | 'round-robin' | 'fifo' | 'extensible';

/**
 * A send scheduler. Streams are added blocked (nothing to send yet); the sender unblocks a
 * stream when it has data and window, asks `peek()` who sends next, and `charge`s the bytes it
 * sent. None of the methods throws for peer-controlled input: unusable signals are ignored.
 */
export interface SendScheduler {
  readonly name: SchedulerName;
  /**
   * When true (the peer sent SETTINGS_NO_RFC7540_PRIORITIES = 1), RFC 7540 signals are ignored
   * (RFC 9218 §2.1).
   */
  ignoreRfc7540: boolean;
  /** Number of streams held (not counting retained or placeholder state). */
  readonly size: number;
  /** A new stream, blocked until `unblock`. */
  add(streamId: number, signal?: PrioritySignal): void;
  /** A priority signal for a stream: PRIORITY, HEADERS priority fields, PRIORITY_UPDATE, `priority` header. */
  update(streamId: number, signal: PrioritySignal): void;
  /** The stream closed. */
  remove(streamId: number): void;
  block(streamId: number): void;
  unblock(streamId: number): void;
  has(streamId: number): boolean;
  /** The stream that should send next, or null. */
  peek(): number | null;
  /** The stream was given `bytes`. */
  charge(streamId: number, bytes: number): void;
}
