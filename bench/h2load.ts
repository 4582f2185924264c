/**
 * Helpers shared by the benchmarks that drive servers with h2load (`bench/server.ts`,
 * `bench/frameworks.ts`): statistics over rounds, tool detection, free ports, one h2load run.
 */
import { execFileSync, spawn } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';

/** Median of the rounds. */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
/** Half the range of the rounds. */
export const spread = (xs: number[]): number => (Math.max(...xs) - Math.min(...xs)) / 2;

/** Whether a command is installed. */
export function has(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** One h2load run: requests and megabytes per second, and whether every request succeeded. */
export function h2load(args: string[]): Promise<{ rps: number; mbps: number; ok: boolean }> {
  return new Promise((resolve) => {
    const p = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('exit', () => {
      const m = /finished in [\d.]+m?s, ([\d.]+) req\/s, ([\d.]+)([KMG]?)B\/s/.exec(out);
      const f = /(\d+) failed, (\d+) errored/.exec(out);
      const scale = { '': 1e-6, K: 1e-3, M: 1, G: 1e3 }[m?.[3] ?? ''] ?? 1;
      resolve({ rps: m ? Number(m[1]) : 0, mbps: m ? Number(m[2]) * scale : 0, ok: !!m && f !== null && f[1] === '0' && f[2] === '0' });
    });
  });
}
