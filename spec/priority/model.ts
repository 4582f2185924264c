/**
 * A slow, obviously-correct reference model of the RFC 7540 tree structure, with the same
 * retention rules as PriorityTree, for the stateful model test. It keeps parents in a Map and
 * recomputes everything by scanning; it does not schedule, but knows which streams are
 * schedulable (open, unblocked, every ancestor blocked / closed / idle).
 */
type Kind = 'open' | 'closed' | 'idle';
interface MNode { parent: number; weight: number; kind: Kind; blocked: boolean; order: number }

export class TreeModel {
  nodes = new Map<number, MNode>();
  private order = 0;
  private maxSeen = [0, 0];
  closedFifo: number[] = [];
  idleFifo: number[] = [];
  constructor(readonly maxStreams = 1000, readonly maxClosed = 100, readonly maxIdle = 100) {}

  children(p: number): number[] {
    return [...this.nodes.entries()].filter(([, n]) => n.parent === p).sort((a, b) => a[1].order - b[1].order).map(([id]) => id);
  }
  open(): number { return [...this.nodes.values()].filter((n) => n.kind === 'open').length; }

  private seen(id: number): void { this.maxSeen[id & 1] = Math.max(this.maxSeen[id & 1]!, id); }
  private setParent(id: number, p: number): void { const n = this.nodes.get(id)!; n.parent = p; n.order = this.order++; }
  private isAncestor(a: number, of: number): boolean {
    for (let x = this.nodes.get(of)?.parent; x !== undefined && x !== 0; x = this.nodes.get(x)?.parent) if (x === a) return true;
    return false;
  }
  private evict(id: number): void {
    const n = this.nodes.get(id)!;
    const kids = this.children(id);
    const total = kids.reduce((s, k) => s + this.nodes.get(k)!.weight, 0);
    this.nodes.delete(id);
    for (const k of kids) {
      const c = this.nodes.get(k)!;
      c.weight = Math.max(1, Math.floor((n.weight * c.weight) / total));
      this.setParent(k, n.parent);
    }
    this.closedFifo = this.closedFifo.filter((x) => x !== id);
    this.idleFifo = this.idleFifo.filter((x) => x !== id);
  }
  private addIdle(id: number, keep: number[]): void {
    if (this.idleFifo.length >= this.maxIdle) {
      const victim = this.idleFifo.find((x) => !keep.includes(x));
      if (victim !== undefined) this.evict(victim);
    }
    this.nodes.set(id, { parent: 0, weight: 16, kind: 'idle', blocked: true, order: this.order++ });
    this.idleFifo.push(id);
  }
  private place(id: number, dep: number, weight: number, exclusive: boolean): void {
    if (dep !== 0 && !this.nodes.has(dep)) {
      if (dep > this.maxSeen[dep & 1]! && this.maxIdle > 0) {
        this.seen(dep);
        this.addIdle(dep, [id]);
      } else {
        dep = 0;
        weight = 16;
        exclusive = false;
      }
    }
    const node = this.nodes.get(id)!;
    if (this.isAncestor(id, dep)) this.setParent(dep, node.parent);
    if (node.parent === dep && !exclusive && node.order >= 0) {
      node.weight = weight;
      return;
    }
    node.weight = weight;
    if (exclusive) for (const c of this.children(dep)) if (c !== id) this.setParent(c, id);
    this.setParent(id, dep);
  }

  insert(id: number, dep = 0, weight = 16, exclusive = false, blocked = false): void {
    const ex = this.nodes.get(id);
    if (ex) {
      this.idleFifo = this.idleFifo.filter((x) => x !== id);
      ex.kind = 'open';
      ex.blocked = blocked;
      this.place(id, dep, weight, exclusive);
      return;
    }
    this.nodes.set(id, { parent: -1, weight, kind: 'open', blocked, order: -1 });
    this.place(id, dep, weight, exclusive);
    this.seen(id);
  }
  insertKeep(id: number, blocked = false): void {
    // insert without priority on an idle placeholder keeps its place
    const ex = this.nodes.get(id)!;
    this.idleFifo = this.idleFifo.filter((x) => x !== id);
    ex.kind = 'open';
    ex.blocked = blocked;
  }
  reprioritize(id: number, dep: number, weight: number, exclusive: boolean): void { this.place(id, dep, weight, exclusive); }
  prioritize(id: number, dep: number, weight: number, exclusive: boolean): void {
    if (this.nodes.has(id)) return this.place(id, dep, weight, exclusive);
    if (this.maxIdle === 0) return;
    this.addIdle(id, []);
    this.place(id, dep, weight, exclusive);
    this.seen(id);
  }
  remove(id: number): void {
    if (this.maxClosed === 0) return this.evict(id);
    const n = this.nodes.get(id)!;
    n.kind = 'closed';
    n.blocked = true;
    this.closedFifo.push(id);
    if (this.closedFifo.length > this.maxClosed) this.evict(this.closedFifo[0]!);
  }
  schedulable(): number[] {
    const out: number[] = [];
    for (const [id, n] of this.nodes) {
      if (n.kind !== 'open' || n.blocked) continue;
      let ok = true;
      for (let a = n.parent; a !== 0; a = this.nodes.get(a)!.parent) {
        const an = this.nodes.get(a)!;
        if (an.kind === 'open' && !an.blocked) ok = false;
      }
      if (ok) out.push(id);
    }
    return out.sort((a, b) => a - b);
  }
}
