// Findings of the hostile review of issue 14 on the development certificate's cache
// (lib/node/devcert.ts), on real files: the directory is trusted only when it is a real directory
// of the current user (as ssh trusts ~/.ssh), files are never followed through links nor read past
// 64 KiB nor waited on (a FIFO), and the lock names its process so that a dead one's is taken over.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { localCertificate } from '../../lib/node/devcert.js';

const roots: string[] = [];
/** A fresh directory to play in (removed after the file). */
const scratch = () => {
  roots.push(mkdtempSync(path.join(tmpdir(), 'h2sched-devcert-review-')));
  return roots.at(-1)!;
};
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

/** A valid pair made in a directory of its own (to copy or link elsewhere). */
async function validPair(): Promise<{ certFile: string; keyFile: string; fingerprint256: string }> {
  return localCertificate({ dir: path.join(scratch(), 'h2sched') });
}

describe('found by the review (issue 14): the cache directory', () => {
  it('found by the review (issue 14): a directory owned by another user is refused with a line saying what to do; nothing in it is read, written or chmodded', async () => {
    let dir: string;
    if (isRoot) {
      // "the other user" made it, 0777, and put a pair it knows in it
      dir = path.join(scratch(), 'h2sched');
      mkdirSync(dir);
      const theirs = await validPair();
      copyFileSync(theirs.certFile, path.join(dir, 'localhost-cert.pem'));
      copyFileSync(theirs.keyFile, path.join(dir, 'localhost-key.pem'));
      for (const f of [dir, ...readdirSync(dir).map((n) => path.join(dir, n))]) chownSync(f, NOBODY, NOBODY);
      chmodSync(dir, 0o777);
    } else {
      dir = '/'; // root's: not ours
    }
    const before = readdirSync(dir).sort();
    await expect(localCertificate({ dir })).rejects.toThrow(new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} belongs to user id \\d+, not to you \\(\\d+\\): .*remove it and start again`));
    expect(readdirSync(dir).sort()).toEqual(before);
    if (isRoot) expect(statSync(dir).mode & 0o777).toBe(0o777);
  });

  it('found by the review (issue 14): a symbolic link in place of the directory is refused; the directory it points to is left as it was', async () => {
    const root = scratch();
    const victim = path.join(root, 'victim');
    mkdirSync(victim, { mode: 0o755 });
    chmodSync(victim, 0o755);
    writeFileSync(path.join(victim, 'file'), 'hi\n');
    const dir = path.join(root, 'cache', 'h2sched');
    mkdirSync(path.dirname(dir));
    symlinkSync(victim, dir);
    await expect(localCertificate({ dir })).rejects.toThrow(/is a symbolic link; the certificate is kept only in a real directory of yours: remove it and start again$/);
    expect(statSync(victim).mode & 0o777).toBe(0o755);
    expect(readdirSync(victim)).toEqual(['file']);
    // a dangling link, and a file where the directory should be
    const dangling = path.join(root, 'dangling');
    symlinkSync(path.join(root, 'nowhere'), dangling);
    await expect(localCertificate({ dir: dangling })).rejects.toThrow(/is a symbolic link/);
    writeFileSync(path.join(root, 'plain'), '');
    await expect(localCertificate({ dir: path.join(root, 'plain') })).rejects.toThrow(/is not a directory/);
    await expect(localCertificate({ dir: path.join(root, 'plain', 'h2sched') })).rejects.toThrow(/plain is not a directory \(XDG_CACHE_HOME or ~\/\.cache must be one\)$/);
  });
});

describe('found by the review (issue 14): the cache files', () => {
  it('found by the review (issue 14): a key file that is a link to a loose key elsewhere is replaced, never followed nor chmodded; so is a linked certificate', async () => {
    const good = await validPair();
    const root = scratch();
    const dir = path.join(root, 'h2sched');
    mkdirSync(dir, { mode: 0o700 });
    copyFileSync(good.certFile, path.join(dir, 'localhost-cert.pem'));
    const elsewhere = path.join(root, 'elsewhere-key.pem');
    copyFileSync(good.keyFile, elsewhere);
    chmodSync(elsewhere, 0o644);
    symlinkSync(elsewhere, path.join(dir, 'localhost-key.pem'));
    const c = await localCertificate({ dir });
    expect(c.generated).toBe('invalid');
    expect(statSync(elsewhere).mode & 0o777).toBe(0o644);
    expect(readFileSync(elsewhere, 'latin1')).toBe(readFileSync(good.keyFile, 'latin1'));
    const key = lstatSync(c.keyFile);
    expect([key.isFile(), key.mode & 0o777]).toEqual([true, 0o600]);
    // the certificate as a link to a valid one: not followed either
    unlinkSync(c.certFile);
    symlinkSync(good.certFile, c.certFile);
    copyFileSync(good.keyFile, c.keyFile);
    const again = await localCertificate({ dir });
    expect(again.generated).toBe('invalid');
    expect(lstatSync(again.certFile).isFile()).toBe(true);
    expect(readFileSync(good.certFile, 'latin1')).not.toBe(again.cert);
  });

  it('found by the review (issue 14): a key that is /dev/zero, a FIFO, or a file over 64 KiB is treated as corrupt and remade, at once (no endless read, no hang)', async () => {
    const good = await validPair();
    const prepare = (make: (keyFile: string) => void) => {
      const dir = path.join(scratch(), 'h2sched');
      mkdirSync(dir, { mode: 0o700 });
      copyFileSync(good.certFile, path.join(dir, 'localhost-cert.pem'));
      make(path.join(dir, 'localhost-key.pem'));
      return dir;
    };
    const cases: Array<[string, (f: string) => void]> = [
      ['/dev/zero', (f) => symlinkSync('/dev/zero', f)],
      ['a FIFO', (f) => execFileSync('mkfifo', [f])],
      ['70 KiB', (f) => writeFileSync(f, `${readFileSync(good.keyFile, 'latin1')}${'#'.repeat(70 * 1024)}`, { mode: 0o600 })],
      ['a directory', (f) => mkdirSync(f)],
    ];
    for (const [what, make] of cases) {
      const dir = prepare(make);
      const t0 = Date.now();
      const c = what === 'a directory'
        ? await localCertificate({ dir }).then((x) => x.generated, (e: Error) => e.message)
        : (await localCertificate({ dir })).generated;
      // a directory cannot be renamed over: an error naming it (nothing read from it)
      expect([what, c]).toEqual([what, what === 'a directory' ? expect.stringMatching(/EISDIR|directory/) : 'invalid']);
      expect(Date.now() - t0).toBeLessThan(5000);
      if (what !== 'a directory') expect(lstatSync(path.join(dir, 'localhost-key.pem')).isFile()).toBe(true);
    }
    expect(lstatSync('/dev/zero').isCharacterDevice()).toBe(true); // untouched
  });

  it('found by the review (issue 14): cache files owned by another user are not used (only as root, which can make them)', async () => {
    const good = await validPair();
    const dir = path.join(scratch(), 'h2sched');
    mkdirSync(dir, { mode: 0o700 });
    copyFileSync(good.certFile, path.join(dir, 'localhost-cert.pem'));
    copyFileSync(good.keyFile, path.join(dir, 'localhost-key.pem'));
    if (isRoot) chownSync(path.join(dir, 'localhost-key.pem'), NOBODY, NOBODY);
    const c = await localCertificate({ dir });
    expect(c.generated).toBe(isRoot ? 'invalid' : undefined);
    expect(statSync(c.keyFile).uid).toBe(process.getuid?.());
  });
});

describe('found by the review (issue 14): the lock', () => {
  /** The pid of a process that has exited. */
  async function deadPid(): Promise<number> {
    const p = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => p.on('exit', r));
    return p.pid!;
  }
  const lockedDir = (content: string) => {
    const dir = path.join(scratch(), 'h2sched');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(path.join(dir, 'localhost.lock'), content);
    return dir;
  };

  it('found by the review (issue 14): a lock whose process is gone, or that names this process without it holding it, or names none and is old, is taken over at once', async () => {
    const stale = [String(await deadPid()), String(process.pid), ''];
    for (const content of stale) {
      const dir = lockedDir(content);
      if (content === '') {
        const old = new Date(Date.now() - 5000);
        utimesSync(path.join(dir, 'localhost.lock'), old, old);
      }
      const waits: number[] = [];
      const t0 = Date.now();
      const c = await localCertificate({ dir, onWait: (pid) => waits.push(pid) });
      expect([content, c.generated, waits]).toEqual([content, 'missing', []]);
      expect(Date.now() - t0).toBeLessThan(5000); // not the 30 s of a lock judged by its age
      expect(readdirSync(dir).sort()).toEqual(['localhost-cert.pem', 'localhost-key.pem']);
    }
  });

  it('found by the review (issue 14): a live holder is waited for and onWait hears it once; the pair is made when it lets go', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    try {
      const dir = lockedDir(String(holder.pid));
      const waits: Array<[number, string]> = [];
      const pending = localCertificate({ dir, onWait: (pid, file) => waits.push([pid, file]) });
      await new Promise((r) => setTimeout(r, 400));
      expect(waits).toEqual([[holder.pid, path.join(dir, 'localhost.lock')]]);
      expect(readdirSync(dir)).toEqual(['localhost.lock']);
      unlinkSync(path.join(dir, 'localhost.lock'));
      expect((await pending).generated).toBe('missing');
      expect(waits).toHaveLength(1);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('found by the review (issue 14): a process that exits while it holds the lock removes it', async () => {
    const dir = path.join(scratch(), 'h2sched');
    const lib = path.resolve('dist/node/devcert.js');
    const script = `import { existsSync } from 'node:fs';
      const { localCertificate } = await import(${JSON.stringify(lib)});
      const lock = ${JSON.stringify(path.join(dir, 'localhost.lock'))};
      void localCertificate({ dir: ${JSON.stringify(dir)} });
      const look = () => { if (existsSync(lock)) { process.stdout.write('held'); process.exit(0); } setImmediate(look); };
      look();`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(out).toBe('held');
    expect(readdirSync(dir)).not.toContain('localhost.lock');
  });

  it('found by the review (issue 14): a lock path that cannot be removed (a directory) is an error, not an endless loop', async () => {
    const dir = path.join(scratch(), 'h2sched');
    mkdirSync(path.join(dir, 'localhost.lock'), { recursive: true });
    await expect(localCertificate({ dir })).rejects.toThrow(/cannot remove the stale lock .*localhost\.lock/);
  });
});
