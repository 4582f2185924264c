/**
 * The development certificate `h2sched serve` uses when it is given no `--cert`/`--key`: a
 * self-signed certificate for `localhost`, `127.0.0.1` and `::1`, kept in a per-user cache
 * directory so that the exception a browser was given (or the trust a user gave the file) holds
 * across restarts. It is made by the `selfsigned` package (ECDSA P-256, SHA-256, valid for a year),
 * reused while it stays valid for at least another day, and made anew when it is missing,
 * unreadable, corrupt, expired, not yet valid, for other names, or not the pair of its key.
 *
 * Where: `$XDG_CACHE_HOME/h2sched/` (an absolute `XDG_CACHE_HOME`; otherwise `~/.cache/h2sched/`),
 * created with mode 0700; `localhost-cert.pem` (0644) and `localhost-key.pem` (0600), each written
 * to a temporary file and renamed into place, so a reader never sees half a file.
 *
 * The cache is trusted only as ssh trusts `~/.ssh`: the directory must be a real directory (not a
 * symbolic link) owned by the current user — anything else is refused with an error that says what
 * to fix, and nothing in it is read or changed; a looser mode is tightened to 0700. Its files are
 * opened without following links (O_NOFOLLOW) and used only when they are regular files of ours of
 * at most 64 KiB, the key readable by no one else; otherwise the pair is made anew (the link, FIFO
 * or loose key replaced by rename, never followed and never chmodded). A lock file naming its
 * process keeps starts at the same time from making two pairs; a lock whose process is gone is
 * taken over at once.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { closeSync, constants as fsc, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';

/** The names the development certificate is valid for. */
export const LOCAL_CERT_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** A development certificate and where it is kept. */
export interface LocalCertificate {
  /** PEM certificate. */
  cert: string;
  /** PEM private key (PKCS #8). */
  key: string;
  /** The certificate's file: the one to import into a browser or a system trust store. */
  certFile: string;
  /** The private key's file (mode 0600). */
  keyFile: string;
  /** SHA-256 fingerprint as browsers and `openssl x509 -fingerprint -sha256` show it (`AB:CD:…`). */
  fingerprint256: string;
  /** End of validity. */
  validTo: Date;
  /** Why it was made by this call, or undefined when the cached one was reused. */
  generated: 'missing' | 'expired' | 'invalid' | undefined;
}

/** Options of {@link localCertificate}. */
export interface LocalCertificateOptions {
  /** Directory to keep it in. Default {@link certificateCacheDir}(). */
  dir?: string;
  /** The current time (tests). Default now. */
  now?: Date;
  /** Validity of a new certificate, in days. Default 365 (below every browser's limit for trusted leaf certificates). */
  validDays?: number;
  /**
   * Called once when another live process holds the cache's lock (it is making the certificate)
   * and this call waits for it, with that process's id and the lock file.
   */
  onWait?: (pid: number, lockFile: string) => void;
}

const DAY = 86_400_000;
/** A cached certificate is replaced when less than this is left of its validity. */
const RENEW_BEFORE = DAY;
/** The most a cache file may hold (a PEM certificate or key is well under 4 KiB). */
const MAX_CACHE_FILE = 65536;
/** A lock left by a process that is gone is taken over at once; one held longer than this whatever its process (not one of ours, a reused pid). */
const LOCK_MAX_MS = 30_000;
const O_NOFOLLOW = fsc.O_NOFOLLOW ?? 0;
const O_NONBLOCK = fsc.O_NONBLOCK ?? 0;
const O_DIRECTORY = fsc.O_DIRECTORY ?? 0;

/**
 * The per-user cache directory of h2sched (XDG Base Directory): `$XDG_CACHE_HOME/h2sched` when
 * `XDG_CACHE_HOME` is an absolute path, otherwise `~/.cache/h2sched` (a relative value is ignored,
 * as the specification asks).
 */
export function certificateCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(homedir(), '.cache');
  return path.join(base, 'h2sched');
}

/**
 * The development certificate for `localhost`, `127.0.0.1` and `::1`: the cached one while it is
 * valid, else a new one written to the cache (see the file's comment for the rules).
 * @throws when the cache directory cannot be created or written (the message names the path).
 */
export async function localCertificate(options: LocalCertificateOptions = {}): Promise<LocalCertificate> {
  const dir = options.dir ?? certificateCacheDir();
  const now = options.now ?? new Date();
  const certFile = path.join(dir, 'localhost-cert.pem');
  const keyFile = path.join(dir, 'localhost-key.pem');
  // nothing is read from a directory that is not ours
  privateDir(dir);
  let cached = readCached(certFile, keyFile, now);
  if (cached.ok) return { ...cached.ok, certFile, keyFile, generated: undefined };
  // one process makes it; another started at the same time waits and reuses it
  const release = await lock(path.join(dir, 'localhost.lock'), options.onWait);
  try {
    cached = readCached(certFile, keyFile, now);
    if (cached.ok) return { ...cached.ok, certFile, keyFile, generated: undefined };
    const made = await generate(now, options.validDays ?? 365);
    // the key first: a reader that sees the new key with the old certificate finds them unmatched
    writeAtomically(keyFile, made.key, 0o600);
    writeAtomically(certFile, made.cert, 0o644);
    const x = new X509Certificate(made.cert);
    return { cert: made.cert, key: made.key, certFile, keyFile, fingerprint256: x.fingerprint256, validTo: new Date(x.validTo), generated: cached.why };
  } finally {
    release();
  }
}

/** The current user's id, where there are user ids (not on Windows). */
const myUid = (): number | undefined => process.getuid?.();

/**
 * Makes the cache directory when missing (0700, like every XDG directory) and checks it as ssh
 * checks `~/.ssh`: opened without following a link, it must be a directory owned by the current
 * user; a mode open to others is tightened to 0700 (on the descriptor, never through a link).
 * @throws an Error saying what is wrong with it and what to do
 */
function privateDir(dir: string): void {
  const uid = myUid();
  if (uid === undefined) {
    mkdirSync(dir, { recursive: true, mode: 0o700 }); // no owners to check (Windows)
    return;
  }
  const openDir = () => openSync(dir, fsc.O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  let fd: number;
  try {
    try {
      fd = openDir();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      fd = openDir();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ELOOP' && code !== 'ENOTDIR') throw e;
    let what: string;
    try {
      what = lstatSync(dir).isSymbolicLink() ? 'a symbolic link' : 'not a directory';
    } catch {
      throw new Error(`${path.dirname(dir)} is not a directory (XDG_CACHE_HOME or ~/.cache must be one)`);
    }
    throw new Error(`${dir} is ${what}; the certificate is kept only in a real directory of yours: remove it and start again`);
  }
  try {
    const st = fstatSync(fd);
    if (st.uid !== uid) {
      throw new Error(`${dir} belongs to user id ${st.uid}, not to you (${uid}): someone else could replace the certificate and key in it; ` +
        'remove it and start again (or set XDG_CACHE_HOME to a directory of yours)');
    }
    if ((st.mode & 0o077) !== 0) fchmodSync(fd, 0o700);
  } finally {
    closeSync(fd);
  }
}

/** Whether process `pid` is alive (EPERM: alive, another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lock files this process holds (a lock naming our pid that we do not hold is a previous process's: a container restarted with the same pid). */
const held = new Set<string>();

/**
 * A lock file taken with O_EXCL, naming this process; released when done or when the process
 * exits. A lock whose process is gone is taken over at once; one with no pid (its process died
 * before writing it) after a second; any after 30 s. While a live process holds it, `onWait` is
 * called once.
 */
async function lock(file: string, onWait: LocalCertificateOptions['onWait']): Promise<() => void> {
  let told = false;
  for (const start = Date.now(); ;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      held.add(file);
      const release = (): void => {
        process.off('exit', release);
        if (!held.delete(file)) return;
        try {
          unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
      // a process stopped while it holds the lock (Ctrl-C during the first start) leaves none behind
      process.on('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readLock(file);
    if (holder === undefined) continue; // released meanwhile
    const stale = holder.pid === undefined ? holder.age > 1000
      : holder.pid === process.pid ? !held.has(file) : !alive(holder.pid);
    if (stale || holder.age > LOCK_MAX_MS || Date.now() - start > LOCK_MAX_MS) {
      // taken over only if it is still the lock we judged (another start may have taken it over first)
      const again = readLock(file);
      if (again !== undefined && again.pid === holder.pid && again.mtimeMs === holder.mtimeMs) {
        try {
          unlinkSync(file);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot remove the stale lock ${file}: ${(e as Error).message}`);
        }
      }
      continue;
    }
    if (!told && holder.pid !== undefined && holder.pid !== process.pid) {
      told = true;
      onWait?.(holder.pid, file);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The pid a lock file names (undefined when it names none), its age and mtime; undefined when it is gone. */
function readLock(file: string): { pid: number | undefined; age: number; mtimeMs: number } | undefined {
  const r = readOwnFile(file, 64);
  if (r === 'missing') return undefined;
  if (typeof r !== 'object') return { pid: undefined, age: Infinity, mtimeMs: 0 }; // not a lock file of ours: taken over
  const pid = /^\d{1,10}$/.test(r.text) ? Number(r.text) : undefined;
  return { pid: pid !== undefined && pid > 0 ? pid : undefined, age: Date.now() - r.mtimeMs, mtimeMs: r.mtimeMs };
}

/**
 * A cache file's text when it is a regular file owned by the current user, of at most `max`
 * octets, opened without following a link (and without blocking on a FIFO); 'missing' when there
 * is none, 'invalid' when it is anything else.
 */
function readOwnFile(file: string, max: number): { text: string; mode: number; mtimeMs: number } | 'missing' | 'invalid' {
  let fd: number;
  try {
    fd = openSync(file, fsc.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'invalid';
  }
  try {
    const st = fstatSync(fd);
    const uid = myUid();
    if (!st.isFile() || (uid !== undefined && st.uid !== uid) || st.size > max) return 'invalid';
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (let k = 1; k > 0 && n < buf.length; n += k) k = readSync(fd, buf, n, buf.length - n, n);
    if (n > max) return 'invalid'; // it grew while we read
    return { text: buf.toString('latin1', 0, n), mode: st.mode, mtimeMs: st.mtimeMs };
  } catch {
    return 'invalid';
  } finally {
    closeSync(fd);
  }
}

type Cached = { ok: { cert: string; key: string; fingerprint256: string; validTo: Date }; why?: undefined } | { ok?: undefined; why: 'missing' | 'expired' | 'invalid' };

/** The cached pair when it can be used at `now`, else why not. */
function readCached(certFile: string, keyFile: string, now: Date): Cached {
  const certRead = readOwnFile(certFile, MAX_CACHE_FILE);
  const keyRead = readOwnFile(keyFile, MAX_CACHE_FILE);
  if (certRead === 'missing' || keyRead === 'missing') return { why: 'missing' };
  if (certRead === 'invalid' || keyRead === 'invalid') return { why: 'invalid' };
  // a key others could read may be known to them: a new pair, not a chmod
  if ((keyRead.mode & 0o077) !== 0) return { why: 'invalid' };
  const cert = certRead.text;
  const key = keyRead.text;
  try {
    const x = new X509Certificate(cert);
    if (!x.checkPrivateKey(createPrivateKey(key))) return { why: 'invalid' };
    for (const name of LOCAL_CERT_NAMES) if (isIP(name) ? !x.checkIP(name) : x.checkHost(name) === undefined) return { why: 'invalid' };
    const validTo = new Date(x.validTo);
    const validFrom = new Date(x.validFrom);
    if (Number.isNaN(validTo.getTime()) || Number.isNaN(validFrom.getTime())) return { why: 'invalid' };
    if (validFrom.getTime() > now.getTime() || validTo.getTime() - now.getTime() < RENEW_BEFORE) return { why: 'expired' };
    return { ok: { cert, key, fingerprint256: x.fingerprint256, validTo } };
  } catch {
    return { why: 'invalid' };
  }
}

/** Writes `data` to a temporary file with `mode` and renames it over `file` (a link or FIFO there is replaced, not followed). */
function writeAtomically(file: string, data: string, mode: number): void {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    writeFileSync(tmp, data, { mode, flag: 'wx' });
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* never written */
    }
    throw e;
  }
}

/** A new self-signed pair from `selfsigned` (loaded only when one is made: it is not small). */
async function generate(now: Date, validDays: number): Promise<{ cert: string; key: string }> {
  const { generate: make } = await import('selfsigned');
  // an hour of slack for clocks behind ours
  const notBeforeDate = new Date(now.getTime() - 3_600_000);
  const notAfterDate = new Date(now.getTime() + validDays * DAY);
  const pems = await make([
    { name: 'commonName', value: 'localhost' },
    { name: 'organizationName', value: 'h2sched development certificate' },
  ], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: LOCAL_CERT_NAMES.map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })) },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
