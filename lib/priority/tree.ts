/**
 * PriorityTree: the RFC 7540 §5.3 dependency tree and a hierarchical WF2Q+ scheduler over it.
 *
 * Structure: every case of §5.3 — default priority, exclusive insertion adopting the parent's
 * children, reprioritization that first moves a new parent found among the stream's own
 * descendants up to the stream's old parent (§5.3.3, Figure 5), removal that hands the removed
 * stream's weight to its children in proportion to theirs (§5.3.4), placeholders for
 * dependencies on idle streams, and bounded retention of closed and idle nodes (oldest evicted
 * first, open streams never).
 *
 * Scheduling: a node is schedulable when it is open and unblocked and every ancestor is blocked
 * (or closed, or a placeholder); a blocked node passes its share to its descendants. Each node
 * keeps a {@link FairQueue} of its active children, so a pick walks down from the root and a
 * charge walks up: both O(depth · log fan-out), with no recursion and no O(n) rebuild.
 *
 * Every operation validates all of its arguments before it changes anything, so a rejected
 * operation leaves the tree exactly as it was.
 */
import { DEFAULT_WEIGHT, MAX_INT31 } from '../constants.js';
import {
  BadWeightError, DuplicateStreamError, InvalidStreamIdError, PriorityError, PseudoStreamError, SelfDependencyError,
  TooManyStreamsError, UnknownStreamError,
} from './errors.js';
import { type Discipline, FairQueue, type Member } from './fair-queue.js';

export type { Discipline } from './fair-queue.js';

/** Priority fields as given to the tree; omitted ones take RFC 7540 §5.3.5 defaults. */
export interface PriorityInput {
  /** Parent stream; 0 (the root) by default. */
  readonly dependsOn?: number;
  /** 1..256; 16 by default. */
  readonly weight?: number;
  /** Become the parent's only child, adopting its other children. False by default. */
  readonly exclusive?: boolean;
}

/** What a node is: an open stream, a closed one kept for its dependents, an idle placeholder, or the root. */
export type NodeState = 'open' | 'closed' | 'idle' | 'root';

/** A snapshot of one node (see {@link PriorityTree.nodeInfo}). */
export interface NodeInfo {
  readonly parent: number | null;
  readonly weight: number;
  readonly children: number[];
  readonly blocked: boolean;
  readonly state: NodeState;
}

/** Limits of a {@link PriorityTree}; every one bounds what a peer can make the tree hold. */
export interface PriorityTreeOptions {
  /** Most open streams (inserting one more throws TooManyStreamsError). Default 1000. */
  maxStreams?: number;
  /**
   * Closed streams kept so that late PRIORITY frames and dependencies still find them
   * (RFC 7540 §5.3.4 asks for at least MAX_CONCURRENT_STREAMS). Default 100.
   */
  maxClosed?: number;
  /** Idle placeholders created by dependencies on streams not yet open. Default 100. */
  maxIdle?: number;
  /**
   * Fair-queuing discipline of every node: `'wf2q+'` (default; each stream within one frame of
   * its ideal fluid share) or `'sfq'` (start-time fair queueing: the tightest pairwise interval
   * bound, as python priority and nghttp2).
   */
  discipline?: Discipline;
}

const OPEN = 0;
const CLOSED = 1;
const IDLE = 2;
const ROOT = 3;
const STATE_NAMES: readonly NodeState[] = ['open', 'closed', 'idle', 'root'];

class TreeNode implements Member {
  readonly id: number;
  weight: number;
  S: number;
  F: number;
  rem: number;
  nextLen: number;
  seq: number;
  slot: number;
  where: number;
  owner: FairQueue | null;
  ownerEpoch: number;
  /** True while the node is in its parent's queue (its subtree has something schedulable). */
  queued: boolean;
  parent: TreeNode | null;
  firstChild: TreeNode | null;
  lastChild: TreeNode | null;
  prev: TreeNode | null;
  next: TreeNode | null;
  childCount: number;
  childWeight: number;
  kind: number;
  blocked: boolean;
  queue: FairQueue | null;

  constructor(id: number, weight: number, kind: number, blocked: boolean) {
    this.id = id;
    this.weight = weight;
    this.S = 0;
    this.F = 0;
    this.rem = 0;
    this.nextLen = 0;
    this.seq = 0;
    this.slot = -1;
    this.where = 0;
    this.owner = null;
    this.ownerEpoch = 0;
    this.queued = false;
    this.parent = null;
    this.firstChild = null;
    this.lastChild = null;
    this.prev = null;
    this.next = null;
    this.childCount = 0;
    this.childWeight = 0;
    this.kind = kind;
    this.blocked = blocked;
    this.queue = null;
  }

  children(): TreeNode[] {
    const out: TreeNode[] = [];
    for (let c = this.firstChild; c; c = c.next) out.push(c);
    return out;
  }
}

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_INT31) throw new InvalidStreamIdError(`stream id ${id} is not an integer in 0..2^31-1`);
  if (id === 0) throw new PseudoStreamError('stream 0 is the root of the tree and cannot be changed');
}

function checkFields(id: number, p: PriorityInput | undefined): Required<PriorityInput> {
  const dependsOn = p?.dependsOn ?? 0;
  const weight = p?.weight ?? DEFAULT_WEIGHT;
  if (!Number.isInteger(weight)) throw new BadWeightError(`stream weight ${String(weight)} is not an integer`);
  if (weight < 1 || weight > 256) throw new BadWeightError(`stream weight ${weight} is outside 1..256`);
  if (!Number.isInteger(dependsOn) || dependsOn < 0 || dependsOn > MAX_INT31) {
    throw new InvalidStreamIdError(`dependency ${dependsOn} is not an integer in 0..2^31-1`);
  }
  // > A stream cannot depend on itself.   RFC 7540 §5.3.1
  if (dependsOn === id) throw new SelfDependencyError(`stream ${id} cannot depend on itself`);
  return { dependsOn, weight, exclusive: p?.exclusive === true };
}

/** The RFC 7540 priority tree with its fair-queuing scheduler. Stream ids are integers. */
export class PriorityTree {
  readonly maxStreams: number;
  readonly maxClosed: number;
  readonly maxIdle: number;
  readonly discipline: Discipline;
  private readonly root: TreeNode;
  private readonly nodes: Map<number, TreeNode>;
  /** Retained closed and idle nodes, oldest first (Map iteration order is insertion order). */
  private readonly closed: Map<number, TreeNode>;
  private readonly idle: Map<number, TreeNode>;
  private open: number;
  /** The node `peek()` returned last, so that charging it needs no lookup. */
  private picked: TreeNode | null;
  private maxSeenOdd: number;
  private maxSeenEven: number;

  constructor(options: PriorityTreeOptions = {}) {
    this.maxStreams = options.maxStreams ?? 1000;
    this.maxClosed = options.maxClosed ?? 100;
    this.maxIdle = options.maxIdle ?? 100;
    this.discipline = options.discipline ?? 'wf2q+';
    if (this.discipline !== 'wf2q+' && this.discipline !== 'sfq') throw new PriorityError(`unknown discipline ${String(this.discipline)}`);
    for (const [k, v] of Object.entries({ maxStreams: this.maxStreams, maxClosed: this.maxClosed, maxIdle: this.maxIdle })) {
      if (!Number.isInteger(v) || v < 0) throw new PriorityError(`${k} must be a non-negative integer`);
    }
    this.root = new TreeNode(0, DEFAULT_WEIGHT, ROOT, true);
    this.nodes = new Map();
    this.closed = new Map();
    this.idle = new Map();
    this.open = 0;
    this.picked = null;
    this.maxSeenOdd = 0;
    this.maxSeenEven = 0;
  }

  /** Number of open streams. */
  get size(): number {
    return this.open;
  }

  /** Number of nodes besides the root: open, retained closed, and idle placeholders. */
  get nodeCount(): number {
    return this.nodes.size;
  }

  /** True when `id` is an open stream in the tree. */
  has(id: number): boolean {
    return this.nodes.get(id)?.kind === OPEN;
  }

  /**
   * Adds an open stream. Without `priority` it depends on 0 with weight 16 (RFC 7540 §5.3.5), or
   * keeps the place an earlier PRIORITY frame gave its idle placeholder. A dependency on a
   * stream the tree does not hold creates an idle placeholder (default priority, blocked) when
   * that id was never seen, and otherwise (a closed stream whose state is gone) gives the
   * stream default priority (RFC 7540 §5.3.1, §5.3.4).
   * @param options.blocked insert it blocked (nothing to send yet). Default false.
   * @throws InvalidStreamIdError, PseudoStreamError, BadWeightError, SelfDependencyError,
   *   DuplicateStreamError (open or closed already), TooManyStreamsError.
   */
  insertStream(id: number, priority?: PriorityInput, options?: { blocked?: boolean }): void {
    checkId(id);
    const f = checkFields(id, priority);
    const existing = this.nodes.get(id);
    if (existing !== undefined && existing.kind !== IDLE) throw new DuplicateStreamError(`stream ${id} is already in the tree`);
    if (this.open >= this.maxStreams) throw new TooManyStreamsError(`more than ${this.maxStreams} open streams`);
    this.open++;
    const blocked = options?.blocked === true;
    if (existing !== undefined) {
      this.idle.delete(id);
      existing.kind = OPEN;
      existing.blocked = blocked;
      if (priority !== undefined) this.place(existing, f);
      this.refresh(existing);
      return;
    }
    const node = new TreeNode(id, f.weight, OPEN, blocked);
    this.nodes.set(id, node);
    // the dependency is judged before this id counts as seen (a lower unseen id is idle, not gone)
    this.place(node, f);
    this.noteSeen(id);
  }

  /**
   * Applies a PRIORITY signal to a stream in the tree, open, closed or idle (RFC 7540 §5.3.3):
   * its whole subtree moves under the new parent; if that parent is one of its descendants, the
   * descendant first moves up to the stream's old parent, keeping its weight.
   * @throws UnknownStreamError when `id` is not in the tree (see {@link prioritize}).
   */
  reprioritize(id: number, priority: PriorityInput): void {
    checkId(id);
    const f = checkFields(id, priority);
    const node = this.nodes.get(id);
    if (node === undefined) throw new UnknownStreamError(`stream ${id} is not in the tree`);
    this.place(node, f);
  }

  /**
   * What a server does with a PRIORITY frame: reprioritizes a stream the tree holds, and
   * otherwise remembers an idle stream as a placeholder with that priority (bounded by `maxIdle`,
   * oldest evicted first) so that later streams can depend on it.
   */
  prioritize(id: number, priority: PriorityInput): void {
    checkId(id);
    const f = checkFields(id, priority);
    const node = this.nodes.get(id);
    if (node !== undefined) {
      this.place(node, f);
      return;
    }
    if (this.maxIdle === 0) return;
    const placeholder = this.addIdle(id);
    this.place(placeholder, f);
    this.noteSeen(id);
  }

  /**
   * Closes a stream. It stays in the tree as a closed node, blocked, so that its dependents keep
   * their place (RFC 7540 §5.3.4), until `maxClosed` newer closed streams push it out; then, or at
   * once when `maxClosed` is 0, its children move to its parent and share its weight in
   * proportion to theirs.
   * @throws UnknownStreamError when `id` is not an open stream.
   */
  removeStream(id: number): void {
    checkId(id);
    const node = this.nodes.get(id);
    if (node === undefined || node.kind !== OPEN) throw new UnknownStreamError(`stream ${id} is not an open stream`);
    this.open--;
    if (this.maxClosed === 0) {
      this.evict(node);
      return;
    }
    node.kind = CLOSED;
    node.blocked = true;
    this.closed.set(id, node);
    this.refresh(node);
    if (this.closed.size > this.maxClosed) this.evict(this.closed.values().next().value!);
  }

  /** Marks an open stream as unable to send (no data, or no window); its share passes to its descendants. */
  block(id: number): void {
    const node = this.openNode(id);
    if (node.blocked) return;
    node.blocked = true;
    this.refresh(node);
  }

  /** Marks an open stream as able to send; it re-enters at its parent's current virtual time. */
  unblock(id: number): void {
    const node = this.openNode(id);
    if (!node.blocked) return;
    node.blocked = false;
    this.refresh(node);
  }

  /** The stream that should send next, without charging it; `null` when no stream is schedulable. */
  peek(): number | null {
    let n: TreeNode = this.root;
    for (;;) {
      if (n.kind === OPEN && !n.blocked) {
        this.picked = n;
        return n.id;
      }
      const q = n.queue;
      if (q === null) return null;
      const next = q.select() as TreeNode | null;
      if (next === null) return null;
      n = next;
    }
  }

  /**
   * Records that stream `id` was given `amount` units of service (bytes, or 1 per slot): it and
   * each ancestor are charged at their own weights in their parents' queues.
   */
  charge(id: number, amount: number): void {
    if (!Number.isInteger(amount) || amount < 0) throw new PriorityError(`charge ${amount} is not a non-negative integer`);
    const p = this.picked;
    const node = p !== null && p.id === id ? p : this.nodes.get(id);
    if (node === undefined) {
      checkId(id);
      throw new UnknownStreamError(`stream ${id} is not in the tree`);
    }
    for (let n: TreeNode = node; n.parent !== null; n = n.parent) {
      const p = n.parent;
      (p.queue ??= new FairQueue(this.discipline)).charge(n, amount);
    }
  }

  /**
   * Tells the scheduler how many bytes stream `id` will send when it is next picked (its next
   * frame: min(queued, stream window, frame size)). With these hints the schedule is exact WF2Q+
   * for any frame sizes; without them the largest frame charged so far stands in. 0 clears it.
   */
  setNextLength(id: number, bytes: number): void {
    checkId(id);
    if (!Number.isInteger(bytes) || bytes < 0) throw new PriorityError(`length ${bytes} is not a non-negative integer`);
    const node = this.nodes.get(id);
    if (node === undefined) throw new UnknownStreamError(`stream ${id} is not in the tree`);
    if (node.nextLen === bytes) return;
    node.nextLen = bytes;
    if (node.queued) node.parent!.queue!.rehint(node);
  }

  /** Picks the next stream and charges it one slot; `null` when no stream is schedulable. */
  next(): number | null {
    const id = this.peek();
    if (id !== null) this.charge(id, 1);
    return id;
  }

  /** A snapshot of node `id` (0 is the root), or `undefined` when the tree does not hold it. */
  nodeInfo(id: number): NodeInfo | undefined {
    const n = id === 0 ? this.root : this.nodes.get(id);
    if (n === undefined) return undefined;
    return {
      parent: n.parent === null ? null : n.parent.id,
      weight: n.weight,
      children: n.children().map((c) => c.id),
      blocked: n.kind !== OPEN || n.blocked,
      state: STATE_NAMES[n.kind]!,
    };
  }

  /** Ids of every node besides the root, in no particular order. */
  ids(): number[] {
    return [...this.nodes.keys()];
  }

  /**
   * Checks every structural invariant (for tests and debugging): each node is in its parent's
   * child list exactly once and the parent chain reaches the root; child counts and weight sums
   * match; a node is in its parent's queue exactly when its subtree has something schedulable,
   * and each queue's totals match its members. Returns the violations found (none: `[]`).
   */
  validate(): string[] {
    const problems: string[] = [];
    const all = [this.root, ...this.nodes.values()];
    for (const n of all) {
      let count = 0;
      let weight = 0;
      let queued = 0;
      let queuedWeight = 0;
      for (let c = n.firstChild; c !== null; c = c.next) {
        if (c.parent !== n) problems.push(`${c.id} is in ${n.id}'s children but its parent is ${c.parent?.id}`);
        if (this.nodes.get(c.id) !== c) problems.push(`${c.id} is linked but not indexed`);
        count++;
        weight += c.weight;
        if (c.queued) {
          queued++;
          queuedWeight += c.weight;
        }
        if (count > all.length) {
          problems.push(`${n.id}'s child list has a cycle`);
          break;
        }
      }
      if (count !== n.childCount) problems.push(`${n.id}: childCount ${n.childCount}, counted ${count}`);
      if (weight !== n.childWeight) problems.push(`${n.id}: childWeight ${n.childWeight}, summed ${weight}`);
      const live = n.queue?.live ?? 0;
      if (live !== queued || (n.queue?.activeWeight ?? 0) !== queuedWeight) {
        problems.push(`${n.id}: queue holds ${live} (w ${n.queue?.activeWeight}), children queued ${queued} (w ${queuedWeight})`);
      }
      if (n !== this.root) {
        let steps = 0;
        for (let a: TreeNode | null = n; a !== this.root; a = a.parent) {
          if (a === null || ++steps > all.length) {
            problems.push(`${n.id} does not reach the root`);
            break;
          }
        }
        const active = (n.kind === OPEN && !n.blocked) || live > 0;
        if (active !== n.queued) problems.push(`${n.id}: active ${active} but queued ${n.queued}`);
        if (n.weight < 1 || n.weight > 256 || !Number.isInteger(n.weight)) problems.push(`${n.id}: weight ${n.weight}`);
      }
    }
    let open = 0;
    for (const n of this.nodes.values()) if (n.kind === OPEN) open++;
    if (open !== this.open) problems.push(`open count ${this.open}, counted ${open}`);
    if (this.closed.size > this.maxClosed) problems.push(`${this.closed.size} closed nodes retained`);
    return problems;
  }

  private openNode(id: number): TreeNode {
    checkId(id);
    const node = this.nodes.get(id);
    if (node === undefined || node.kind !== OPEN) throw new UnknownStreamError(`stream ${id} is not an open stream`);
    return node;
  }

  private noteSeen(id: number): void {
    if (id & 1) this.maxSeenOdd = Math.max(this.maxSeenOdd, id);
    else this.maxSeenEven = Math.max(this.maxSeenEven, id);
  }

  /** Adds an idle placeholder under the root, first evicting the oldest one not in `keep` if full. */
  private addIdle(id: number, ...keep: TreeNode[]): TreeNode {
    if (this.idle.size >= this.maxIdle) {
      for (const old of this.idle.values()) {
        if (!keep.includes(old)) {
          this.evict(old);
          break;
        }
      }
    }
    const node = new TreeNode(id, DEFAULT_WEIGHT, IDLE, true);
    this.nodes.set(id, node);
    this.idle.set(id, node);
    this.link(node, this.root);
    return node;
  }

  /** Puts `node` (new, or already linked with its subtree) under the parent `f` names. */
  private place(node: TreeNode, f: Required<PriorityInput>): void {
    let { weight, exclusive } = f;
    let parent = f.dependsOn === 0 ? this.root : this.nodes.get(f.dependsOn);
    if (parent === undefined) {
      const seen = f.dependsOn & 1 ? this.maxSeenOdd : this.maxSeenEven;
      if (f.dependsOn > seen && this.maxIdle > 0) {
        this.noteSeen(f.dependsOn);
        parent = this.addIdle(f.dependsOn, node);
      } else {
        parent = this.root;
        weight = DEFAULT_WEIGHT;
        exclusive = false;
      }
    }
    // > If a stream is made dependent on one of its own dependencies, the formerly dependent
    // > stream is first moved to be dependent on the reprioritized stream's previous parent.
    // > The moved dependency retains its weight.   RFC 7540 §5.3.3
    if (node.parent !== null) {
      for (let a: TreeNode | null = parent.parent; a !== null; a = a.parent) {
        if (a === node) {
          this.move(parent, node.parent, false);
          break;
        }
      }
    }
    if (node.parent === parent && !exclusive) {
      this.setWeight(node, weight);
      return;
    }
    this.move(node, parent, exclusive, weight);
  }

  /**
   * Moves `x` (with its subtree) under `p`, with weight `weight`; exclusive: `p`'s other
   * children move under `x`.
   */
  private move(x: TreeNode, p: TreeNode, exclusive: boolean, weight: number = x.weight): void {
    const old = x.parent;
    if (old !== null) this.unlink(x);
    x.weight = weight;
    const adopted: TreeNode[] = [];
    if (exclusive) {
      for (let c = p.firstChild; c !== null;) {
        const n = c.next;
        this.unlink(c);
        this.link(c, x);
        adopted.push(c);
        c = n;
      }
    }
    this.link(x, p);
    for (const c of adopted) this.refresh(c);
    this.refresh(x);
    if (old !== null) this.refresh(old);
    this.refresh(p);
  }

  private setWeight(node: TreeNode, weight: number): void {
    if (weight === node.weight) return;
    const p = node.parent!;
    p.childWeight += weight - node.weight;
    if (node.queued) p.queue!.reweigh(node, weight);
    else node.weight = weight;
  }

  /**
   * Removes a node for good (RFC 7540 §5.3.4): its children move to its parent, each taking
   * max(1, ⌊w·w_child/Σw_children⌋) of its weight.
   */
  private evict(node: TreeNode): void {
    if (this.picked === node) this.picked = null;
    const p = node.parent!;
    const total = node.childWeight;
    const kids = node.children();
    this.unlink(node);
    for (const c of kids) {
      this.unlink(c);
      c.weight = Math.max(1, Math.floor((node.weight * c.weight) / total));
      this.link(c, p);
    }
    for (const c of kids) this.refresh(c);
    this.refresh(p);
    this.nodes.delete(node.id);
    this.closed.delete(node.id);
    this.idle.delete(node.id);
  }

  private link(c: TreeNode, p: TreeNode): void {
    c.parent = p;
    c.prev = p.lastChild;
    c.next = null;
    if (p.lastChild !== null) p.lastChild.next = c;
    else p.firstChild = c;
    p.lastChild = c;
    p.childCount++;
    p.childWeight += c.weight;
  }

  private unlink(c: TreeNode): void {
    const p = c.parent!;
    if (c.queued) {
      c.queued = false;
      p.queue!.dequeue(c);
    }
    if (c.prev !== null) c.prev.next = c.next;
    else p.firstChild = c.next;
    if (c.next !== null) c.next.prev = c.prev;
    else p.lastChild = c.prev;
    c.prev = c.next = c.parent = null;
    p.childCount--;
    p.childWeight -= c.weight;
  }

  /**
   * Brings `x`'s membership in its parent's queue in line with whether its subtree has anything
   * schedulable, and walks up while that changes the ancestors too.
   */
  private refresh(x: TreeNode): void {
    for (let n: TreeNode = x; n.parent !== null; n = n.parent) {
      const active = (n.kind === OPEN && !n.blocked) || (n.queue !== null && n.queue.live > 0);
      if (active === n.queued) return;
      const q = (n.parent.queue ??= new FairQueue(this.discipline));
      n.queued = active;
      if (active) q.enqueue(n);
      else q.dequeue(n);
    }
  }
}
