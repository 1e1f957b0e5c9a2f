/**
 * CPU time a process has used so far (every thread of it, user and system), read from Linux's
 * `/proc/<pid>/stat`: what the dev server and the worker spend per tile says where the 2 cores
 * go and what throughput they allow at most.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

let ticksPerSecond: number | undefined;

/** Clock ticks per second, the unit of `/proc/<pid>/stat` times (100 on common kernels). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const told = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    ticksPerSecond = Number.isFinite(told) && told > 0 ? told : 100;
  }
  return ticksPerSecond;
}

/** Seconds of CPU used by `pid`, or undefined where `/proc` cannot tell (not Linux, process gone). */
export async function cpuSeconds(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, so it is skipped by its ')').
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return undefined;
  }
}

/** CPU seconds `pid` uses between `start()` and `stop()`. */
export async function cpuMeter(pid: number): Promise<{ stop(): Promise<number | undefined> }> {
  const before = await cpuSeconds(pid);
  return {
    async stop() {
      const after = await cpuSeconds(pid);
      return before === undefined || after === undefined ? undefined : after - before;
    },
  };
}
