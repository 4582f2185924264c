/** Priority tree and send schedulers. `lib/priority` schedules integers; it knows nothing of connections. */
import { ExtensibleScheduler, type ExtensibleSchedulerOptions } from './extensible.js';
import { FifoScheduler } from './fifo.js';
import { RoundRobinScheduler } from './round-robin.js';
import type { SchedulerName, SendScheduler } from './scheduler.js';
import { TreeScheduler } from './tree-scheduler.js';
import type { PriorityTreeOptions } from './tree.js';
import { UsageError } from '../errors.js';

export * from './errors.js';
export { PriorityTree, type NodeInfo, type NodeState, type PriorityInput, type PriorityTreeOptions } from './tree.js';
export type { SchedulerName, SendScheduler } from './scheduler.js';
export * from './signal.js';
export { TreeScheduler, RoundRobinScheduler, FifoScheduler, ExtensibleScheduler, type ExtensibleSchedulerOptions };

/** Options of {@link createScheduler}: the tree's limits, or the extensible scheduler's cache. */
export type SchedulerOptions = PriorityTreeOptions & ExtensibleSchedulerOptions;

/** The scheduler names {@link createScheduler} knows. */
export const SCHEDULER_NAMES: readonly SchedulerName[] = ['tree', 'round-robin', 'fifo', 'extensible'];

/** A send scheduler by name: `tree` (RFC 7540, the default), `round-robin`, `fifo`, `extensible` (RFC 9218). */
export function createScheduler(name: SchedulerName = 'tree', options: SchedulerOptions = {}): SendScheduler {
  switch (name) {
    case 'tree': return new TreeScheduler(options);
    case 'round-robin': return new RoundRobinScheduler();
    case 'fifo': return new FifoScheduler();
    case 'extensible': return new ExtensibleScheduler(options);
    default: throw new UsageError(`unknown scheduler ${String(name)}; known: ${SCHEDULER_NAMES.join(', ')}`);
  }
}
