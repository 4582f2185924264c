/**
 * SlotHeap: an indexed 4-ary min-heap over small integer slots, hand-written for the tree's hot
 * path. Keys live inline, in heap order, in typed arrays, and positions in a typed array indexed
 * by slot, so a sift touches only contiguous numbers — never the member objects — which is what
 * keeps a pick fast at 100k streams. A slot whose keys change moves in place (O(log n)), and
 * removal is O(log n): no stale entries, nothing allocated per operation.
 * heap-js (used by the FIFO and RFC 9218 schedulers) has neither decrease-key nor a fast remove,
 * and its pop+push rate (1.4–2.2 M/s) alone would cap the tree far below the bench goal.
 *
 * Order: by k1, then k2, then k3 (all numbers).
 */

export class SlotHeap {
  private slots: Int32Array;
  private k1: Float64Array;
  private k2: Float64Array;
  private k3: Float64Array;
  /** Position of each slot in this heap, or -1. */
  private pos: Int32Array;
  size: number;

  constructor() {
    this.slots = new Int32Array(8);
    this.k1 = new Float64Array(8);
    this.k2 = new Float64Array(8);
    this.k3 = new Float64Array(8);
    this.pos = new Int32Array(8).fill(-1);
    this.size = 0;
  }

  /** The slot on top, or -1 when empty. */
  top(): number {
    return this.size > 0 ? this.slots[0]! : -1;
  }

  /** First key of the top slot (callers check `size` first). */
  topKey(): number {
    return this.k1[0]!;
  }

  has(slot: number): boolean {
    return slot < this.pos.length && this.pos[slot]! >= 0;
  }

  /** Slots in heap order (for rebuilding). */
  *entries(): Generator<number> {
    for (let i = 0; i < this.size; i++) yield this.slots[i]!;
  }

  push(slot: number, a: number, b: number, c: number): void {
    if (slot >= this.pos.length) this.growPos(slot + 1);
    if (this.size === this.slots.length) this.grow();
    const i = this.size++;
    this.up(i, slot, a, b, c);
  }

  /** Removes and returns the top slot (callers check `size` first). */
  pop(): number {
    const s = this.slots[0]!;
    this.removeAt(0);
    return s;
  }

  remove(slot: number): void {
    const i = this.pos[slot]!;
    if (i >= 0) this.removeAt(i);
  }

  /** Gives `slot` new keys and restores order. */
  update(slot: number, a: number, b: number, c: number): void {
    const i = this.pos[slot]!;
    if (i > 0 && this.before(a, b, c, (i - 1) >>> 2)) this.up(i, slot, a, b, c);
    else this.down(i, slot, a, b, c);
  }

  clear(): void {
    for (let i = 0; i < this.size; i++) this.pos[this.slots[i]!] = -1;
    this.size = 0;
  }

  /** True when keys (a, b, c) order before the entry at position `j` (false when j is not a position). */
  private before(a: number, b: number, c: number, j: number): boolean {
    if (j >= this.size) return false;
    const x = this.k1[j]!;
    if (a !== x) return a < x;
    const y = this.k2[j]!;
    if (b !== y) return b < y;
    return c < this.k3[j]!;
  }

  private set(i: number, slot: number, a: number, b: number, c: number): void {
    this.slots[i] = slot;
    this.k1[i] = a;
    this.k2[i] = b;
    this.k3[i] = c;
    this.pos[slot] = i;
  }

  private move(from: number, to: number): void {
    this.set(to, this.slots[from]!, this.k1[from]!, this.k2[from]!, this.k3[from]!);
  }

  private removeAt(i: number): void {
    const gone = this.slots[i]!;
    const last = --this.size;
    this.pos[gone] = -1;
    if (i === last) return;
    const s = this.slots[last]!;
    const a = this.k1[last]!;
    const b = this.k2[last]!;
    const c = this.k3[last]!;
    if (i > 0 && this.before(a, b, c, (i - 1) >>> 2)) this.up(i, s, a, b, c);
    else this.down(i, s, a, b, c);
  }

  /** Places (slot, keys) at position `i` or above. */
  private up(i: number, slot: number, a: number, b: number, c: number): void {
    while (i > 0) {
      const p = (i - 1) >>> 2;
      if (!this.before(a, b, c, p)) break;
      this.move(p, i);
      i = p;
    }
    this.set(i, slot, a, b, c);
  }

  /** Places (slot, keys) at position `i` or below. */
  private down(i: number, slot: number, a: number, b: number, c: number): void {
    const n = this.size;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      let best = first;
      const end = first + 4 < n ? first + 4 : n;
      for (let k = first + 1; k < end; k++) {
        if (this.before(this.k1[k]!, this.k2[k]!, this.k3[k]!, best)) best = k;
      }
      if (!this.lessAt(best, a, b, c)) break;
      this.move(best, i);
      i = best;
    }
    this.set(i, slot, a, b, c);
  }

  /** True when the entry at position `j` orders before keys (a, b, c). */
  private lessAt(j: number, a: number, b: number, c: number): boolean {
    const x = this.k1[j]!;
    if (x !== a) return x < a;
    const y = this.k2[j]!;
    if (y !== b) return y < b;
    return this.k3[j]! < c;
  }

  private grow(): void {
    const n = this.slots.length * 2;
    const slots = new Int32Array(n);
    slots.set(this.slots);
    this.slots = slots;
    for (const key of ['k1', 'k2', 'k3'] as const) {
      const k = new Float64Array(n);
      k.set(this[key]);
      this[key] = k;
    }
  }

  private growPos(min: number): void {
    let n = this.pos.length;
    while (n < min) n *= 2;
    const pos = new Int32Array(n).fill(-1);
    pos.set(this.pos);
    this.pos = pos;
  }
}
