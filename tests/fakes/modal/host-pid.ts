import { readdirSync, readFileSync } from 'node:fs';

interface ProcInfo {
  pid: number;
  ppid: number;
  nsPids: number[];
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
    const nsPids = (/^NSpid:\s+(.*)$/m.exec(status)?.[1] ?? String(pid)).trim().split(/\s+/).map(Number);
    return { pid, ppid, nsPids };
  } catch {
    return undefined; // the process exited meanwhile
  }
}

/**
 * The host pid of the process that is `innerPid` in a pid namespace created under
 * `ancestorPid` (the sandbox's bwrap): sandbox pids are namespaced, tests want host pids.
 */
export function hostPidOf(innerPid: number, ancestorPid: number): number | undefined {
  const procs = readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map((n) => readProc(Number(n)))
    .filter((p): p is ProcInfo => p !== undefined);
  const parent = new Map(procs.map((p) => [p.pid, p.ppid]));
  const descends = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === ancestorPid) return true;
    return false;
  };
  return procs.find((p) => p.nsPids.length > 1 && p.nsPids.at(-1) === innerPid && descends(p.pid))?.pid;
}

/** Direct children of `pid`. */
export function childPids(pid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map((n) => readProc(Number(n)))
    .filter((p): p is ProcInfo => p !== undefined && p.ppid === pid)
    .map((p) => p.pid);
}
