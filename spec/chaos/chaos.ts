/**
 * The chaos run of issue 12, shared by `npm run chaos` (spec/chaos/run.ts) and the ~20-second
 * spec: a built `h2sched serve` child (server.ts) faces `concurrency` misbehaving raw clients
 * (scripts.ts) and a few well-behaved ones whose every answer must be exact (well.ts) for
 * `seconds`. A crash is recorded with the child's stderr and the scripts in flight, and a fresh
 * child takes over so the run goes on. Afterwards the child must be alive and answer a GET, its
 * stream-record counts must come back to 0, and its fds and heap (after GC) must be within
 * FD_SLACK and HEAP_SLACK of the figures taken after warm-up. Scripts are generated from
 * (seed, worker, index) alone, so `--seed` regenerates them, and `replay` plays chosen ones.
 */
import path from 'node:path';
import { describeScript, generateScript, playScript, type Script } from './scripts.js';
import { fdKinds, makeSite, RECORD_COUNTS, removeSite, ServerProcess, type ServerStats } from './server.js';
import { generateBatch, runBatch, type WellBatch } from './well.js';

/** Bound on the child's open fds at the end: at most this many above the figure after warm-up. */
export const FD_SLACK = 5;
/** Bound on the child's heap after GC at the end: at most this many bytes above the figure after warm-up. */
export const HEAP_SLACK = 20 * 1024 * 1024;
/** How long the counts may take to come back to 0 once every client is gone. */
export const SETTLE_MS = 10000;
export const SCHEDULERS = ['tree', 'round-robin', 'extensible'] as const;

export interface ChaosOptions {
  seconds: number;
  seed: number;
  /** Misbehaving clients at a time. Default 10. */
  concurrency?: number;
  /** Well-behaved clients at a time. Default 3. */
  wellBehaved?: number;
  /** Default: chosen by the seed among SCHEDULERS. */
  scheduler?: string;
  /** The built CLI. Default dist/node/cli.js. */
  cli?: string;
  onProgress?: (p: ChaosProgress) => void;
  progressEveryMs?: number;
  /** After a crash, play each script that was in flight alone on a fresh server to find the one that crashes it. */
  triage?: boolean;
  /** Play only these scripts ("worker.index"), one after another, checking the counts after each. */
  replay?: string[];
  /** With `replay`: copies of each script played at once (default 1). */
  copies?: number;
  /** Play scripts one at a time (worker 0, index 0, 1, …) and check the counts come back to 0 after each: stops at the first leak or crash. */
  sequential?: boolean;
}

export interface ChaosProgress {
  elapsedMs: number;
  actions: number;
  scripts: number;
  kinds: Readonly<Record<string, number>>;
  wellChecked: number;
  fds: number | undefined;
  stats: ServerStats | undefined;
  crashes: number;
  failures: number;
}

export interface ChaosFailure {
  kind: 'crash' | 'leak' | 'stats-unavailable' | 'mismatch' | 'wedge' | 'dead' | 'harness';
  message: string;
  /** Stack, counts, or other evidence. */
  detail?: string;
  /** Scripts in flight (crash) or played (sequential leak), as "worker.index: description". */
  scripts?: string[];
  /** The script that reproduces it alone, when triage found one. */
  culprit?: string;
  /** The command that replays the culprit. */
  reproduce?: string;
  /** How many times the same failure happened. */
  times: number;
}

export interface Figures {
  fds: number | undefined;
  stats: ServerStats | undefined;
}

export interface ChaosResult {
  seed: number;
  scheduler: string;
  seconds: number;
  elapsedMs: number;
  actions: number;
  scripts: number;
  kinds: Record<string, number>;
  well: { batches: number; checked: number; bytes: number; lostToCrash: number };
  crashes: number;
  failures: ChaosFailure[];
  start: Figures | undefined;
  end: Figures | undefined;
  bounds: { fdSlack: number; heapSlack: number };
  reproduce: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function pickScheduler(seed: number): string {
  return SCHEDULERS[((seed % SCHEDULERS.length) + SCHEDULERS.length) % SCHEDULERS.length]!;
}

/** The crash's first error line and first stack frame: the same bug gives the same signature. */
function crashSignature(stderr: string, exit: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const err = lines.find((l) => /^(\w*Error|Uncaught|node:internal|\[)/.test(l) && !l.startsWith('at ')) ?? lines.find((l) => /Error/.test(l)) ?? exit;
  const at = lines.find((l) => l.startsWith('at ')) ?? '';
  return `${err} ${at}`.replace(/:\d+:\d+\)?/g, '').replace(/\b\d+\b/g, 'N');
}

/** Waits until the child's fds are within FD_SLACK of `base` (or `ms` passed); the last count. */
async function settleFds(s: ServerProcess, base: number | undefined, ms: number): Promise<number | undefined> {
  const end = Date.now() + ms;
  let n = s.fds();
  while (n !== undefined && base !== undefined && n > base + FD_SLACK && Date.now() < end) {
    await sleep(100);
    n = s.fds();
  }
  return n;
}

const exitText = (s: ServerProcess) => (s.exitInfo?.signal ? `signal ${s.exitInfo.signal}` : `exit code ${s.exitInfo?.code}`);
const countsOf = (s: ServerStats) => RECORD_COUNTS.map((k) => `${k}=${s[k]}`).join(' ');
const zero = (s: ServerStats) => RECORD_COUNTS.every((k) => s[k] === 0);

/** Runs the chaos and returns what happened; it throws only when the server cannot be started at all. */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const seed = options.seed | 0;
  const scheduler = options.scheduler ?? pickScheduler(seed);
  const cli = options.cli ?? path.resolve('dist/node/cli.js');
  const concurrency = options.concurrency ?? 10;
  const wellCount = options.wellBehaved ?? 3;
  const site = makeSite(seed);
  const failures: ChaosFailure[] = [];
  const kinds: Record<string, number> = {};
  let actions = 0;
  let scripts = 0;
  const well = { batches: 0, checked: 0, bytes: 0, lostToCrash: 0 };
  let crashes = 0;
  let t0 = Date.now();
  const mode = options.replay ? ` --replay ${options.replay.join(',')}${options.copies ? ` --copies ${options.copies}` : ''}` : options.sequential ? ' --sequential' : '';
  const reproduce = `npm run chaos -- --seconds ${options.seconds} --seed ${seed}${options.scheduler ? ` --scheduler ${scheduler}` : ''}${mode}`;
  const fail = (f: Omit<ChaosFailure, 'times'>): void => {
    // the same failure on another stream or at another offset is the same failure
    const key = (m: string) => m.replace(/\d+/g, 'N');
    const same = failures.find((x) => x.kind === f.kind && key(x.message) === key(f.message));
    if (same) same.times++;
    else failures.push({ ...f, times: 1 });
  };
  const count = (kind: string): void => {
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    if (!kind.includes(':')) actions++;
  };

  // ---- the server, restarted after a crash
  const inFlight = new Map<string, Script>();
  let server: ServerProcess;
  let ready: Promise<void> = Promise.resolve();
  let stopping = false;
  let statsMissing = false;
  let start: Figures | undefined;

  const warmUp = async (s: ServerProcess): Promise<Figures> => {
    const r = await runBatch(s.url, site.files, { via: 'h2sched', requests: [
      { method: 'GET', path: '/tiny.txt', bodyLen: 0, bodySeed: 0 }, { method: 'GET', path: '/200k.bin', bodyLen: 0, bodySeed: 0 },
      { method: 'POST', path: '/echo', bodyLen: 100000, bodySeed: 1 }, { method: 'GET', path: '/missing.txt', bodyLen: 0, bodySeed: 0 },
    ] }, 15000);
    if (r.error) fail({ kind: 'mismatch', message: `warm-up: ${r.error}` });
    await settle(s, 3000);
    const stats = statsMissing ? undefined : await s.gc();
    if (!stats && !statsMissing) {
      statsMissing = true;
      fail({ kind: 'stats-unavailable', message: 'the server did not answer {type:"stats"}/{type:"gc"} over IPC (stats contract not implemented?)' });
    }
    return { fds: s.fds(), stats };
  };
  const settle = async (s: ServerProcess, ms: number): Promise<ServerStats | undefined> => {
    const end = Date.now() + ms;
    let last: ServerStats | undefined;
    do {
      last = await s.stats(1000);
      if (!last || zero(last)) return last;
      await sleep(100);
    } while (Date.now() < end && s.alive);
    return last;
  };
  const watch = (s: ServerProcess): void => {
    void s.exited.then(() => {
      // our stop() ends it with SIGTERM (a drain, exit code 0) or SIGKILL; anything else is a crash
      const ours = s.stopping && (s.exitInfo?.code === 0 || s.exitInfo?.signal === 'SIGTERM' || s.exitInfo?.signal === 'SIGKILL');
      if (ours) return;
      crashes++;
      const exit = exitText(s);
      const flying = [...inFlight].map(([id, sc]) => `${id}: ${describeScript(sc)}`);
      fail({ kind: 'crash', message: crashSignature(s.stderr, exit), detail: `${exit}\n${s.stderr.slice(-6000)}`, scripts: flying });
      if (!stopping) ready = restart();
    });
  };
  const startServer = async (): Promise<ServerProcess> => {
    const s = await ServerProcess.start(cli, site.root, scheduler);
    watch(s);
    return s;
  };
  const restart = async (): Promise<void> => {
    try {
      server = await startServer();
      start = await warmUp(server);
    } catch (e) {
      fail({ kind: 'harness', message: `cannot restart the server: ${(e as Error).message}` });
      stopping = true;
    }
  };

  try {
    server = await startServer();
  } catch (e) {
    removeSite(site.root);
    throw e;
  }
  start = await warmUp(server);
  t0 = Date.now(); // the figures count the chaos itself, not the warm-up
  const deadline = t0 + options.seconds * 1000;

  // ---- progress
  const progress = async (): Promise<void> => {
    const s = server.alive ? server : undefined;
    options.onProgress?.({
      elapsedMs: Date.now() - t0, actions, scripts, kinds: { ...kinds }, wellChecked: well.checked,
      fds: s?.fds(), stats: s && !statsMissing ? await s.stats(1000) : undefined, crashes, failures: failures.length,
    });
  };
  const ticker = options.onProgress ? setInterval(() => void progress(), options.progressEveryMs ?? 5000) : undefined;

  // ---- workers
  const play = async (id: string, script: Script, copies = 1): Promise<void> => {
    await ready;
    const s = server;
    if (!s.alive) return;
    inFlight.set(id, script);
    scripts += copies;
    try {
      await Promise.all(Array.from({ length: copies }, () => playScript(s.port, script, count)));
    } catch (e) {
      fail({ kind: 'harness', message: `script ${id} threw: ${(e as Error).message}` });
    } finally {
      inFlight.delete(id);
    }
  };
  const rawWorker = async (w: number): Promise<void> => {
    for (let i = 0; Date.now() < deadline && !stopping; i++) await play(`${w}.${i}`, generateScript(seed, w, i));
  };
  const wellWorker = async (w: number): Promise<void> => {
    for (let i = 0; Date.now() < deadline && !stopping; i++) {
      await ready;
      const s = server;
      const batch: WellBatch = generateBatch(seed, w, i);
      const r = await runBatch(s.url, site.files, batch, 30000);
      well.batches++;
      well.checked += r.checked;
      well.bytes += r.bytes;
      if (r.error) {
        await sleep(300); // a crash shows as an exit a moment after the connection broke
        if (!s.alive || s !== server) well.lostToCrash++;
        else fail({ kind: r.error.includes('wedged') ? 'wedge' : 'mismatch', message: r.error, detail: `well-behaved batch ${w}.${i}` });
      }
    }
  };

  let end: Figures | undefined;
  if (options.replay || options.sequential) {
    const ids = options.replay ?? [];
    for (let i = 0; options.sequential ? Date.now() < deadline : i < ids.length; i++) {
      const id = options.sequential ? `0.${i}` : ids[i]!;
      const [w, n] = id.split('.').map(Number) as [number, number];
      const script = generateScript(seed, w, n);
      await play(id, script, options.sequential ? 1 : options.copies ?? 1);
      await sleep(300); // a crash shows as an exit a moment after the sockets broke
      await ready;
      if (!server.alive) continue;
      const after = await settle(server, 3000);
      const fds = await settleFds(server, start?.fds, 3000);
      const leak = after && !zero(after) ? `stream records left after script ${id}: ${countsOf(after)}`
        : fds !== undefined && start?.fds !== undefined && fds > start.fds + FD_SLACK ? `fds left after script ${id}: ${fds}, ${start.fds} after warm-up (bound +${FD_SLACK})` : undefined;
      if (leak) {
        fail({ kind: 'leak', message: leak, detail: `fds: ${fdKinds(server.pid)}`, culprit: `${id}: ${describeScript(script)}`,
          reproduce: `npm run chaos -- --seed ${seed} --scheduler ${scheduler} --replay ${id}` });
        if (options.sequential) break;
      }
      if (options.sequential && crashes > 0) break;
    }
  } else {
    await Promise.all([
      ...Array.from({ length: concurrency }, (_, w) => rawWorker(w)),
      ...Array.from({ length: wellCount }, (_, w) => wellWorker(w)),
    ]);
  }
  if (ticker) clearInterval(ticker);
  const elapsedMs = Date.now() - t0;
  await sleep(300); // let a crash of the last moment show
  stopping = true;
  await ready;

  // ---- afterwards: alive, answers, counts at 0, fds and heap within bounds
  if (!server.alive) {
    fail({ kind: 'dead', message: 'the server is not running at the end of the run' });
  } else {
    const r = await runBatch(server.url, site.files, { via: 'h2sched', requests: [{ method: 'GET', path: '/16k.bin', bodyLen: 0, bodySeed: 0 }] }, 10000);
    if (r.error) {
      await sleep(300);
      if (server.alive) fail({ kind: 'dead', message: `the server does not answer a plain GET after the run: ${r.error}` });
    }
    const after = await settle(server, SETTLE_MS);
    if (after && !zero(after)) fail({ kind: 'leak', message: `stream records left ${SETTLE_MS / 1000} s after the last client: ${countsOf(after)}` });
    await settleFds(server, start?.fds, 3000);
    const stats = statsMissing ? undefined : await server.gc();
    end = { fds: server.fds(), stats };
    if (!stats && !statsMissing) fail({ kind: 'stats-unavailable', message: 'the server did not answer {type:"gc"} at the end' });
    if (start?.fds !== undefined && end.fds !== undefined && end.fds > start.fds + FD_SLACK) {
      fail({ kind: 'leak', message: `fds: ${end.fds} at the end, ${start.fds} after warm-up (bound +${FD_SLACK})`, detail: `fds: ${fdKinds(server.pid)}` });
    }
    if (start?.stats && stats && stats.heapUsed > start.stats.heapUsed + HEAP_SLACK) {
      fail({ kind: 'leak', message: `heap after GC: ${(stats.heapUsed / 1048576).toFixed(1)} MiB at the end, ${(start.stats.heapUsed / 1048576).toFixed(1)} MiB after warm-up (bound +${HEAP_SLACK / 1048576} MiB)` });
    }
  }
  await server.stop();

  // ---- triage: which script in flight crashes a fresh server alone?
  if (options.triage) {
    for (const f of failures) {
      if (f.kind !== 'crash' || !f.scripts) continue;
      const ids = f.scripts.slice(0, 12).map((line) => line.slice(0, line.indexOf(':')));
      const culprits = await triageCrash(cli, site.root, scheduler, ids.map((id) => {
        const [w, n] = id.split('.').map(Number) as [number, number];
        return [id, generateScript(seed, w, n)];
      }), f.message);
      if (culprits.length > 0) f.culprit = culprits.map((id) => f.scripts!.find((l) => l.startsWith(`${id}:`))!).join('\n');
      if (culprits.length > 0) f.reproduce = `npm run chaos -- --seed ${seed} --scheduler ${scheduler} --replay ${culprits[0]} --copies 4`;
    }
  }
  removeSite(site.root);

  return {
    seed, scheduler, seconds: options.seconds, elapsedMs, actions, scripts, kinds, well, crashes, failures,
    start, end, bounds: { fdSlack: FD_SLACK, heapSlack: HEAP_SLACK }, reproduce,
  };
}

/**
 * Plays each script on a fresh server of its own (all at once, four copies of the script at a
 * time, two rounds): the ids of the scripts whose server died with the given crash signature.
 */
async function triageCrash(cli: string, root: string, scheduler: string, scripts: Array<[string, Script]>, signature: string): Promise<string[]> {
  const found: string[] = [];
  await Promise.all(scripts.map(async ([id, script]) => {
    let s: ServerProcess;
    try {
      s = await ServerProcess.start(cli, root, scheduler);
    } catch {
      return;
    }
    try {
      for (let round = 0; round < 2 && s.alive; round++) {
        await Promise.all(Array.from({ length: 4 }, () => playScript(s.port, script, () => undefined)));
        await sleep(200);
      }
      if (!s.alive && crashSignature(s.stderr, exitText(s)) === signature) found.push(id);
    } finally {
      await s.stop(1000);
    }
  }));
  return found.sort();
}

/** A human report of a result: figures, then each failure with its evidence. */
export function formatResult(r: ChaosResult): string {
  const mib = (n: number | undefined) => (n === undefined ? 'n/a' : `${(n / 1048576).toFixed(1)} MiB`);
  const stories = Object.entries(r.kinds).filter(([k]) => k.startsWith('story:')).map(([k, v]) => `${k.slice(6)} ${v}`).join(', ');
  const lines = [
    `chaos: seed ${r.seed}, scheduler ${r.scheduler}, ${(r.elapsedMs / 1000).toFixed(1)} s: ${r.scripts} misbehaving connections, ${r.actions} actions (${stories})`,
    `chaos: well-behaved: ${r.well.checked} responses checked byte-exact in ${r.well.batches} connections (${(r.well.bytes / 1048576).toFixed(1)} MiB)${r.well.lostToCrash ? `, ${r.well.lostToCrash} batches lost to crashes` : ''}`,
    `chaos: fds ${r.start?.fds ?? 'n/a'} after warm-up -> ${r.end?.fds ?? 'n/a'} at the end (bound +${r.bounds.fdSlack}); heap ${mib(r.start?.stats?.heapUsed)} -> ${mib(r.end?.stats?.heapUsed)} (bound +${r.bounds.heapSlack / 1048576} MiB)`,
    `chaos: end counts: ${r.end?.stats ? countsOf(r.end.stats) : 'stats unavailable'}`,
    `chaos: ${r.crashes} crashes, ${r.failures.length} distinct failures`,
  ];
  for (const [i, f] of r.failures.entries()) {
    lines.push(`  ${i + 1}. [${f.kind}]${f.times > 1 ? ` ×${f.times}` : ''} ${f.message}`);
    const how = f.kind === 'crash' ? 'reproduced alone (4 copies on a fresh server) by' : 'left by';
    if (f.culprit) lines.push(...f.culprit.split('\n').map((c) => `     ${how} script ${c}`));
    if (f.reproduce) lines.push(`     replay: ${f.reproduce}`);
    if (f.detail) lines.push(...f.detail.split('\n').slice(0, 25).map((l) => `     | ${l}`));
    if (f.scripts && !f.culprit) lines.push(...f.scripts.slice(0, 12).map((s) => `     in flight: ${s}`));
  }
  lines.push(`chaos: reproduce with: ${r.reproduce}`);
  return lines.join('\n');
}
