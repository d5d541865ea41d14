import { readdirSync, readFileSync } from 'node:fs';

interface Proc {
  pid: number;
  ppid: number;
  pssKb: number;
  cmd: string;
  /** The whole command line, its arguments joined by spaces. */
  cmdline: string;
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      // Pss: shared pages divided among the processes sharing them, so a tree's sum is not inflated.
      const rss = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${name}/smaps_rollup`, 'utf8'))?.[1];
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      out.push({ pid: Number(name), ppid, pssKb: Number(rss ?? 0), cmd: argv[0] ?? '', cmdline: argv.join(' ') });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Pids of the Chromium browser processes this process started with `flag` (their children not included). */
export function chromiumPids(flag: string): Set<number> {
  return new Set(
    processes()
      .filter((p) => p.ppid === process.pid && /chrom/i.test(p.cmd) && p.cmdline.includes(flag))
      .map((p) => p.pid),
  );
}

/** Proportional resident memory (PSS, MB) of the Chromium browsers this process started, except `except`, with all their descendants. */
export function browserTreePssMb(except: Set<number>): number {
  const all = processes();
  const roots = all.filter((p) => p.ppid === process.pid && /chrom/i.test(p.cmd) && !except.has(p.pid));
  const inTree = new Set(roots.map((p) => p.pid));
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all)
      if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
        inTree.add(p.pid);
        grew = true;
      }
  }
  return all.filter((p) => inTree.has(p.pid)).reduce((kb, p) => kb + p.pssKb, 0) / 1024;
}
