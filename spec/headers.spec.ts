// RFC 9113 §8 rules for header blocks, each in and out: a received violation is reported as a
// malformed message (the connection answers with a stream error), a sent one is a UsageError.
import { checkReceived, joinCookies, prepareOutbound, type BlockKind } from '../lib/headers.js';
import type { HeaderField } from '../lib/hpack/types.js';
import { UsageError } from '../lib/errors.js';

const REQ: HeaderField[] = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'example.com'], [':path', '/']];
const RESP: HeaderField[] = [[':status', '200']];
const malformed = (h: HeaderField[], kind: BlockKind, cp = false) => 'malformed' in checkReceived(h, kind, cp);
const OUT = { normalize: true, validate: true, splitCookies: false, connectProtocol: false };

/** Every malformed-block case; received they are malformed, sent they are usage errors. */
const MALFORMED: Array<[string, HeaderField[], BlockKind]> = [
  ['an uppercase name (§8.2.1)', [...REQ, ['Accept', '*/*']], 'request'],
  ['a space in a name', [...REQ, ['x y', '1']], 'request'],
  ['a non-ASCII name', [...REQ, ['x\u00e9', '1']], 'request'],
  ['a colon inside a name', [...REQ, ['x:y', '1']], 'request'],
  ['an empty name', [...REQ, ['', '1']], 'request'],
  ['NUL in a value', [...REQ, ['x', 'a\u0000b']], 'request'],
  ['CR in a value', [...REQ, ['x', 'a\rb']], 'request'],
  ['LF in a value', [...REQ, ['x', 'a\nb']], 'request'],
  ['a value with leading whitespace', [...REQ, ['x', ' a']], 'request'],
  ['a value with trailing tab', [...REQ, ['x', 'a\t']], 'request'],
  ['connection (§8.2.2)', [...REQ, ['connection', 'close']], 'request'],
  ['keep-alive', [...REQ, ['keep-alive', '5']], 'request'],
  ['proxy-connection', [...REQ, ['proxy-connection', 'x']], 'request'],
  ['transfer-encoding', [...REQ, ['transfer-encoding', 'chunked']], 'request'],
  ['upgrade', [...REQ, ['upgrade', 'h2c']], 'request'],
  ['te other than trailers', [...REQ, ['te', 'gzip']], 'request'],
  ['a pseudo-header after a regular field (§8.3)', [[':method', 'GET'], ['x', '1'], [':path', '/'], [':scheme', 'https']], 'request'],
  ['a duplicate pseudo-header', [...REQ, [':path', '/again']], 'request'],
  ['an undefined pseudo-header', [...REQ, [':foo', 'x']], 'request'],
  [':status in a request', [...REQ, [':status', '200']], 'request'],
  ['a request pseudo-header in a response', [[':status', '200'], [':path', '/']], 'response'],
  ['a pseudo-header in trailers', [[':status', '200']], 'trailers'],
  ['a request without :method', REQ.slice(1), 'request'],
  ['a request without :scheme', REQ.filter(([n]) => n !== ':scheme'), 'request'],
  ['a request without :path', REQ.filter(([n]) => n !== ':path'), 'request'],
  ['an empty :path', [[':method', 'GET'], [':scheme', 'https'], [':path', '']], 'request'],
  ['CONNECT with :path (§8.5)', [[':method', 'CONNECT'], [':authority', 'a:443'], [':path', '/']], 'request'],
  ['CONNECT without :authority', [[':method', 'CONNECT']], 'request'],
  [':protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441)', [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':path', '/'], [':authority', 'a']], 'request'],
  ['host differing from :authority (§8.3.1)', [...REQ, ['host', 'other.example']], 'request'],
  ['two host fields', [[':method', 'GET'], [':scheme', 'https'], [':path', '/'], ['host', 'a'], ['host', 'a']], 'request'],
  ['a response without :status', [['x', '1']], 'response'],
  ['a non-numeric :status', [[':status', '2xx']], 'response'],
  ['a 1xx status as a final response', [[':status', '100']], 'response'],
  ['a final status in an informational block', [[':status', '200']], 'informational'],
  [':status 101 (§8.6)', [[':status', '101']], 'informational'],
  ['a non-numeric content-length', [...REQ, ['content-length', '1e3']], 'request'],
  ['conflicting content-lengths', [...REQ, ['content-length', '3'], ['content-length', '4']], 'request'],
];

describe('received header blocks (RFC 9113 §8)', () => {
  it('accepts a well-formed request, response, 1xx and trailers, and reports method, status and content-length', () => {
    expect(checkReceived([...REQ, ['content-length', '12']], 'request', false)).toEqual({ method: 'GET', status: undefined, contentLength: 12, protocol: undefined });
    expect(checkReceived(RESP, 'response', false)).toMatchObject({ status: 200 });
    expect(malformed([[':status', '103'], ['link', '</a>; rel=preload']], 'informational')).toBe(false);
    expect(malformed([['grpc-status', '0']], 'trailers')).toBe(false);
    expect(malformed([...REQ, ['te', 'Trailers']], 'request')).toBe(false);
    expect(malformed([...REQ, ['x-empty', '']], 'request')).toBe(false);
  });

  it.each(MALFORMED)('treats %s as malformed', (_n, h, kind) => {
    expect(malformed(h, kind)).toBe(true);
  });

  it('accepts ordinary CONNECT and extended CONNECT when enabled (RFC 8441)', () => {
    expect(malformed([[':method', 'CONNECT'], [':authority', 'a:443']], 'request')).toBe(false);
    const ws: HeaderField[] = [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':path', '/chat'], [':authority', 'a']];
    expect(checkReceived(ws, 'request', true)).toMatchObject({ protocol: 'websocket' });
    expect(malformed([[':method', 'GET'], [':protocol', 'websocket'], [':scheme', 'https'], [':path', '/']], 'request', true)).toBe(true);
    expect(malformed([[':method', 'CONNECT'], [':protocol', 'websocket'], [':authority', 'a']], 'request', true)).toBe(true);
  });

  it('accepts equal duplicate content-lengths', () => {
    expect(checkReceived([...REQ, ['content-length', '3'], ['content-length', '3']], 'request', false)).toMatchObject({ contentLength: 3 });
  });

  it('joins cookie crumbs with "; " at the first crumb\'s place (§8.2.3), keeping never-indexed', () => {
    expect(joinCookies([...REQ, ['cookie', 'a=1'], ['x', 'y'], ['cookie', 'b=2', true]])).toEqual([...REQ, ['cookie', 'a=1; b=2', true], ['x', 'y']]);
    const one: HeaderField[] = [...REQ, ['cookie', 'a=1']];
    expect(joinCookies(one)).toBe(one);
  });
});

describe('header blocks we send', () => {
  it('normalizes: lowercase names, trimmed values, connection-specific fields and bad te dropped', () => {
    const { fields } = prepareOutbound([[':status', '200'], ['Content-Type', ' text/html '], ['Connection', 'close'], ['te', 'gzip']], 'response', OUT);
    expect(fields).toEqual([[':status', '200'], ['content-type', 'text/html']]);
  });

  it('splits cookies into crumbs when asked, keeping the sensitive flag', () => {
    const { fields } = prepareOutbound([...REQ, ['cookie', 'a=1; b=2', true]], 'request', { ...OUT, splitCookies: true });
    expect(fields.slice(4)).toEqual([['cookie', 'a=1', true], ['cookie', 'b=2', true]]);
  });

  it.each<[string, HeaderField[], BlockKind]>([
    ['a request without :path', REQ.filter(([n]) => n !== ':path'), 'request'],
    ['a response without :status', [['x', '1']], 'response'],
    ['pseudo-headers in trailers', [[':status', '200']], 'trailers'],
    ['a CR in a value', [...REQ, ['x', 'a\r\nb']], 'request'],
  ])('refuses %s with a UsageError', (_n, h, kind) => {
    expect(() => prepareOutbound(h, kind, OUT)).toThrow(UsageError);
  });

  it('lets the caller skip validation', () => {
    expect(() => prepareOutbound([['x', '1']], 'response', { ...OUT, validate: false })).not.toThrow();
  });
});

describe('a frozen header list is prepared once', () => {
  const frozen = (list: Array<[string, string]>) => Object.freeze(list.map((p) => Object.freeze(p)));

  it('the same frozen list of frozen string pairs gives the same prepared result, read-only', () => {
    const list = frozen([[':status', '200'], ['Content-Type', 'text/plain'], ['Connection', 'close']]);
    const a = prepareOutbound(list, 'response', OUT);
    const b = prepareOutbound(list, 'response', { ...OUT }); // equal options in another object
    expect(b).toBe(a);
    expect(a.fields).toEqual([[':status', '200'], ['content-type', 'text/plain']]);
    expect(Object.isFrozen(a.fields)).toBe(true);
  });

  it('is prepared again for another kind or other options, and a list that breaks the rules throws every time', () => {
    const list = frozen([[':status', '200'], ['x', '1']]);
    expect(prepareOutbound(list, 'response', OUT).info.status).toBe(200);
    expect(() => prepareOutbound(list, 'trailers', OUT)).toThrow(UsageError); // pseudo-header in trailers
    expect(() => prepareOutbound(list, 'trailers', OUT)).toThrow(UsageError);
    expect(prepareOutbound(list, 'trailers', { ...OUT, validate: false }).fields).toHaveLength(2);
    const bad = frozen([['x', 'no status']]);
    for (let i = 0; i < 3; i++) expect(() => prepareOutbound(bad, 'response', OUT)).toThrow(UsageError);
  });

  it('lists that can change are prepared each time: not frozen, a pair not frozen, or octet values', () => {
    const open: Array<[string, string]> = [[':status', '200'], ['x', 'a']];
    expect(prepareOutbound(open, 'response', OUT).fields[1]).toEqual(['x', 'a']);
    open[1] = ['x', 'b'];
    expect(prepareOutbound(open, 'response', OUT).fields[1]).toEqual(['x', 'b']);
    const pair: [string, string] = ['x', 'a'];
    const loose = Object.freeze([Object.freeze([':status', '200'] as [string, string]), pair]);
    expect(prepareOutbound(loose, 'response', OUT).fields[1]).toEqual(['x', 'a']);
    pair[1] = 'b';
    expect(prepareOutbound(loose, 'response', OUT).fields[1]).toEqual(['x', 'b']);
    const octets = new Uint8Array([0x61]);
    const bytes = Object.freeze([Object.freeze([':status', '200'] as const), Object.freeze(['x', octets] as const)]);
    expect(prepareOutbound(bytes, 'response', OUT).fields[1]).toEqual(['x', 'a']);
    octets[0] = 0x62;
    expect(prepareOutbound(bytes, 'response', OUT).fields[1]).toEqual(['x', 'b']);
  });
});

describe('every received-block rule also applies to blocks we send', () => {
  it('refuses each malformed block of the table above with a UsageError when sending without normalization', () => {
    expect(MALFORMED.length).toBeGreaterThan(30);
    for (const [name, h, kind] of MALFORMED) {
      let thrown: unknown;
      try {
        prepareOutbound(h, kind, { ...OUT, normalize: false });
      } catch (e) {
        thrown = e;
      }
      if (!(thrown instanceof UsageError)) throw new Error(`sending ${name} was not refused`);
    }
  });
});
