// The development certificate `h2sched serve` uses without --cert/--key (lib/node/devcert.ts):
// where it is kept, with which modes, for which names, when it is reused and when it is made anew.
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { certificateCacheDir, localCertificate, LOCAL_CERT_NAMES } from '../../lib/node/devcert.js';

const DAY = 86_400_000;
const roots: string[] = [];
/** A cache directory that does not exist yet (its parent neither). */
const fresh = () => {
  roots.push(mkdtempSync(path.join(tmpdir(), 'h2sched-devcert-')));
  return path.join(roots.at(-1)!, 'cache', 'h2sched');
};
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

describe('certificateCacheDir (XDG Base Directory)', () => {
  it('is $XDG_CACHE_HOME/h2sched for an absolute XDG_CACHE_HOME, else ~/.cache/h2sched (a relative value is ignored)', () => {
    expect(certificateCacheDir({ XDG_CACHE_HOME: '/var/tmp/c' })).toBe('/var/tmp/c/h2sched');
    expect(certificateCacheDir({ XDG_CACHE_HOME: 'relative/c' })).toBe(path.join(homedir(), '.cache', 'h2sched'));
    expect(certificateCacheDir({ XDG_CACHE_HOME: '' })).toBe(path.join(homedir(), '.cache', 'h2sched'));
    expect(certificateCacheDir({})).toBe(path.join(homedir(), '.cache', 'h2sched'));
  });
});

describe('localCertificate', () => {
  it('makes a self-signed ECDSA certificate for localhost, 127.0.0.1 and ::1 in a 0700 directory, the key 0600', async () => {
    const dir = fresh();
    const c = await localCertificate({ dir });
    expect(c.generated).toBe('missing');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(c.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(c.certFile).mode & 0o022).toBe(0); // others may read the certificate, not change it
    expect(readFileSync(c.certFile, 'latin1')).toBe(c.cert);
    const x = new X509Certificate(c.cert);
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkIP('::1')).toBe('::1');
    expect(LOCAL_CERT_NAMES).toEqual(['localhost', '127.0.0.1', '::1']);
    expect(x.checkPrivateKey(createPrivateKey(c.key))).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true); // self-signed
    expect(x.publicKey.asymmetricKeyType).toBe('ec');
    expect(x.ca).toBe(false);
    expect(x.fingerprint256).toBe(c.fingerprint256);
    // valid from (about) now for a year, with an hour of slack for clocks behind
    expect(Date.parse(x.validFrom)).toBeLessThanOrEqual(Date.now());
    expect(Math.abs(Date.parse(x.validTo) - Date.now() - 365 * DAY)).toBeLessThan(DAY);
  });

  it('reuses the cached pair while it is valid for another day; a key others could read is replaced, not chmodded; a loose directory is tightened', async () => {
    const dir = fresh();
    const first = await localCertificate({ dir });
    const again = await localCertificate({ dir });
    expect([again.generated, again.fingerprint256, again.key]).toEqual([undefined, first.fingerprint256, first.key]);
    // found by the review (issue 14): a key found 0644 may be known to others: a new pair
    chmodSync(first.keyFile, 0o644);
    chmodSync(dir, 0o755);
    const loose = await localCertificate({ dir });
    expect(loose.generated).toBe('invalid');
    expect(loose.fingerprint256).not.toBe(first.fingerprint256);
    expect(statSync(first.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    // 363 days on it still has more than a day left: reused
    const later = await localCertificate({ dir, now: new Date(Date.now() + 363 * DAY) });
    expect(later.generated).toBeUndefined();
  });

  it('makes a new one when expired or about to expire, when corrupt or when the key is not its pair; a cache file it cannot replace is an error saying why', async () => {
    const dir = fresh();
    const first = await localCertificate({ dir });
    const expiring = await localCertificate({ dir, now: new Date(first.validTo.getTime() - DAY / 2) });
    expect(expiring.generated).toBe('expired');
    expect(expiring.fingerprint256).not.toBe(first.fingerprint256);

    writeFileSync(expiring.certFile, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    const afterCorrupt = await localCertificate({ dir });
    expect(afterCorrupt.generated).toBe('invalid');

    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(afterCorrupt.keyFile, other);
    const afterKey = await localCertificate({ dir });
    expect(afterKey.generated).toBe('invalid');
    expect(new X509Certificate(afterKey.cert).checkPrivateKey(createPrivateKey(readFileSync(afterKey.keyFile)))).toBe(true);

    rmSync(afterKey.certFile);
    mkdirSync(afterKey.certFile); // a directory where the certificate should be: unreadable, and cannot be renamed over
    await expect(localCertificate({ dir })).rejects.toThrow(/EISDIR|directory/);
    rmSync(afterKey.certFile, { recursive: true });
    expect((await localCertificate({ dir })).generated).toBe('missing');
  });

  it('one certificate for starts at the same time (a lock file): both get the same pair', async () => {
    const dir = fresh();
    const [a, b, c] = await Promise.all([localCertificate({ dir }), localCertificate({ dir }), localCertificate({ dir })]);
    expect(new Set([a.fingerprint256, b.fingerprint256, c.fingerprint256]).size).toBe(1);
    expect([a, b, c].filter((x) => x.generated !== undefined).length).toBe(1);
    expect(readFileSync(a.certFile, 'latin1')).toBe(a.cert);
  });
});
