/**
 * FairQueue: the WF2Q+ queue (Bennett & Zhang 1997) of one tree node's active children. It keeps
 * the node's virtual time V, which follows the ideal fluid (GPS) system: each L units of service
 * through the node advance V by L·K/Σw of the active children. A child is eligible when its start
 * tag S ≤ V; among eligible children the smallest finish tag F = S + L·K/w is served. Eligibility
 * is what keeps a heavy child from running ahead of its fluid share (SFQ alone can lag by n frames).
 *
 * A finish tag needs the length of the member's next packet. When the caller gives it
 * (`nextLen`, see PriorityTree.setNextLength) the schedule is exact WF2Q+; otherwise the largest
 * service charged so far in this queue stands in (exact when frames are full-size, and for unit
 * picks).
 *
 * All tags are integers scaled by K with carried remainders, so a child of weight w advances
 * exactly K per w units of service: long-run shares are exact and nothing drifts. V is rebased
 * when it nears 2^50, so numbers stay far below 2^53.
 *
 * Entries in the two heaps are immutable; a child whose tags change gets a new entry and the old
 * one is skipped when it surfaces (lazy deletion: heap-js's remove() is O(n)). The heaps are
 * rebuilt from live entries when stale ones outnumber them.
 */
import { Heap } from 'heap-js';

/** Scale of virtual time: one unit of service at weight w advances a tag by K/w. */
export const K = 65536;
const REBASE_AT = 2 ** 50;

/** What the queue needs on a tree node that is one of its members. */
export interface Member {
  readonly id: number;
  weight: number;
  /** Next start tag (the finish tag of the last service). */
  S: number;
  /** Remainder carried by the tag arithmetic, in units of 1/weight. */
  rem: number;
  /** Length of the member's next service when the caller knows it (0: unknown, use the quantum). */
  nextLen: number;
  /** Activation sequence number: the tie-break, so that equal tags are served in a fixed order. */
  seq: number;
  /** Bumped whenever the member's heap entry becomes stale. */
  gen: number;
  /** The queue whose tags S is measured in, and its epoch then (tags from elsewhere are void). */
  owner: FairQueue | null;
  ownerEpoch: number;
  /** True while the member is in `owner`'s heaps. */
  queued: boolean;
}

interface Entry {
  readonly m: Member;
  readonly gen: number;
  readonly s: number;
  readonly f: number;
  readonly seq: number;
}

const byFinish = (a: Entry, b: Entry): number => a.f - b.f || a.seq - b.seq;
const byStart = (a: Entry, b: Entry): number => a.s - b.s || a.f - b.f || a.seq - b.seq;

/**
 * `wf2q+`: serve the eligible member (S ≤ V) with the smallest finish tag; every member stays
 * within one packet of its fluid share. `sfq` (start-time fair queueing, as python priority and
 * nghttp2): serve the smallest start tag (ties: finish tag), V = the start tag in service; the
 * pairwise interval bound |ΔB_i/w_i − ΔB_j/w_j| ≤ L/w_i + L/w_j holds exactly, but a heavy member
 * can trail its fluid share by one packet per sibling.
 */
export type Discipline = 'wf2q+' | 'sfq';

let sequence = 0;


export class FairQueue {
  private readonly sfq: boolean;
  /** Virtual time. */
  V: number;
  private vrem: number;
  /** Σ weight of queued members. */
  activeWeight: number;
  /** Number of queued members. */
  live: number;
  /** Bumped on every rebase: tags of members from an older epoch are void. */
  epoch: number;
  /**
   * Largest service charged so far: each member's next packet is assumed to be this long when
   * its finish tag is computed, so frames of the usual full size give exact WF2Q+, and unit
   * picks give exact WF2Q+ with unit packets.
   */
  private quantum: number;
  private stale: number;
  private readonly eligible: Heap<Entry>;
  private readonly pending: Heap<Entry>;

  constructor(discipline: Discipline = 'wf2q+') {
    this.sfq = discipline === 'sfq';
    this.V = 0;
    this.vrem = 0;
    this.activeWeight = 0;
    this.live = 0;
    this.epoch = 0;
    this.quantum = 1;
    this.stale = 0;
    this.eligible = new Heap<Entry>(byFinish);
    this.pending = new Heap<Entry>(byStart);
  }

  /**
   * Adds a member that became active. It starts at max(its own next start tag, V): it gets no
   * credit for the time it was inactive, and no discount for service it already had.
   */
  enqueue(m: Member): void {
    if (m.owner !== this || m.ownerEpoch !== this.epoch) {
      m.S = this.V;
      m.rem = 0;
      m.owner = this;
      m.ownerEpoch = this.epoch;
    } else if (m.S < this.V) {
      m.S = this.V;
      m.rem = 0;
    }
    m.seq = ++sequence;
    m.queued = true;
    this.activeWeight += m.weight;
    this.live++;
    this.push(m);
  }

  /** Removes a member that is no longer active (O(1): its entry goes stale). */
  dequeue(m: Member): void {
    m.queued = false;
    m.gen++;
    this.activeWeight -= m.weight;
    this.live--;
    this.stale++;
    if (this.live === 0) this.clear();
    else if (this.stale > 32 && this.stale > 2 * this.live) this.compact();
  }

  /** Changes a queued member's weight, keeping its start tag (RFC 7540 §5.3.3 weight change). */
  reweigh(m: Member, weight: number): void {
    if (m.queued) {
      this.activeWeight += weight - m.weight;
      m.weight = weight;
      m.gen++;
      this.stale++;
      this.push(m);
    } else {
      m.weight = weight;
    }
    m.rem = 0;
  }

  /** The member to serve next, or null when none is queued. */
  select(): Member | null {
    if (this.live === 0) return null;
    if (this.sfq) {
      const p = this.liveTop(this.pending);
      if (p === undefined) return null;
      if (p.s > this.V) this.V = p.s; // SFQ: V is the start tag of the packet in service
      return p.m;
    }
    this.promote();
    let top = this.liveTop(this.eligible);
    if (top === undefined) {
      // Nothing eligible: V jumps to the smallest start tag (WF2Q+: V = max(V, min S)).
      const p = this.liveTop(this.pending);
      if (p === undefined) return null;
      this.V = p.s;
      this.vrem = 0;
      this.promote();
      top = this.liveTop(this.eligible);
      if (top === undefined) return null;
    }
    return top.m;
  }

  /** Records `len` units of service given to member `m` (which need not be queued). */
  charge(m: Member, len: number): void {
    if (m.owner !== this || m.ownerEpoch !== this.epoch) {
      m.owner = this;
      m.ownerEpoch = this.epoch;
      m.S = this.V;
      m.rem = 0;
    }
    if (this.activeWeight > 0 && !this.sfq) {
      const num = len * K + this.vrem;
      this.V += Math.floor(num / this.activeWeight);
      this.vrem = num % this.activeWeight;
    }
    const num = len * K + m.rem;
    m.S += Math.floor(num / m.weight);
    m.rem = num % m.weight;
    const regrade = len > this.quantum;
    if (regrade) {
      // a power of two: exact for the usual 16384-octet frames, and at most ~24 growths ever
      while (this.quantum < len) this.quantum *= 2;
    }
    if (m.queued) {
      const top = this.eligible.peek();
      m.gen++;
      const heap = this.sfq ? this.pending : this.eligible;
      const head = this.sfq ? this.pending.peek() : top;
      if (head !== undefined && head.m === m && head.gen === m.gen - 1) {
        heap.pop();
      } else {
        this.stale++;
      }
      this.push(m);
    }
    if (this.V > REBASE_AT || regrade) this.rebase(this.V > REBASE_AT ? this.V : 0);
  }

  /** Finish tag of a member's next packet starting at `s`. */
  private finish(m: Member, s: number): number {
    return s + Math.floor(((m.nextLen > 0 ? m.nextLen : this.quantum) * K) / m.weight);
  }

  /** The member's next service length changed: its finish tag is recomputed. */
  rehint(m: Member): void {
    if (!m.queued) return;
    m.gen++;
    this.stale++;
    this.push(m);
  }

  private push(m: Member): void {
    const e: Entry = { m, gen: m.gen, s: m.S, f: this.finish(m, m.S), seq: m.seq };
    if (e.s <= this.V && !this.sfq) this.eligible.push(e);
    else this.pending.push(e);
  }

  /** Moves every pending entry whose start tag has been reached into the eligible heap. */
  private promote(): void {
    const pending = this.pending;
    for (let e = pending.peek(); e !== undefined && (e.gen !== e.m.gen || e.s <= this.V); e = pending.peek()) {
      pending.pop();
      if (e.gen === e.m.gen) this.eligible.push(e);
      else this.stale--;
    }
  }

  private liveTop(h: Heap<Entry>): Entry | undefined {
    for (let e = h.peek(); e !== undefined; e = h.peek()) {
      if (e.gen === e.m.gen) return e;
      h.pop();
      this.stale--;
    }
    return undefined;
  }

  private live_entries(): Entry[] {
    const out: Entry[] = [];
    for (const e of this.eligible.toArray()) if (e.gen === e.m.gen) out.push(e);
    for (const e of this.pending.toArray()) if (e.gen === e.m.gen) out.push(e);
    return out;
  }

  private compact(): void {
    const live = this.live_entries();
    this.eligible.init(live.filter((e) => e.s <= this.V && !this.sfq));
    this.pending.init(live.filter((e) => e.s > this.V || this.sfq));
    this.stale = 0;
  }

  private clear(): void {
    this.eligible.clear();
    this.pending.clear();
    this.stale = 0;
  }

  /**
   * Rebuilds both heaps with fresh finish tags, subtracting `base` from every tag so that numbers
   * stay exact (tags of inactive members are then voided by the new epoch).
   */
  private rebase(base: number): void {
    const live = this.live_entries();
    if (base !== 0) {
      this.V -= base;
      this.epoch++;
    }
    const rebased: Entry[] = [];
    for (const e of live) {
      const m = e.m;
      m.S -= base;
      m.ownerEpoch = this.epoch;
      rebased.push({ m, gen: m.gen, s: m.S, f: this.finish(m, m.S), seq: m.seq });
    }
    this.eligible.init(rebased.filter((e) => e.s <= this.V && !this.sfq));
    this.pending.init(rebased.filter((e) => e.s > this.V || this.sfq));
    this.stale = 0;
  }
}
