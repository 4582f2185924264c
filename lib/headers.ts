/**
 * HTTP semantics of header blocks (RFC 9113 §8). Received blocks are checked against every rule
 * whose violation makes a message malformed — which the connection answers with a *stream*
 * error PROTOCOL_ERROR (§8.1.1), never a connection teardown — and cookie crumbs are joined.
 * Blocks we send are normalized (lowercase names, connection-specific fields dropped, cookies
 * optionally split) and validated; a bad one is the caller's mistake, a UsageError.
 */
import { UsageError } from './errors.js';
import type { HeaderField, HeaderInput } from './hpack/types.js';
import { toByteString } from './bytes.js';
import { isFixedFieldList } from './hpack/encoder.js';

/** What a header block is, which decides the rules that apply to it. */
export type BlockKind = 'request' | 'response' | 'informational' | 'trailers';

/** What validation learned about a request or response block. */
export interface BlockInfo {
  readonly method: string | undefined;
  readonly status: number | undefined;
  /** The content-length value, or undefined when absent. */
  readonly contentLength: number | undefined;
  /** `:protocol` of an extended CONNECT (RFC 8441). */
  readonly protocol: string | undefined;
}

/** A malformed block: the reason, for the stream error's message. */
export interface Malformed {
  readonly malformed: string;
}

const REQUEST_PSEUDO: ReadonlySet<string> = new Set([':method', ':scheme', ':authority', ':path', ':protocol']);
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(['connection', 'proxy-connection', 'keep-alive', 'transfer-encoding', 'upgrade']);
/** RFC 9110 §5.6.2 token (`:method`). */
const METHOD_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** RFC 9113 §8.2.1 field name rule: lowercase token characters, ':' only as the first octet. */
function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'empty field name';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // > A field name MUST NOT contain characters in the ranges 0x00-0x20, 0x41-0x5a, or 0x7f-0xff
    // > (all ranges inclusive). This specifically excludes all non-visible ASCII characters, ASCII
    // > SP (0x20), and uppercase characters ('A' to 'Z', ASCII 0x41 to 0x5a).   RFC 9113 §8.2.1
    if (c <= 0x20 || (c >= 0x41 && c <= 0x5a) || c >= 0x7f) return `field name ${JSON.stringify(name)} has an invalid character`;
    // > With the exception of pseudo-header fields, which have a name that starts with a single
    // > colon, field names MUST NOT include a colon (ASCII COLON, 0x3a).
    if (c === 0x3a && i > 0) return `field name ${JSON.stringify(name)} has a colon`;
  }
  return undefined;
}

/** RFC 9113 §8.2.1 field value rule. */
function valueProblem(name: string, value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // > A field value MUST NOT contain the zero value (ASCII NUL, 0x00), line feed (ASCII LF,
    // > 0x0a), or carriage return (ASCII CR, 0x0d) at any position.
    if (c === 0 || c === 0x0a || c === 0x0d) return `value of ${name} contains NUL, CR or LF`;
  }
  // > A field value MUST NOT start or end with an ASCII whitespace character (ASCII SP or HTAB,
  // > 0x20 or 0x09).
  if (value.length > 0) {
    const a = value.charCodeAt(0);
    const z = value.charCodeAt(value.length - 1);
    if (a === 0x20 || a === 0x09 || z === 0x20 || z === 0x09) return `value of ${name} starts or ends with whitespace`;
  }
  return undefined;
}

function parseContentLength(values: readonly string[]): number | Malformed | undefined {
  if (values.length === 0) return undefined;
  let n: number | undefined;
  for (const v of values) {
    if (!/^[0-9]{1,15}$/.test(v)) return { malformed: `content-length ${JSON.stringify(v)} is not a number` };
    const x = Number(v);
    if (n !== undefined && x !== n) return { malformed: 'conflicting content-length values' };
    n = x;
  }
  return n;
}

/**
 * Checks a received header block. Returns what it learned, or why it is malformed.
 * @param connectProtocol we sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3).
 */
export function checkReceived(headers: readonly HeaderField[], kind: BlockKind, connectProtocol: boolean): BlockInfo | Malformed {
  const pseudo = new Map<string, string>();
  let regular = false;
  let host: string | undefined;
  const lengths: string[] = [];
  for (const [name, value] of headers) {
    const np = nameProblem(name);
    if (np) return { malformed: np };
    const vp = valueProblem(name, value);
    if (vp) return { malformed: vp };
    if (name.charCodeAt(0) === 0x3a) {
      // > All pseudo-header fields MUST appear in a field block before all regular field lines.
      if (regular) return { malformed: `pseudo-header ${name} after a regular field` };
      // > Pseudo-header fields MUST NOT appear in a trailer section.   RFC 9113 §8.1
      if (kind === 'trailers') return { malformed: `pseudo-header ${name} in trailers` };
      const allowed = kind === 'request' ? REQUEST_PSEUDO.has(name) : name === ':status';
      // > Endpoints MUST treat a request or response that contains undefined or invalid
      // > pseudo-header fields as malformed.   RFC 9113 §8.3
      if (!allowed) return { malformed: `pseudo-header ${name} not allowed in a ${kind}` };
      // > The same pseudo-header field name MUST NOT appear more than once in a field block.
      if (pseudo.has(name)) return { malformed: `duplicate ${name}` };
      pseudo.set(name, value);
      continue;
    }
    regular = true;
    // > An endpoint MUST NOT generate an HTTP/2 message containing connection-specific header
    // > fields. ... Any message containing connection-specific header fields MUST be treated as
    // > malformed.   RFC 9113 §8.2.2
    if (CONNECTION_SPECIFIC.has(name)) return { malformed: `connection-specific field ${name}` };
    // > The only exception to this is the TE header field, which MAY be present in an HTTP/2
    // > request; when it is, it MUST NOT contain any value other than "trailers".
    if (name === 'te' && value.toLowerCase() !== 'trailers') return { malformed: `te: ${value}` };
    if (name === 'host') {
      if (host !== undefined) return { malformed: 'more than one host field' };
      host = value;
    }
    if (name === 'content-length') lengths.push(value);
  }
  const contentLength = parseContentLength(lengths);
  if (typeof contentLength === 'object') return contentLength;
  if (kind === 'trailers') return { method: undefined, status: undefined, contentLength, protocol: undefined };
  if (kind === 'request') return checkRequest(pseudo, host, contentLength, connectProtocol);
  const status = pseudo.get(':status');
  // > For HTTP/2 responses, a single ":status" pseudo-header field is defined ... This
  // > pseudo-header field MUST be included in all responses, including interim responses.   §8.3.2
  if (status === undefined || !/^[1-5][0-9][0-9]$/.test(status)) return { malformed: `:status ${status ?? 'missing'}` };
  const code = Number(status);
  if ((kind === 'informational') !== (code < 200)) return { malformed: `:status ${code} in a ${kind} block` };
  // > HTTP/2 ... does not support the 101 (Switching Protocols) informational status code.   §8.6
  if (code === 101) return { malformed: ':status 101 is not allowed in HTTP/2' };
  return { method: undefined, status: code, contentLength, protocol: undefined };
}

function checkRequest(pseudo: Map<string, string>, host: string | undefined, contentLength: number | undefined, connectProtocol: boolean): BlockInfo | Malformed {
  const method = pseudo.get(':method');
  if (method === undefined || method.length === 0) return { malformed: ':method missing' };
  // > method = token   RFC 9110 §9.1 (a request with an invalid :method is malformed, RFC 9113 §8.3)
  if (!METHOD_TOKEN.test(method)) return { malformed: `:method ${JSON.stringify(method)} is not a token` };
  const protocol = pseudo.get(':protocol');
  const authority = pseudo.get(':authority');
  if (protocol !== undefined) {
    // RFC 8441 §4: :protocol only on CONNECT, and only when we enabled it (else it is an
    // undefined pseudo-header, RFC 9113 §8.3).
    if (!connectProtocol) return { malformed: ':protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL' };
    if (method !== 'CONNECT') return { malformed: ':protocol on a non-CONNECT request' };
  }
  if (method === 'CONNECT' && protocol === undefined) {
    // > The ":scheme" and ":path" pseudo-header fields MUST be omitted. ... The ":authority"
    // > pseudo-header field contains the host and port to connect to.   RFC 9113 §8.5
    if (pseudo.has(':scheme') || pseudo.has(':path')) return { malformed: 'CONNECT with :scheme or :path' };
    if (authority === undefined) return { malformed: 'CONNECT without :authority' };
  } else {
    // > All HTTP/2 requests MUST include exactly one valid value for the ":method", ":scheme",
    // > and ":path" pseudo-header fields, unless they are CONNECT requests.   RFC 9113 §8.3.1
    if (!pseudo.has(':scheme')) return { malformed: ':scheme missing' };
    const path = pseudo.get(':path');
    // > This pseudo-header field MUST NOT be empty for "http" or "https" URIs.
    if (path === undefined || path.length === 0) return { malformed: ':path missing or empty' };
  }
  // > A server SHOULD treat a request as malformed if it contains a Host header field that
  // > identifies an entity that differs from the entity in the ":authority" pseudo-header field.
  if (host !== undefined && authority !== undefined && host !== authority) return { malformed: 'host differs from :authority' };
  return { method, status: undefined, contentLength, protocol };
}

/**
 * Why a request may not be promised (PUSH_PROMISE), or undefined when it may: its method must
 * be safe and cacheable (GET or HEAD: RFC 9110 §9.2.1 safe ∩ §9.2.3 cacheable), it must not
 * announce content, and it must name the `:authority` the server answers for. Checked whatever
 * the header validation options say: these are rules of push, not of field syntax.
 * > Promised requests MUST be safe (see Section 9.2.1 of [HTTP]) and cacheable (see Section
 * > 9.2.3 of [HTTP]). Promised requests cannot include any content or a trailer section.
 * > Clients that receive a promised request that is not cacheable, that is not known to be safe,
 * > or that indicates the presence of request content MUST reset the promised stream with a
 * > stream error (Section 5.4.2) of type PROTOCOL_ERROR.   RFC 9113 §8.4
 * > The server MUST include a value in the ":authority" pseudo-header field for which the server
 * > is authoritative ... A client MUST treat a PUSH_PROMISE for which the server is not
 * > authoritative as a stream error (Section 5.4.2) of type PROTOCOL_ERROR.   RFC 9113 §8.4
 */
export function promiseProblem(fields: readonly HeaderField[]): string | undefined {
  let method: string | undefined;
  let authority: string | undefined;
  for (const [name, value] of fields) {
    if (name === ':method') method = value;
    else if (name === ':authority') authority = value;
    else if (name === 'content-length' && !/^0+$/.test(value)) return `a promised request cannot have content (content-length ${value})`;
  }
  if (method !== 'GET' && method !== 'HEAD') return `a promised request must be safe and cacheable (GET or HEAD), not ${method ?? 'without :method'}`;
  if (authority === undefined || authority.length === 0) return 'a promised request needs an :authority the server is authoritative for';
  return undefined;
}

/**
 * Joins cookie crumbs into one field (RFC 9113 §8.2.3: "; " between them), at the position of the
 * first; never-indexed if any crumb was. Returns the same array when there is at most one cookie.
 */
export function joinCookies(headers: HeaderField[]): HeaderField[] {
  let first = -1;
  let count = 0;
  for (let i = 0; i < headers.length; i++) {
    if (headers[i]![0] === 'cookie') {
      if (first < 0) first = i;
      count++;
    }
  }
  if (count < 2) return headers;
  const crumbs: string[] = [];
  let sensitive = false;
  const out: HeaderField[] = [];
  for (const h of headers) {
    if (h[0] !== 'cookie') out.push(h);
    else {
      crumbs.push(h[1]);
      sensitive ||= h[2] === true;
    }
  }
  const joined: HeaderField = sensitive ? ['cookie', crumbs.join('; '), true] : ['cookie', crumbs.join('; ')];
  out.splice(first, 0, joined);
  return out;
}

/** Options of {@link prepareOutbound}. */
export interface OutboundOptions {
  /** Lowercase names, drop connection-specific fields, trim values. Default true. */
  readonly normalize: boolean;
  /** Check the RFC 9113 §8 rules and throw UsageError on a violation. Default true. */
  readonly validate: boolean;
  /** Split cookie values into crumbs (better HPACK compression, RFC 9113 §8.2.3). Default false. */
  readonly splitCookies: boolean;
  /** The peer sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1. */
  readonly connectProtocol: boolean;
}

/**
 * Normalizes and validates a header block we are about to send. A frozen list of frozen string
 * pairs is prepared once and the result reused (the fields returned are shared: read-only).
 * @throws UsageError when the block breaks RFC 9113 §8 (nothing is sent).
 */
export function prepareOutbound(headers: readonly HeaderInput[], kind: BlockKind, o: OutboundOptions): { readonly fields: readonly HeaderField[]; readonly info: BlockInfo } {
  if (Object.isFrozen(headers)) {
    const known = PREPARED.get(headers);
    if (known !== undefined && known.kind === kind && known.normalize === o.normalize && known.validate === o.validate
      && known.splitCookies === o.splitCookies && known.connectProtocol === o.connectProtocol) return known.result;
    const result = prepareFresh(headers, kind, o);
    if (isFixedFieldList(headers)) {
      // shared from now on, and fixed itself: the encoder may reuse its coded block
      for (const f of result.fields) Object.freeze(f);
      Object.freeze(result.fields);
      PREPARED.set(headers, { kind, normalize: o.normalize, validate: o.validate, splitCookies: o.splitCookies, connectProtocol: o.connectProtocol, result });
    }
    return result;
  }
  return prepareFresh(headers, kind, o);
}

/**
 * Blocks already prepared, by identity: a frozen list of frozen string pairs cannot change, so a
 * server answering with the same list again and again (a cached file's headers) normalizes and
 * checks it once. Weak: an entry goes with its list.
 */
const PREPARED = new WeakMap<readonly HeaderInput[], {
  readonly kind: BlockKind; readonly normalize: boolean; readonly validate: boolean; readonly splitCookies: boolean; readonly connectProtocol: boolean;
  readonly result: { readonly fields: readonly HeaderField[]; readonly info: BlockInfo };
}>();

function prepareFresh(headers: readonly HeaderInput[], kind: BlockKind, o: OutboundOptions): { readonly fields: readonly HeaderField[]; readonly info: BlockInfo } {
  const fields: HeaderField[] = [];
  for (const h of headers) {
    if (!Array.isArray(h) || h.length < 2) throw new UsageError('a header is a [name, value] pair');
    if (!isOctets(h[0]) || !isOctets(h[1])) throw new UsageError(`header ${String(h[0])}: names and values are strings or Uint8Arrays`);
    let name = toByteString(h[0]);
    let value = toByteString(h[1]);
    const sensitive = h[2] === true;
    if (o.normalize) {
      name = name.toLowerCase();
      if (value.length > 0) {
        // trimmed only when it starts or ends with SP/HTAB (a regex per value cost 0.5% of a busy server)
        const a = value.charCodeAt(0);
        const z = value.charCodeAt(value.length - 1);
        if (a === 0x20 || a === 0x09 || z === 0x20 || z === 0x09) value = value.replace(/^[ \t]+|[ \t]+$/g, '');
      }
      if (CONNECTION_SPECIFIC.has(name)) continue;
      if (name === 'te' && value.toLowerCase() !== 'trailers') continue;
      if (o.splitCookies && name === 'cookie' && value.includes('; ')) {
        for (const crumb of value.split('; ')) fields.push(sensitive ? [name, crumb, true] : [name, crumb]);
        continue;
      }
    }
    fields.push(sensitive ? [name, value, true] : [name, value]);
  }
  const info = checkReceived(fields, kind, o.connectProtocol);
  if ('malformed' in info) {
    if (o.validate) throw new UsageError(`invalid ${kind} header block: ${info.malformed}`);
    return { fields, info: { method: undefined, status: undefined, contentLength: undefined, protocol: undefined } };
  }
  return { fields, info };
}

function isOctets(v: unknown): v is string | Uint8Array {
  return typeof v === 'string' || v instanceof Uint8Array;
}
