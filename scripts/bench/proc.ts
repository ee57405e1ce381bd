// CPU time of processes from /proc (Linux): which ones descend from a pid, and how many
// milliseconds of user+system time the `workerd` ones among them have used so far.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined; // exited meanwhile
  }
  // "pid (comm) state ppid … utime stime …": comm may hold spaces and parentheses.
  const close = text.lastIndexOf(")");
  const fields = text.slice(close + 2).split(" ");
  const comm = text.slice(text.indexOf("(") + 1, close);
  return { pid, comm, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}

/** Every live process below `rootPid` (not the root itself). */
export function descendants(rootPid: number): ProcStat[] {
  const stats = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((stat): stat is ProcStat => stat !== undefined);
  const found: ProcStat[] = [];
  const parents = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const stat of stats) {
      if (parents.has(stat.ppid) && !parents.has(stat.pid)) {
        parents.add(stat.pid);
        found.push(stat);
        grew = true;
      }
    }
  }
  return found;
}

/** CPU ticks used so far by each `workerd` process below `rootPid`. */
export function workerdTicks(rootPid: number): Map<number, number> {
  return new Map(descendants(rootPid).filter((stat) => stat.comm === "workerd").map((stat) => [stat.pid, stat.ticks]));
}

/**
 * workerd CPU milliseconds between two snapshots. A workerd that wrangler started in between (a
 * reload) counts from zero; one that exited loses what it used since `before`.
 */
export function cpuMsBetween(before: Map<number, number>, after: Map<number, number>): number {
  let ticks = 0;
  for (const [pid, used] of after) ticks += used - (before.get(pid) ?? 0);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}
