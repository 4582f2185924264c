/** Header field shapes shared by the HPACK adapter, the engine and its events. */

/**
 * A decoded header field: name and value as byte strings (one char per octet), and `true` in
 * third place when the field arrived as never-indexed (RFC 7541 §6.2.3) so that a proxy can keep
 * it never-indexed when it forwards it.
 */
export type HeaderField = readonly [name: string, value: string, sensitive?: boolean];

/**
 * A header field to send. Strings whose chars are all ≤ 0xFF are taken as byte strings; a string
 * with any char above 0xFF is sent UTF-8 encoded. `sensitive: true` sends it never-indexed.
 */
export type HeaderInput = readonly [name: string | Uint8Array, value: string | Uint8Array, sensitive?: boolean];
