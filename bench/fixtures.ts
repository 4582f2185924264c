/** Realistic header sets for benches: a browser's request and a server's response. */
import type { HeaderInput } from '../lib/hpack/types.js';

/** 20 fields, as a desktop browser sends for a page subresource. */
export const BROWSER_REQUEST: HeaderInput[] = [
  [':method', 'GET'], [':authority', 'www.example.com'], [':scheme', 'https'], [':path', '/assets/app.3f9c2a.js'],
  ['sec-ch-ua', '"Chromium";v="156", "Not:A-Brand";v="24"'], ['sec-ch-ua-mobile', '?0'], ['sec-ch-ua-platform', '"Linux"'],
  ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36'],
  ['accept', '*/*'], ['sec-fetch-site', 'same-origin'], ['sec-fetch-mode', 'no-cors'], ['sec-fetch-dest', 'script'],
  ['referer', 'https://www.example.com/'], ['accept-encoding', 'gzip, deflate, br, zstd'], ['accept-language', 'en-US,en;q=0.9'],
  ['cookie', 'session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; consent=yes'], ['priority', 'u=1'],
  ['if-none-match', 'W/"5e-18f2a6c"'], ['cache-control', 'no-cache'], ['pragma', 'no-cache'],
];

export const SERVER_RESPONSE: HeaderInput[] = [
  [':status', '200'], ['content-type', 'application/javascript; charset=utf-8'], ['content-length', '48213'],
  ['cache-control', 'public, max-age=31536000, immutable'], ['etag', 'W/"bc55-18f2a6c"'], ['date', 'Wed, 25 Nov 2026 06:00:00 GMT'],
  ['server', 'h2sched'], ['vary', 'accept-encoding'],
];

/** The browser request for the i-th subresource (the path changes, the rest repeats). */
export function requestFor(i: number): HeaderInput[] {
  const r = BROWSER_REQUEST.slice();
  r[3] = [':path', `/assets/chunk-${i}.js`];
  return r;
}
