/**
 * An open-file cache shared by every connection of a server (the idea of nginx's
 * `open_file_cache` and h2o's file cache): what a path resolved to — an open descriptor with its
 * stat, ETag and headers, or the whole contents for a small file — is kept and trusted for
 * `validMs`, then checked again with one `stat`. A cached request costs no system call before its
 * first DATA frame.
 *
 * Bounds: at most `entries` paths (each file not held in memory keeps one descriptor open), and at
 * most `memory` octets of contents (files up to `memoryFileMax` octets). An evicted or replaced
 * entry closes its descriptor once the last response reading from it is done, so no descriptor
 * outlives both its entry and its streams.
 */
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import etag from 'etag';
import mime from 'mime-types';
import { BufferSource, type PullSource } from '../sender/source.js';
import { FileSource, type FileSourceOptions } from './file-source.js';

/** Options of {@link FileCache}. */
export interface FileCacheOptions {
  /** Paths remembered (files and directories); each file not in memory holds a descriptor. Default 1024. */
  entries?: number;
  /** Octets of file contents held in memory, all files together. Default 67108864 (64 MiB); 0 = none. */
  memory?: number;
  /** Files up to this many octets are held in memory. Default 262144 (256 KiB). */
  memoryFileMax?: number;
  /**
   * How long (ms) an entry is trusted before one `stat` checks it again. A hit past half of it
   * starts that check in the background. Default 1000; 0 = every request.
   */
  validMs?: number;
  /** How file bodies are read (see FileSource). */
  source?: Omit<FileSourceOptions, 'onClose'>;
}

/** A regular file, as the cache knows it. */
export interface CachedFile {
  readonly kind: 'file';
  /** The real path (symlinks resolved). */
  readonly realPath: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** Strong ETag from size and mtime (as nginx makes them): usable with If-Range. */
  readonly etag: string;
  /** HTTP-date of the modification time. */
  readonly lastModified: string;
  /** Content type from the extension (mime-types), with charset for text. */
  readonly contentType: string;
  /** The whole contents, when the file is small enough to be held in memory. */
  readonly body: Buffer | undefined;
  /** The headers of a 200 with the whole file: content-type, etag, last-modified, accept-ranges, content-length. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /**
   * False once a file not held in memory was evicted and its descriptor closed (a lookup that
   * raced with an eviction): look it up again.
   */
  readonly usable: boolean;
  /**
   * A pull source over `length` octets from `start`: a `FileSource` holding the descriptor until
   * it is closed, or a `BufferSource` over the contents held in memory.
   * @throws Error when the entry is not `usable`.
   */
  source(start: number, length: number): PullSource;
}

/** A directory. */
export interface CachedDirectory {
  readonly kind: 'directory';
  readonly realPath: string;
}

export type CachedPath = CachedFile | CachedDirectory;

/** What {@link FileCache.stats} reports. */
export interface FileCacheStats {
  entries: number;
  /** Descriptors open: cached entries and retired ones still read by a response. */
  openFiles: number;
  /** Octets of contents held. */
  memory: number;
  hits: number;
  misses: number;
}

class FileEntry implements CachedFile {
  readonly kind = 'file' as const;
  readonly etag: string;
  readonly lastModified: string;
  readonly contentType: string;
  readonly mtimeMs: number;
  readonly size: number;
  readonly ino: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  validatedAt: number;
  /** Used since the eviction scan last passed it (second chance). */
  used = false;
  /** Responses reading from `fd`. */
  refs = 0;
  /** No longer in the cache: close `fd` when the last reader is done. */
  retired = false;
  /** `fd` was closed. */
  fdClosed = false;

  constructor(
    private readonly cache: FileCache,
    readonly realPath: string,
    stat: fs.Stats,
    readonly fd: number | undefined,
    readonly body: Buffer | undefined,
    now: number,
  ) {
    this.size = stat.size;
    this.mtimeMs = stat.mtimeMs;
    this.ino = stat.ino;
    this.etag = etag(stat, { weak: false });
    this.lastModified = stat.mtime.toUTCString();
    this.contentType = mime.contentType(path.extname(realPath)) || 'application/octet-stream';
    this.validatedAt = now;
    // frozen to the last pair: the engine checks a frozen list once and reuses the result
    this.headers = Object.freeze(([
      ['content-type', this.contentType], ['etag', this.etag], ['last-modified', this.lastModified],
      ['accept-ranges', 'bytes'], ['content-length', String(this.size)],
    ] as const).map((pair) => Object.freeze(pair)));
  }

  get usable(): boolean {
    return this.body !== undefined || !this.fdClosed;
  }

  source(start: number, length: number): PullSource {
    if (this.body !== undefined) return new BufferSource(this.body.subarray(start, start + length));
    if (this.fd === undefined) throw new Error('a file held in memory has no descriptor: send its body');
    if (this.fdClosed) throw new Error('the file was evicted from the cache: look it up again');
    let released = false;
    const source = new FileSource(this.fd, start, length, { // throws UsageError for a bad range: no reference taken
      ...this.cache.sourceOptions,
      onClose: () => {
        if (released) return;
        released = true;
        this.refs--;
        if (this.retired && this.refs === 0) this.cache.closeFd(this);
      },
    });
    this.refs++;
    return source;
  }

  /** Same file as `stat` says now (same inode, size and modification time)? */
  same(stat: fs.Stats): boolean {
    return stat.isFile() && stat.ino === this.ino && stat.size === this.size && stat.mtimeMs === this.mtimeMs;
  }
}

class DirEntry implements CachedDirectory {
  readonly kind = 'directory' as const;
  used = false;
  constructor(readonly realPath: string, readonly ino: number, public validatedAt: number) {}
  same(stat: fs.Stats): boolean {
    return stat.isDirectory() && stat.ino === this.ino;
  }
}

type Entry = FileEntry | DirEntry;

/** The default limits of a {@link FileCache}. */
export const FILE_CACHE_DEFAULTS: Readonly<Required<Omit<FileCacheOptions, 'source'>>> = {
  entries: 1024,
  memory: 64 * 1024 * 1024,
  memoryFileMax: 256 * 1024,
  validMs: 1000,
};

export class FileCache {
  readonly root: string;
  readonly sourceOptions: Omit<FileSourceOptions, 'onClose'>;
  private readonly maxEntries: number;
  private readonly maxMemory: number;
  private readonly memoryFileMax: number;
  private readonly validMs: number;
  /** Entries by the path asked for (root joined with the URL path), least recently used first. */
  private readonly map = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Entry | undefined>>();
  private realRoot: string | undefined;
  private memory = 0;
  private fds = 0;
  private hits = 0;
  private misses = 0;
  private closed = false;

  /** @param root the directory served; paths that resolve outside it (symlinks too) are not found. */
  constructor(root: string, options: FileCacheOptions = {}) {
    this.root = path.resolve(root);
    this.maxEntries = Math.max(1, options.entries ?? FILE_CACHE_DEFAULTS.entries);
    this.maxMemory = Math.max(0, options.memory ?? FILE_CACHE_DEFAULTS.memory);
    this.memoryFileMax = Math.max(0, options.memoryFileMax ?? FILE_CACHE_DEFAULTS.memoryFileMax);
    this.validMs = Math.max(0, options.validMs ?? FILE_CACHE_DEFAULTS.validMs);
    this.sourceOptions = options.source ?? {};
  }

  stats(): FileCacheStats {
    return { entries: this.map.size, openFiles: this.fds, memory: this.memory, hits: this.hits, misses: this.misses };
  }

  /**
   * The entry for `file` (an absolute path under the root) when it is cached and still trusted:
   * no system call. Otherwise undefined: call {@link lookup}.
   */
  peek(file: string, now: number = Date.now()): CachedPath | undefined {
    const e = this.map.get(file);
    if (e === undefined) return undefined;
    const age = now - e.validatedAt;
    if (age >= this.validMs) return undefined;
    this.hits++;
    e.used = true; // eviction gives it a second chance (CLOCK): no map change per hit
    // past half its trust: checked again in the background now, so a path in use is never
    // stale when asked for (its responses never wait for a stat, nor start out of order)
    if (age >= this.validMs >>> 1 && !this.loading.has(file)) this.refresh(file, now);
    return e;
  }

  /** Checks a cached path again in the background (one stat; a changed file is opened anew). */
  private refresh(file: string, now: number): void {
    const p = this.load(file, now, false).finally(() => this.loading.delete(file));
    this.loading.set(file, p);
    p.catch(() => undefined); // EMFILE and the like: the next lookup tries again and answers
  }

  /**
   * What `file` is: a cached entry checked again when older than `validMs`, or opened now.
   * Undefined when it does not exist, cannot be read, is neither a file nor a directory, or
   * resolves (symlinks followed) outside the root.
   */
  lookup(file: string): Promise<CachedPath | undefined> {
    const now = Date.now();
    const hit = this.peek(file, now);
    if (hit !== undefined) return Promise.resolve(hit);
    let p = this.loading.get(file);
    if (p === undefined) {
      p = this.load(file, now).finally(() => this.loading.delete(file));
      this.loading.set(file, p);
    }
    return p;
  }

  /** Drops every entry; descriptors close as their last readers finish. The cache keeps working. */
  clear(): void {
    for (const e of this.map.values()) this.retire(e);
    this.map.clear();
  }

  /** Drops every entry and opens nothing more (lookups find nothing). */
  close(): void {
    this.closed = true;
    this.clear();
  }

  /** @internal */
  closeFd(e: FileEntry): void {
    if (e.fd === undefined || e.fdClosed) return;
    e.fdClosed = true;
    this.fds--;
    fs.close(e.fd, () => undefined);
  }

  private async load(file: string, now: number, miss = true): Promise<Entry | undefined> {
    if (miss) this.misses++;
    const old = this.map.get(file);
    if (old !== undefined) {
      // stale: one stat says whether it is still the same file
      const st = await fs.promises.stat(file).catch(() => undefined);
      if (st !== undefined && old.same(st) && this.map.get(file) === old) {
        old.validatedAt = Date.now();
        return old;
      }
      if (this.map.get(file) === old) {
        this.map.delete(file);
        this.retire(old);
      }
    }
    if (this.closed) return undefined;
    // a path that is not there (or not ours to read) is not found; running out of descriptors or
    // an I/O error is not "not found": it rejects, and the handler answers 503
    const entry = await this.open(file, now).catch((e: NodeJS.ErrnoException) => {
      if (NOT_FOUND.has(e.code ?? '')) return undefined;
      throw e;
    });
    if (entry === undefined) return undefined;
    if (this.closed) {
      this.retire(entry);
      return undefined;
    }
    const prev = this.map.get(file);
    if (prev !== undefined) {
      this.map.delete(file);
      this.retire(prev);
    }
    entry.used = true; // about to be used: not the first to go
    this.map.set(file, entry);
    if (entry instanceof FileEntry && entry.body !== undefined) this.memory += entry.body.length;
    this.evict();
    return entry;
  }

  private async open(file: string, now: number): Promise<Entry | undefined> {
    const root = (this.realRoot ??= await fs.promises.realpath(this.root));
    const real = await fs.promises.realpath(file);
    if (!inside(real, root)) return undefined;
    // The classic API: the descriptor is ours to close (a FileHandle would close it when
    // collected). O_NOFOLLOW: a last component swapped for a symlink since realpath is refused.
    const fd = await openFd(real, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
    let keep = false;
    try {
      // Where the descriptor really is: a directory on the way may have been swapped for a
      // symlink between realpath and open (a race a local user can win).
      const actual = await whereIs(fd, real);
      if (actual === undefined || !inside(actual, root)) return undefined;
      const st = await fstat(fd);
      if (st.isDirectory()) return new DirEntry(real, st.ino, now);
      if (!st.isFile()) return undefined;
      if (st.size <= this.memoryFileMax && st.size <= this.maxMemory) {
        const body = Buffer.allocUnsafeSlow(st.size);
        let got = 0;
        while (got < st.size) {
          const n = await readAt(fd, body, got, st.size - got, got);
          if (n === 0) break;
          got += n;
        }
        if (got !== st.size) return undefined; // it changed while read: the next request tries again
        return new FileEntry(this, real, st, undefined, body, now);
      }
      keep = true;
      this.fds++;
      return new FileEntry(this, real, st, fd, undefined, now);
    } finally {
      if (!keep) fs.close(fd, () => undefined);
    }
  }

  /**
   * Oldest first, but an entry used since the scan last passed it moves to the end instead
   * (second chance): least recently used, approximately, without a map change per hit.
   */
  private evict(): void {
    let chances = this.map.size;
    for (const [k, e] of this.map) {
      if (this.map.size <= this.maxEntries && this.memory <= this.maxMemory) break;
      this.map.delete(k);
      if (e.used && chances-- > 0) {
        e.used = false;
        this.map.set(k, e);
        continue;
      }
      this.retire(e);
    }
  }

  private retire(e: Entry): void {
    if (!(e instanceof FileEntry) || e.retired) return;
    e.retired = true;
    if (e.body !== undefined) this.memory -= e.body.length;
    if (e.refs === 0) this.closeFd(e);
  }
}

/** Errors that mean "there is no such file for this request" (404), not a failure of ours. */
const NOT_FOUND: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EACCES', 'EPERM', 'ENAMETOOLONG', 'EISDIR']);

function inside(p: string, root: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/**
 * The path an open descriptor refers to: `/proc/self/fd/N` where there is one (Linux); elsewhere
 * `realpath` again, trusted only when it names the same file (device and inode) as the descriptor.
 */
async function whereIs(fd: number, opened: string): Promise<string | undefined> {
  try {
    return await fs.promises.readlink(`/proc/self/fd/${fd}`);
  } catch {
    const again = await fs.promises.realpath(opened).catch(() => undefined);
    if (again === undefined) return undefined;
    const [a, b] = await Promise.all([fstat(fd), fs.promises.stat(again)]);
    return a.dev === b.dev && a.ino === b.ino ? again : undefined;
  }
}

const openFd = promisify(fs.open) as (file: string, flags: number) => Promise<number>;
const fstat = promisify(fs.fstat) as (fd: number) => Promise<fs.Stats>;
const readAt = (fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> =>
  new Promise((resolve, reject) => fs.read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))));
