/**
 * The `h2sched serve` handler: static files from a directory (or the embedded demo site) with
 * content types, content-length and HEAD; 404 for what is not there; POST to any path echoes the
 * request body (handy for testing flow control); other methods get 405.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import mime from 'mime-types';
import { demoSite, INFO_PATH } from './demo.js';
import type { Handler } from './session.js';

/** A handler serving `root` (a directory), or the demo site when `root` is undefined. */
export function staticHandler(root: string | undefined, info: { scheduler?: string } = {}): Handler {
  const base = root === undefined ? undefined : path.resolve(root);
  if (base === undefined) demoSite(); // built now, not on the first request
  return async (req, res) => {
    if (req.method === 'POST' || req.method === 'PUT') {
      const type = req.header('content-type') ?? 'application/octet-stream';
      res.respond(200, [['content-type', type]]);
      await res.pipe(req.body);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.respond(405, [['allow', 'GET, HEAD, POST'], ['content-length', '0']]);
      res.end();
      return;
    }
    const head = req.method === 'HEAD';
    const urlPath = decodePath(req.path);
    if (urlPath === undefined) return plain(res, 400, 'bad request: the path is not valid percent-encoded UTF-8\n', head);
    if (base === undefined) {
      if (urlPath === INFO_PATH) {
        const body = JSON.stringify({ scheduler: info.scheduler ?? 'tree' });
        res.respond(200, [['content-type', 'application/json'], ['content-length', String(body.length)], ['cache-control', 'no-store']]);
        res.end(head ? undefined : body);
        return;
      }
      const asset = demoSite().get(urlPath);
      if (!asset) return notFound(res, head);
      res.respond(200, [['content-type', asset.type], ['content-length', String(asset.body.length)], ['cache-control', 'no-cache']]);
      res.end(head ? undefined : asset.body);
      return;
    }
    let file = path.join(base, urlPath);
    if (file !== base && !file.startsWith(base + path.sep)) return notFound(res, head); // no escaping the root
    let stat = await fs.stat(file).catch(() => undefined);
    if (stat?.isDirectory()) {
      file = path.join(file, 'index.html');
      stat = await fs.stat(file).catch(() => undefined);
    }
    if (!stat?.isFile()) return notFound(res, head);
    const type = mime.contentType(path.extname(file)) || 'application/octet-stream';
    res.respond(200, [['content-type', type], ['content-length', String(stat.size)], ['last-modified', stat.mtime.toUTCString()]]);
    if (head) res.end();
    else await res.pipe(createReadStream(file, { highWaterMark: 65536 }));
  };
}

/** The decoded path of a request target, or undefined when it cannot be decoded (→ 400). */
function decodePath(target: string): string | undefined {
  try {
    const p = decodeURIComponent(new URL(target, 'http://x').pathname);
    return p.includes('\0') ? undefined : p;
  } catch {
    return undefined;
  }
}

function notFound(res: Parameters<Handler>[1], head: boolean): void {
  plain(res, 404, 'not found\n', head);
}

function plain(res: Parameters<Handler>[1], status: number, body: string, head: boolean): void {
  res.respond(status, [['content-type', 'text/plain; charset=utf-8'], ['content-length', String(body.length)]]);
  res.end(head ? undefined : body);
}
