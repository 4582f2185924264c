/**
 * Split helpers: feed the same bytes in pieces and collect what comes out, so that tests can
 * assert that where TCP happened to cut the stream changes nothing.
 */

/** Splits `bytes` at the given sorted offsets. */
export function splitAt(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const o of offsets) {
    if (o <= prev || o >= bytes.length) continue;
    out.push(bytes.subarray(prev, o));
    prev = o;
  }
  out.push(bytes.subarray(prev));
  return out;
}

/** Every two-piece split of `bytes`: [[whole], [b[0..1], b[1..]], ...]. */
export function* everySplit(bytes: Uint8Array): Generator<Uint8Array[]> {
  yield [bytes];
  for (let i = 1; i < bytes.length; i++) yield [bytes.subarray(0, i), bytes.subarray(i)];
}

/** Copies each piece into its own buffer, as a socket would deliver them. */
export function detached(pieces: readonly Uint8Array[]): Uint8Array[] {
  return pieces.map((p) => Uint8Array.from(p));
}
