/**
 * `h2sched serve --workers N`: several processes on one port with node:cluster. The primary forks
 * N workers that run the same command line and share its listening socket (on Linux the primary
 * accepts and hands connections to the workers in turn; elsewhere the workers accept). Each
 * HTTP/2 connection lives in one worker, so nothing is shared between them.
 *
 * A worker that dies is replaced after a delay that doubles with each quick death in a row
 * (100 ms, 200 ms, … up to 10 s; a worker that lived 10 s resets it); after 5 quick deaths in a
 * row the slot is given up and a line on stderr says so. `drain()` asks every worker to drain
 * (GOAWAY, in-flight requests finish) and resolves when all have exited; a worker still booting
 * when the drain began is asked again as soon as it listens (a message sent while it loads can be
 * lost), and `listening` never resolves after the drain began.
 */
import cluster, { type Worker } from 'node:cluster';

/** The IPC message that asks a worker to drain and exit (as SIGTERM would). */
export const DRAIN_MESSAGE: { readonly type: 'h2sched:drain' } = { type: 'h2sched:drain' };

/** The environment variable that tells a worker its slot number (1…N). */
export const WORKER_SLOT_ENV = 'H2SCHED_WORKER';

/** Options of {@link startWorkers}. */
export interface WorkerPoolOptions {
  /** Number of workers. */
  count: number;
  /**
   * The workers' arguments (as `process.argv.slice(2)`). Give them a port other than 0: workers
   * listening on port 0 share one port only while one of them lives (a replacement forked after
   * all died would get another).
   */
  args: string[];
  /** One log line: JSON fields and the same as text. */
  log: (json: Record<string, unknown>, text: string) => void;
  /** A line a person must see (a slot given up): written to stderr whatever the log format. */
  warn: (text: string) => void;
  /** First delay before a dead worker is replaced (ms). Default 100. */
  backoffMs?: number;
  /** Longest delay (ms). Default 10000. */
  maxBackoffMs?: number;
  /** A worker that lived this long (ms) was stable: its death starts the backoff again. Default 10000. */
  stableMs?: number;
  /** Quick deaths in a row after which a slot is given up. Default 5. */
  crashLoop?: number;
}

/** Where the workers listen, once all of the first ones do. */
export interface PoolAddress {
  address: string;
  port: number;
  /** 4 or 6. */
  addressType: number;
  workers: Array<{ slot: number; pid: number }>;
}

/** The running workers. */
export interface WorkerPool {
  /** Resolves when every first worker listens (unless a drain began before); rejects when one of them exits before. */
  readonly listening: Promise<PoolAddress>;
  /** Resolves when no worker is left and none will be replaced (every slot given up). */
  readonly empty: Promise<void>;
  /** Process ids of the live workers. */
  pids(): number[];
  /** Sends `message` to every live worker; resolves with the answers of type `answerType` that came within `ms`. */
  ask(message: { type: string }, answerType: string, ms?: number): Promise<unknown[]>;
  /** Stops replacing workers and asks each to drain; resolves when all have exited. */
  drain(): Promise<void>;
  /** SIGKILL to every live worker. */
  kill(): void;
}

interface Slot {
  n: number;
  worker: Worker | undefined;
  startedAt: number;
  listened: boolean;
  quickDeaths: number;
  timer: NodeJS.Timeout | undefined;
  givenUp: boolean;
}

/**
 * Forks `count` workers running this script with `args` (call in the cluster primary).
 * @throws when called in a worker.
 */
export function startWorkers(options: WorkerPoolOptions): WorkerPool {
  if (!cluster.isPrimary) throw new Error('startWorkers runs in the cluster primary');
  const backoffMs = options.backoffMs ?? 100;
  const maxBackoffMs = options.maxBackoffMs ?? 10000;
  const stableMs = options.stableMs ?? 10000;
  const crashLoop = options.crashLoop ?? 5;
  cluster.setupPrimary({ args: options.args });
  const slots: Slot[] = Array.from({ length: options.count }, (_, i) => ({ n: i + 1, worker: undefined, startedAt: 0, listened: false, quickDeaths: 0, timer: undefined, givenUp: false }));
  let started = false;
  let draining = false;
  let onListening!: (a: PoolAddress) => void;
  let onStartFailed!: (e: Error) => void;
  const listening = new Promise<PoolAddress>((resolve, reject) => {
    onListening = resolve;
    onStartFailed = reject;
  });
  listening.catch(() => undefined); // the caller may stop listening for it
  let onEmpty!: () => void;
  const empty = new Promise<void>((r) => { onEmpty = r; });
  let onDrained: (() => void) | undefined;
  const live = () => slots.filter((s) => s.worker !== undefined);

  const fork = (slot: Slot): void => {
    slot.timer = undefined;
    const w = cluster.fork({ [WORKER_SLOT_ENV]: String(slot.n) });
    slot.worker = w;
    slot.startedAt = Date.now();
    slot.listened = false;
    w.on('error', () => undefined); // an IPC write to a dying worker; its 'exit' follows
    w.on('listening', (a: { address: string; port: number; addressType: number | string }) => {
      slot.listened = true;
      if (draining) {
        // forked before the drain began and booting meanwhile: a drain request sent before it
        // listened may have arrived before it listened for one; now it does
        sendDrain(w);
        return;
      }
      if (!started) {
        if (slots.every((s) => s.listened)) {
          started = true;
          onListening({ address: a.address, port: a.port, addressType: Number(a.addressType), workers: slots.map((s) => ({ slot: s.n, pid: s.worker!.process.pid! })) });
        }
        return;
      }
      options.log({ event: 'worker', worker: slot.n, pid: w.process.pid, state: 'listening' }, `worker ${slot.n} listening (pid ${w.process.pid})`);
    });
    w.on('exit', (code: number | null, signal: string | null) => exited(slot, w, code, signal));
  };

  const exited = (slot: Slot, w: Worker, code: number | null, signal: string | null): void => {
    if (slot.worker !== w) return;
    slot.worker = undefined;
    const how = signal ? `signal ${signal}` : `status ${code}`;
    if (draining) {
      if (live().length === 0) onDrained?.();
      return;
    }
    if (!started) {
      // a first worker that cannot start (the address in use, …): retrying will not help
      onStartFailed(new Error(`worker ${slot.n} (pid ${w.process.pid}) exited with ${how} before it listened`));
      return;
    }
    const lived = Date.now() - slot.startedAt;
    slot.quickDeaths = lived < stableMs ? slot.quickDeaths + 1 : 1;
    if (slot.quickDeaths >= crashLoop) {
      slot.givenUp = true;
      options.log({ event: 'worker', worker: slot.n, pid: w.process.pid, state: 'given up', code, signal },
        `worker ${slot.n} (pid ${w.process.pid}) died (${how}), ${slot.quickDeaths} times in a row within ${stableMs} ms of starting: not replaced any more`);
      options.warn(`worker ${slot.n} died ${slot.quickDeaths} times in a row within ${stableMs / 1000} s of starting (last: ${how}); it is not replaced any more`);
      if (slots.every((s) => s.givenUp)) onEmpty();
      return;
    }
    const delay = Math.min(maxBackoffMs, backoffMs * 2 ** (slot.quickDeaths - 1));
    options.log({ event: 'worker', worker: slot.n, pid: w.process.pid, state: 'died', code, signal, restartInMs: delay },
      `worker ${slot.n} (pid ${w.process.pid}) died (${how}); starting another in ${delay} ms`);
    slot.timer = setTimeout(() => {
      if (!draining) fork(slot);
    }, delay);
  };

  /** Asks a worker to drain; a worker whose IPC channel is gone gets SIGTERM instead. */
  const sendDrain = (w: Worker): void => {
    try {
      w.send(DRAIN_MESSAGE);
    } catch {
      w.process.kill('SIGTERM');
    }
  };

  for (const s of slots) fork(s);

  return {
    listening,
    empty,
    pids: () => live().map((s) => s.worker!.process.pid!),
    ask: (message, answerType, ms = 2000) => new Promise<unknown[]>((resolve) => {
      const workers = live().map((s) => s.worker!);
      const answers: unknown[] = [];
      const listeners = new Map<Worker, (m: unknown) => void>();
      const done = () => {
        clearTimeout(timer);
        for (const [w, l] of listeners) w.off('message', l);
        resolve(answers);
      };
      const timer = setTimeout(done, ms);
      for (const w of workers) {
        const l = (m: unknown) => {
          if ((m as { type?: unknown } | null)?.type !== answerType) return;
          answers.push(m);
          w.off('message', l);
          listeners.delete(w);
          if (listeners.size === 0) done();
        };
        listeners.set(w, l);
        w.on('message', l);
        try {
          w.send(message);
        } catch {
          w.off('message', l);
          listeners.delete(w);
        }
      }
      if (listeners.size === 0) done();
    }),
    drain: () => {
      draining = true;
      for (const s of slots) if (s.timer !== undefined) clearTimeout(s.timer);
      return new Promise<void>((resolve) => {
        onDrained = resolve;
        const workers = live();
        if (workers.length === 0) resolve();
        // a worker still booting may miss this (it listens for messages once its server is
        // made): it is asked again when it listens
        for (const s of workers) sendDrain(s.worker!);
      });
    },
    kill: () => {
      for (const s of live()) s.worker!.process.kill('SIGKILL');
    },
  };
}
