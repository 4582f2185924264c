/**
 * The `h2sched serve` handler: static files from a directory (or the embedded demo site).
 *
 * Files go through a {@link FileCache} shared by every connection (no system call for a cached
 * path), small ones from memory, larger ones through a {@link FileSource} the sender pulls from
 * when the client's priorities give the stream its turn. HTTP semantics (RFC 9110) with kept
 * libraries: `etag` (strong validators from size and mtime), `fresh` (If-None-Match /
 * If-Modified-Since → 304), `range-parser` (one range → 206, unsatisfiable → 416, several → the
 * whole file with 200), `mime-types`. If-Match / If-Unmodified-Since → 412 and If-Range follow
 * RFC 9110 §13. Dotfiles are not found unless allowed; paths that resolve outside the root
 * (symlinks included) are not found; a directory without its trailing slash is redirected (301),
 * with one it serves its index.html. POST or PUT to any path echoes the request body (handy for
 * testing flow control); other methods get 405.
 */
import path from 'node:path';
import fresh from 'fresh';
import rangeParser from 'range-parser';
import { demoSite, INFO_PATH } from './demo.js';
import { type CachedFile, FILE_CACHE_DEFAULTS, FileCache, type FileCacheOptions } from './file-cache.js';
import type { H2Request, H2Response, Handler } from './session.js';

/** Options of {@link staticHandler}. */
export interface StaticOptions extends FileCacheOptions {
  /** The scheduler's name, reported by the demo site's info endpoint. */
  scheduler?: string;
  /** `'deny'` (default): a path with a segment starting with `.` is not found (404). `'allow'`: served. */
  dotfiles?: 'allow' | 'deny';
}

/** A handler with the file cache behind it. */
export interface StaticHandler extends Handler {
  /** The open-file cache (undefined for the demo site, which is in memory). */
  readonly cache: FileCache | undefined;
  /** Closes the cache's descriptors (as their last responses finish). */
  close(): void;
}

/** A handler serving `root` (a directory), or the demo site when `root` is undefined. */
export function staticHandler(root: string | undefined, options: StaticOptions = {}): StaticHandler {
  const base = root === undefined ? undefined : path.resolve(root);
  if (base === undefined) demoSite(); // built now, not on the first request
  // what a URL path is appended to, and what every file path starts with (`/` served too)
  const prefix = base === undefined || !base.endsWith(path.sep) ? base ?? '' : base.slice(0, -1);
  const within = prefix + path.sep;
  const cache = base === undefined ? undefined : new FileCache(base, options);
  const dotfiles = options.dotfiles === 'allow';
  // plain URL path → file path, the same string each time: a string made per request would be
  // hashed again by every map it is looked up in. Only paths of cached files, only short ones,
  // at most as many as the cache holds (emptied when full): what a client makes up is not kept.
  const files = new Map<string, string>();
  const fileOf = (urlPath: string): string => files.get(urlPath) ?? prefix + urlPath;
  const remember = (urlPath: string, file: string): void => {
    if (urlPath.length > 1024 || files.has(urlPath)) return;
    if (files.size >= (options.entries ?? FILE_CACHE_DEFAULTS.entries)) files.clear();
    files.set(urlPath, file);
  };
  const handler = async (req: H2Request, res: H2Response): Promise<void> => {
    if (req.method === 'POST' || req.method === 'PUT') {
      const type = req.header('content-type') ?? 'application/octet-stream';
      res.respond(200, [['content-type', type]]);
      await res.pipe(req.body);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.respond(405, [['allow', 'GET, HEAD, POST, PUT'], ['content-length', '0']]);
      res.end();
      return;
    }
    const head = req.method === 'HEAD';
    // the common request needs no parsing: a plain path is its own decoded form
    const plainPath = PLAIN_PATH.test(req.path);
    const urlPath = plainPath ? req.path : decodePath(req.path);
    if (urlPath === undefined) return plain(res, 400, 'bad request: the path is not valid percent-encoded UTF-8\n', head);
    if (cache === undefined || base === undefined) return demo(urlPath, res, head, options.scheduler);
    if (!dotfiles && hasDotSegment(urlPath)) return notFound(res, head);
    const file = plainPath ? fileOf(urlPath) : path.join(base, urlPath);
    if (!plainPath && file !== base && !file.startsWith(within)) return notFound(res, head); // no escaping the root
    let target = file;
    let entry;
    try {
      entry = cache.peek(target) ?? (await cache.lookup(target));
      if (entry?.kind === 'directory') {
        if (!urlPath.endsWith('/')) {
          // Relative links in its index resolve against the directory only with the slash. The
          // location is made from the decoded path, re-encoded, slashes collapsed: never `//host`.
          const q = req.path.indexOf('?');
          const location = urlPath.replace(/\/{2,}/g, '/').split('/').map(encodeURIComponent).join('/') + '/' + (q < 0 ? '' : req.path.slice(q));
          res.respond(301, [['location', location], ['content-length', '0']]);
          res.end();
          return;
        }
        target = path.join(file, 'index.html');
        entry = cache.peek(target) ?? (await cache.lookup(target));
      }
      // a file evicted (its descriptor closed) between its lookup and now: once more
      if (entry?.kind === 'file' && !entry.usable) entry = await cache.lookup(target);
    } catch {
      // not "not found": out of descriptors, an I/O error — try again later
      res.respond(503, [['retry-after', '1'], ['content-type', 'text/plain; charset=utf-8'], ['content-length', '20']]);
      res.end(head ? undefined : 'cannot open it now\n');
      return;
    }
    if (entry?.kind !== 'file' || !entry.usable) return notFound(res, head);
    if (plainPath && target === file) remember(urlPath, file);
    serveFile(req, res, entry, head);
  };
  return Object.assign(handler, { cache, close: () => cache?.close() });
}

/** The request fields the file path looks at, found in one pass over the header list. */
interface Conditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
  ifRange?: string;
  range?: string;
}

/** A list-valued field sent as several lines is one comma-separated list (RFC 9110 §5.3). */
const joined = (a: string | undefined, b: string): string => (a === undefined ? b : `${a}, ${b}`);

function conditionsOf(req: H2Request): Conditions | undefined {
  let c: Conditions | undefined;
  for (const [n, v] of req.headers) {
    // only names starting with "if-", "range" or "cache-control" matter: most requests have none
    const k = n.charCodeAt(0);
    if (k === 105 /* i */ && n.startsWith('if-')) {
      c ??= {};
      if (n === 'if-none-match') c.ifNoneMatch = joined(c.ifNoneMatch, v);
      else if (n === 'if-modified-since') c.ifModifiedSince = v;
      else if (n === 'if-match') c.ifMatch = joined(c.ifMatch, v);
      else if (n === 'if-unmodified-since') c.ifUnmodifiedSince = v;
      else if (n === 'if-range') c.ifRange = v;
    } else if (k === 114 /* r */ && n === 'range') (c ??= {}).range = v;
  }
  return c;
}

function serveFile(req: H2Request, res: H2Response, f: CachedFile, head: boolean): void {
  const c = conditionsOf(req);
  if (c === undefined || (c.ifMatch ?? c.ifUnmodifiedSince ?? c.ifNoneMatch ?? c.ifModifiedSince ?? c.range) === undefined) {
    // the common case: the whole file, headers made once per cache entry
    res.respond(200, f.headers);
    if (head || f.size === 0) res.end();
    else if (f.body !== undefined) res.end(f.body);
    else res.sendSource(f.source(0, f.size)).catch(() => undefined);
    return;
  }
  const size = f.size;
  const validators: [string, string][] = [['etag', f.etag], ['last-modified', f.lastModified]];
  // RFC 9110 §13.2.2: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since, If-Range
  if (!preconditionsHold(c, f)) {
    res.respond(412, [...validators, ['content-length', '0']]);
    res.end();
    return;
  }
  // no cache-control: `no-cache` tells caches to revalidate, and this is the origin answering the
  // revalidation — RFC 9110 §13.2.1 evaluates the preconditions whatever it says
  if ((c.ifNoneMatch !== undefined || c.ifModifiedSince !== undefined)
    && fresh({ 'if-none-match': c.ifNoneMatch, 'if-modified-since': c.ifModifiedSince }, { etag: f.etag, 'last-modified': f.lastModified })) {
    res.respond(304, validators);
    res.end();
    return;
  }
  let start = 0;
  let length = size;
  let status = 200;
  const headers: [string, string][] = [['content-type', f.contentType], ...validators, ['accept-ranges', 'bytes']];
  const range = head ? undefined : c.range; // Range is defined for GET only (RFC 9110 §14.2)
  if (range !== undefined && range.length <= 1024 && RANGE_SYNTAX.test(range) && ifRangeHolds(c, f)) {
    // a suffix longer than the file means the whole file (RFC 9110 §14.1.2); range-parser 1.x
    // drops such a range, so it is clamped to the size first
    const clamped = range.replace(/(=|,)([ \t]*)-(\d+)/g, (_m, sep: string, ws: string, n: string) => `${sep}${ws}-${Math.min(Number(n), size)}`);
    const r = rangeParser(size, clamped, { combine: true });
    if (r === -1) {
      res.respond(416, [['content-range', `bytes */${size}`], ...validators, ['content-length', '0']]);
      res.end();
      return;
    }
    // another unit, or several ranges: the whole representation (RFC 9110 §14.2 allows it)
    if (r !== -2 && r.type === 'bytes' && r.length === 1) {
      const { start: from, end: to } = r[0]!;
      start = from;
      length = to - from + 1;
      status = 206;
      headers.push(['content-range', `bytes ${from}-${to}/${size}`]);
    }
  }
  headers.push(['content-length', String(length)]);
  res.respond(status, headers);
  if (head || length === 0) {
    res.end();
    return;
  }
  if (f.body !== undefined) {
    res.end(length === size ? f.body : f.body.subarray(start, start + length));
    return;
  }
  // the response owns the source: a failure resets the stream, a reset closes the source
  res.sendSource(f.source(start, length)).catch(() => undefined);
}

/**
 * A byte-range set as RFC 9110 §14.1.2 writes it (`bytes=0-99`, `bytes=-500`, `bytes=9-, 0-0`):
 * anything else is ignored — the whole representation with 200, as §14.2 asks — rather than
 * taken for unsatisfiable (range-parser 1.x answers -1 for both).
 */
const RANGE_SYNTAX = /^bytes=[ \t]*(?:\d+-\d*|-\d+)(?:[ \t]*,[ \t]*(?:\d+-\d*|-\d+))*[ \t]*$/;

/** If-Match and If-Unmodified-Since (RFC 9110 §13.1.1, §13.1.4): false → 412. */
function preconditionsHold(c: Conditions, f: CachedFile): boolean {
  const ifMatch = c.ifMatch;
  if (ifMatch !== undefined) {
    if (ifMatch.trim() === '*') return true;
    return ifMatch.split(',').some((t) => t.trim() === f.etag); // strong comparison: a W/ tag never matches
  }
  const since = c.ifUnmodifiedSince;
  if (since !== undefined) {
    const t = Date.parse(since);
    if (!Number.isNaN(t) && Math.floor(f.mtimeMs / 1000) * 1000 > t) return false;
  }
  return true;
}

/** If-Range (RFC 9110 §13.1.5): the range applies only while the representation is the one named. */
function ifRangeHolds(c: Conditions, f: CachedFile): boolean {
  const v = c.ifRange;
  if (v === undefined) return true;
  const tag = v.trim();
  if (tag.startsWith('"')) return tag === f.etag;
  if (tag.startsWith('W/')) return false;
  const t = Date.parse(tag);
  return !Number.isNaN(t) && t === Date.parse(f.lastModified);
}

function demo(urlPath: string, res: H2Response, head: boolean, scheduler: string | undefined): void {
  if (urlPath === INFO_PATH) {
    const body = JSON.stringify({ scheduler: scheduler ?? 'tree' });
    res.respond(200, [['content-type', 'application/json'], ['content-length', String(body.length)], ['cache-control', 'no-store']]);
    res.end(head ? undefined : body);
    return;
  }
  const asset = demoSite().get(urlPath);
  if (!asset) return notFound(res, head);
  res.respond(200, [['content-type', asset.type], ['content-length', String(asset.body.length)], ['cache-control', 'no-cache']]);
  res.end(head ? undefined : asset.body);
}

/**
 * A path that is its own decoded form and needs no normalizing: `/`, then unreserved characters
 * and single slashes, no `.` right after a slash (no dot segment, no dotfile), no query.
 */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*\/?$/;

/** A path segment that names a dotfile or dot-directory (`/.env`, `/.git/config`). */
function hasDotSegment(p: string): boolean {
  return p.includes('/.');
}

/** The decoded path of a request target, or undefined when it cannot be decoded (→ 400). */
function decodePath(target: string): string | undefined {
  try {
    // appended to an origin, not resolved against one: `//host/x` stays a path, never a host
    const p = decodeURIComponent(new URL(`http://x${target}`).pathname);
    return p.includes('\0') ? undefined : p;
  } catch {
    return undefined;
  }
}

function notFound(res: H2Response, head: boolean): void {
  plain(res, 404, 'not found\n', head);
}

function plain(res: H2Response, status: number, body: string, head: boolean): void {
  res.respond(status, [['content-type', 'text/plain; charset=utf-8'], ['content-length', String(body.length)]]);
  res.end(head ? undefined : body);
}
