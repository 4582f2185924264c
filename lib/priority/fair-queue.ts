/**
 * FairQueue: the WF2Q+ queue (Bennett & Zhang 1997) of one tree node's active children. It keeps
 * the node's virtual time V, which follows the ideal fluid (GPS) system: each L units of service
 * through the node advance V by L·K/Σw of the active children. A child is eligible when its start
 * tag S ≤ V; among eligible children the smallest finish tag F = S + L·K/w is served. Eligibility
 * is what keeps a heavy child from running ahead of its fluid share, and finish order what keeps
 * it from falling behind (SFQ alone can leave it one packet behind per sibling).
 *
 * A finish tag needs the length of the member's next packet. When the caller gives it
 * (`nextLen`, see PriorityTree.setNextLength) the schedule is exact WF2Q+; otherwise the queue's
 * quantum — the largest service charged so far, rounded up to a power of two — stands in (exact
 * for the usual 16384-octet frames, and for unit picks).
 *
 * All tags are integers scaled by K with carried remainders, so a child of weight w advances
 * exactly K per w units of service: long-run shares are exact and nothing drifts. V is rebased
 * when it nears 2^50, so numbers stay far below 2^53.
 *
 * Members live in two indexed heaps (eligible by F, pending by S) under a small slot number, and
 * move in place when their tags change: O(log n) per operation, nothing allocated.
 */
import { SlotHeap } from './member-heap.js';

/** Scale of virtual time: one unit of service at weight w advances a tag by K/w. */
export const K = 65536;
const REBASE_AT = 2 ** 50;

/**
 * `wf2q+`: serve the eligible member (S ≤ V) with the smallest finish tag; every member stays
 * within one packet of its fluid share. `sfq` (start-time fair queueing, as python priority and
 * nghttp2): serve the smallest start tag (ties: finish tag), V = the start tag in service; the
 * pairwise interval bound |ΔB_i/w_i − ΔB_j/w_j| ≤ L/w_i + L/w_j holds exactly, but a heavy member
 * can trail its fluid share by one packet per sibling.
 */
export type Discipline = 'wf2q+' | 'sfq';

/** What the queue needs on a tree node that is one of its members. */
export interface Member {
  readonly id: number;
  /** Next start tag (the finish tag of the last service). */
  S: number;
  /** Finish tag of the next service, while queued. */
  F: number;
  /** Activation sequence number: the tie-break, so that equal tags are served in a fixed order. */
  seq: number;
  /** Slot in `owner`'s heaps while queued, else -1. */
  slot: number;
  weight: number;
  /** Remainder carried by the tag arithmetic, in units of 1/weight. */
  rem: number;
  /** Length of the member's next service when the caller knows it (0: unknown, use the quantum). */
  nextLen: number;
  /** The queue whose tags S is measured in, and its epoch then (tags from elsewhere are void). */
  owner: FairQueue | null;
  ownerEpoch: number;
  /** 0: in no heap of `owner`; 1: eligible heap; 2: pending heap. */
  where: number;
}

const NONE = 0;
const ELIGIBLE = 1;
const PENDING = 2;
let sequence = 0;

export class FairQueue {
  private readonly sfq: boolean;
  /** Virtual time. */
  V: number;
  private vrem: number;
  /** Σ weight of queued members. */
  activeWeight: number;
  /** Bumped on every rebase: tags of members from an older epoch are void. */
  epoch: number;
  private quantum: number;
  private readonly eligible: SlotHeap;
  private readonly pending: SlotHeap;
  /** Queued members by slot, and the free slots. */
  private readonly bySlot: Array<Member | null>;
  private readonly free: number[];

  constructor(discipline: Discipline = 'wf2q+') {
    this.sfq = discipline === 'sfq';
    this.V = 0;
    this.vrem = 0;
    this.activeWeight = 0;
    this.epoch = 0;
    this.quantum = 1;
    this.eligible = new SlotHeap();
    this.pending = new SlotHeap();
    this.bySlot = [];
    this.free = [];
  }

  /** Number of queued members. */
  get live(): number {
    return this.eligible.size + this.pending.size;
  }

  private member(slot: number): Member {
    return this.bySlot[slot]!;
  }

  /** True when `m` is queued here. */
  holds(m: Member): boolean {
    return m.owner === this && m.where !== NONE;
  }

  /**
   * Adds a member that became active. It starts at max(its own next start tag, V): it gets no
   * credit for the time it was inactive, and no discount for service it already had.
   */
  enqueue(m: Member): void {
    this.adopt(m);
    if (m.S < this.V) {
      m.S = this.V;
      m.rem = 0;
    }
    m.seq = ++sequence;
    this.activeWeight += m.weight;
    this.place(m);
  }

  /** Removes a member that is no longer active. */
  dequeue(m: Member): void {
    this.unplace(m);
    this.activeWeight -= m.weight;
  }

  /** Changes a member's weight, keeping its start tag (RFC 7540 §5.3.3 weight change). */
  reweigh(m: Member, weight: number): void {
    if (this.holds(m)) {
      this.activeWeight += weight - m.weight;
      m.weight = weight;
      m.rem = 0;
      this.replace(m);
    } else {
      m.weight = weight;
      m.rem = 0;
    }
  }

  /** The member's next service length changed: its finish tag is recomputed. */
  rehint(m: Member): void {
    if (this.holds(m)) this.replace(m);
  }

  /** The member to serve next, or null when none is queued. */
  select(): Member | null {
    if (this.sfq) {
      if (this.pending.size === 0) return null;
      const p = this.member(this.pending.top());
      if (p.S > this.V) this.V = p.S; // SFQ: V is the start tag of the packet in service
      return p;
    }
    this.promote();
    if (this.eligible.size === 0) {
      // Nothing eligible: V jumps to the smallest start tag (WF2Q+: V = max(V, min S)).
      if (this.pending.size === 0) return null;
      this.V = this.pending.topKey();
      this.vrem = 0;
      this.promote();
    }
    return this.member(this.eligible.top());
  }

  /** Records `len` units of service given to member `m` (which need not be queued). */
  charge(m: Member, len: number): void {
    const queued = this.holds(m);
    if (!queued) this.adopt(m);
    const aw = this.activeWeight;
    if (aw > 0 && !this.sfq) {
      const num = len * K + this.vrem;
      const q = Math.floor(num / aw);
      this.V += q;
      this.vrem = num - q * aw;
    }
    const num = len * K + m.rem;
    const q = Math.floor(num / m.weight);
    m.S += q;
    m.rem = num - q * m.weight;
    if (len > this.quantum) {
      // a power of two: exact for 16384-octet frames, and at most ~24 growths ever
      while (this.quantum < len) this.quantum *= 2;
      this.regrade();
    }
    if (queued) this.replace(m);
    if (this.V > REBASE_AT) this.rebase();
  }

  private adopt(m: Member): void {
    if (m.owner !== this || m.ownerEpoch !== this.epoch) {
      m.owner = this;
      m.ownerEpoch = this.epoch;
      m.S = this.V;
      m.rem = 0;
      m.where = NONE;
    }
  }

  private finish(m: Member): number {
    return m.S + Math.floor(((m.nextLen > 0 ? m.nextLen : this.quantum) * K) / m.weight);
  }

  private place(m: Member): void {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.bySlot.length;
      this.bySlot.push(m);
    } else {
      this.bySlot[slot] = m;
    }
    m.slot = slot;
    this.file(m);
  }

  /** Puts a slotted member into the heap its tags call for. */
  private file(m: Member): void {
    m.F = this.finish(m);
    if (!this.sfq && m.S <= this.V) {
      m.where = ELIGIBLE;
      this.eligible.push(m.slot, m.F, m.seq, 0);
    } else {
      m.where = PENDING;
      this.pending.push(m.slot, m.S, m.F, m.seq);
    }
  }

  private unplace(m: Member): void {
    if (m.where === ELIGIBLE) this.eligible.remove(m.slot);
    else if (m.where === PENDING) this.pending.remove(m.slot);
    m.where = NONE;
    if (m.slot >= 0) {
      this.bySlot[m.slot] = null;
      this.free.push(m.slot);
      m.slot = -1;
    }
  }

  /** Re-files a queued member whose tags changed: in place when it stays in the same heap. */
  private replace(m: Member): void {
    const want = !this.sfq && m.S <= this.V ? ELIGIBLE : PENDING;
    if (want !== m.where) {
      if (m.where === ELIGIBLE) this.eligible.remove(m.slot);
      else this.pending.remove(m.slot);
      this.file(m);
      return;
    }
    m.F = this.finish(m);
    if (want === ELIGIBLE) this.eligible.update(m.slot, m.F, m.seq, 0);
    else this.pending.update(m.slot, m.S, m.F, m.seq);
  }

  /** Moves every pending member whose start tag has been reached into the eligible heap. */
  private promote(): void {
    const pending = this.pending;
    while (pending.size > 0 && pending.topKey() <= this.V) {
      const m = this.member(pending.pop());
      m.where = ELIGIBLE;
      this.eligible.push(m.slot, m.F, m.seq, 0);
    }
  }

  /** Recomputes every queued member's finish tag (the quantum grew), refiling them all. */
  private regrade(): void {
    this.refile(0);
  }

  /** Subtracts V from every tag so that numbers stay exact; tags of inactive members are voided. */
  private rebase(): void {
    const base = this.V;
    this.V = 0;
    this.epoch++;
    this.refile(base);
  }

  private refile(base: number): void {
    const queued = [...this.eligible.entries(), ...this.pending.entries()].map((s) => this.member(s));
    this.eligible.clear();
    this.pending.clear();
    for (const m of queued) {
      m.S -= base;
      m.ownerEpoch = this.epoch;
      this.file(m);
    }
  }
}
