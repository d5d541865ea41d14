import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What one local sandbox may use (VIBE_SANDBOX_MEMORY, VIBE_SANDBOX_PIDS, VIBE_SANDBOX_CPU_SECONDS). */
export interface SandboxLimits {
  memoryMiB: number;
  pids: number;
  /** CPU seconds per process (RLIMIT_CPU): a runaway loop is killed, an idle dev server lives on. */
  cpuSeconds: number;
}

export const DEFAULT_LIMITS: SandboxLimits = { memoryMiB: 1024, pids: 256, cpuSeconds: 1800 };

/**
 * Resource limits that need no privilege, set by `prlimit` in front of the sandbox and
 * inherited by everything in it: CPU seconds, open files, file size, no core dumps, and an
 * address-space cap. V8 and Go (tsc) reserve far more address space than they use, so that cap
 * is only a backstop; the memory limit proper is a cgroup's where one can be made (below), and
 * Node's heap is capped through NODE_OPTIONS.
 */
export function prlimitArgs(limits: SandboxLimits): string[] {
  const addressSpace = Math.max(16384, limits.memoryMiB * 8) * 1024 * 1024;
  return [
    'prlimit',
    `--cpu=${limits.cpuSeconds}`,
    '--nofile=4096',
    `--fsize=${256 << 20}`,
    '--core=0',
    `--as=${addressSpace}`,
    '--',
  ];
}

/** A cgroup (v2, or v1 memory + pids controllers) made for one sandbox; its processes join it before bwrap starts. */
export interface SandboxCgroup {
  /** The cgroup.procs files the sandbox's first process writes its pid to. */
  procs: string[];
  remove(): void;
}

/**
 * Makes per-sandbox cgroups with a memory and a process-count limit, where this process may
 * (root, or a delegated cgroup v2 subtree); `available` is false elsewhere, and then the
 * rlimits above are all there is (RLIMIT_NPROC counts a whole user's processes and does not
 * bind root, so it is not used).
 */
export class CgroupLimiter {
  private constructor(private readonly parents: { dir: string; kind: 'v2' | 'memory' | 'pids' }[]) {
    // Left by a bot that was killed: empty ones go (a live sandbox's cgroup is busy and stays).
    // Another bot process on this host may have just made one its sandbox has not joined yet
    // (empty, and removing it would kill that boot): only a dead owner's cgroups are stale.
    for (const p of parents) {
      const stale = readdirSync(p.dir).filter((n) => n.startsWith('vibe-') && !ownerAlive(n));
      removeDirs(
        stale.map((n) => join(p.dir, n)),
        1,
      );
    }
  }

  /** The cgroup name for a sandbox of this process: its pid in it says whose it is. */
  static nameFor(sandboxId: string): string {
    return `vibe-p${process.pid}-${sandboxId}`;
  }

  static detect(cgroupFile = '/proc/self/cgroup', mountRoot = '/sys/fs/cgroup'): CgroupLimiter | undefined {
    let lines: string[];
    try {
      lines = readFileSync(cgroupFile, 'utf8').trim().split('\n');
    } catch {
      return undefined;
    }
    const own = (controller: string) =>
      lines.map((l) => l.split(':')).find((p) => p[1]?.split(',').includes(controller))?.[2];
    const v1Memory = own('memory');
    const v1Pids = own('pids');
    if (v1Memory !== undefined && v1Pids !== undefined) {
      const parents = [
        { dir: join(mountRoot, 'memory', v1Memory), kind: 'memory' as const },
        { dir: join(mountRoot, 'pids', v1Pids), kind: 'pids' as const },
      ];
      if (parents.every((p) => writable(p.dir))) return new CgroupLimiter(parents);
      return undefined;
    }
    const v2 = lines.find((l) => l.startsWith('0::'))?.slice(3);
    if (v2 === undefined) return undefined;
    const dir = join(mountRoot, v2);
    const enabled = (() => {
      try {
        return readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
      } catch {
        return [];
      }
    })();
    // A child may only limit what its parent hands down; enabling it here would break the no-internal-processes rule.
    if (!enabled.includes('memory') || !enabled.includes('pids') || !writable(dir)) return undefined;
    return new CgroupLimiter([{ dir, kind: 'v2' }]);
  }

  create(name: string, limits: SandboxLimits): SandboxCgroup {
    const made: string[] = [];
    try {
      for (const parent of this.parents) {
        const dir = join(parent.dir, name);
        mkdirSync(dir);
        made.push(dir);
        const bytes = String(limits.memoryMiB * 1024 * 1024);
        if (parent.kind === 'v2') {
          writeFileSync(join(dir, 'memory.max'), bytes);
          writeFileSync(join(dir, 'memory.swap.max'), '0');
          writeFileSync(join(dir, 'pids.max'), String(limits.pids));
        } else if (parent.kind === 'memory') {
          writeFileSync(join(dir, 'memory.limit_in_bytes'), bytes);
        } else {
          writeFileSync(join(dir, 'pids.max'), String(limits.pids));
        }
      }
    } catch (err) {
      removeDirs(made);
      throw err;
    }
    return { procs: made.map((d) => join(d, 'cgroup.procs')), remove: () => removeDirs(made) };
  }
}

/** Whether the bot process that made cgroup `name` still runs (names without an owner are an older bot's). */
function ownerAlive(name: string): boolean {
  const pid = /^vibe-p(\d+)-/.exec(name)?.[1];
  if (!pid) return name.startsWith('vibe-probe-');
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function writable(dir: string): boolean {
  if (!existsSync(join(dir, 'cgroup.procs'))) return false;
  const probe = join(dir, `vibe-probe-${process.pid}`);
  try {
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

/** A cgroup dir can go once its last process has been reaped: busy ones are tried again a few times. */
function removeDirs(dirs: string[], tries = 5): void {
  const busy = dirs.filter((d) => {
    try {
      rmdirSync(d);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EBUSY';
    }
  });
  if (busy.length > 0 && tries > 1) setTimeout(() => removeDirs(busy, tries - 1), 500).unref();
}

/**
 * The command prefix that puts the sandbox's first process into `cgroup` before it execs the
 * rest (so nothing it starts escapes the limits): plain sh, no helper binary.
 */
export function joinCgroupArgs(cgroup: SandboxCgroup | undefined): string[] {
  if (!cgroup) return [];
  const script = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 97; shift; n=$((n-1)); done; exec "$@"';
  return ['/bin/sh', '-c', script, 'sh', String(cgroup.procs.length), ...cgroup.procs];
}
