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
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
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
}

const DAY = 86_400_000;
/** A cached certificate is replaced when less than this is left of its validity. */
const RENEW_BEFORE = DAY;

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
  let cached = readCached(certFile, keyFile, now);
  if (cached.ok) return { ...cached.ok, certFile, keyFile, generated: undefined };
  ensureDir(dir);
  // one process makes it; another started at the same time waits and reuses it
  const release = await lock(path.join(dir, 'localhost.lock'));
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

/** A lock file taken with O_EXCL; one older than 30 s is a dead process's and is taken over. */
async function lock(file: string): Promise<() => void> {
  for (let waited = 0; ; waited += 50) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let age = 0;
      try {
        age = Date.now() - statSync(file).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (age > 30_000 || waited > 30_000) {
        try {
          unlinkSync(file);
        } catch {
          /* someone else took it over */
        }
      } else await new Promise((r) => setTimeout(r, 50));
    }
  }
}

type Cached = { ok: { cert: string; key: string; fingerprint256: string; validTo: Date }; why?: undefined } | { ok?: undefined; why: 'missing' | 'expired' | 'invalid' };

/** The cached pair when it can be used at `now`, else why not. */
function readCached(certFile: string, keyFile: string, now: Date): Cached {
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(certFile, 'latin1');
    key = readFileSync(keyFile, 'latin1');
  } catch (e) {
    return { why: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'invalid' };
  }
  try {
    const x = new X509Certificate(cert);
    if (!x.checkPrivateKey(createPrivateKey(key))) return { why: 'invalid' };
    for (const name of LOCAL_CERT_NAMES) if (isIP(name) ? !x.checkIP(name) : x.checkHost(name) === undefined) return { why: 'invalid' };
    const validTo = new Date(x.validTo);
    const validFrom = new Date(x.validFrom);
    if (Number.isNaN(validTo.getTime()) || Number.isNaN(validFrom.getTime())) return { why: 'invalid' };
    if (validFrom.getTime() > now.getTime() || validTo.getTime() - now.getTime() < RENEW_BEFORE) return { why: 'expired' };
    // someone loosened the key's mode: tighten it again
    if ((statSync(keyFile).mode & 0o077) !== 0) chmodSync(keyFile, 0o600);
    return { ok: { cert, key, fingerprint256: x.fingerprint256, validTo } };
  } catch {
    return { why: 'invalid' };
  }
}

/** Creates the cache directory (0700, like every XDG directory) and keeps it private. */
function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** Writes `data` to a temporary file with `mode` and renames it over `file`. */
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
