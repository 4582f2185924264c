/**
 * Index over hpack.js's copy of the RFC 7541 Appendix A static table, built on `Map`s (hpack.js's
 * own reverse map is a plain object, so names such as `constructor` or `__proto__` crash it).
 */
import hpack from 'hpack.js';

export const STATIC_LENGTH: number = hpack['static-table'].table.length;

interface StaticName {
  /** Smallest index with this name. */
  readonly index: number;
  readonly values: Map<string, number>;
}

export const STATIC_INDEX: ReadonlyMap<string, StaticName> = (() => {
  const m = new Map<string, { index: number; values: Map<string, number> }>();
  hpack['static-table'].table.forEach((e, i) => {
    let n = m.get(e.name);
    if (!n) m.set(e.name, (n = { index: i + 1, values: new Map() }));
    if (!n.values.has(e.value)) n.values.set(e.value, i + 1);
  });
  return m;
})();
