/**
 * CPU and memory of a process, read from Linux's /proc (the benchmark's
 * machine): the bot's process includes its worker threads, so this is the
 * whole program's cost, not one thread's.
 */
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) the process used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces, so split after its closing parenthesis).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return kb * 1024;
}

/** Measures a process over a stretch of time: CPU share (1 = one core busy) and peak RSS. */
export function sampleProcess(pid: number, everyMs = 100) {
  const startedCpu = cpuSeconds(pid);
  const startedAt = performance.now();
  let peakRss = rssBytes(pid);
  const timer = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, rssBytes(pid));
    } catch {
      // The process ended; the last reading stands.
    }
  }, everyMs);
  return {
    stop(): { cpuCores: number; peakRssBytes: number } {
      clearInterval(timer);
      const seconds = (performance.now() - startedAt) / 1000;
      return { cpuCores: (cpuSeconds(pid) - startedCpu) / seconds, peakRssBytes: peakRss };
    },
  };
}
