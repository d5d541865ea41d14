import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CgroupLimiter } from '../../src/sandbox/sandbox-limits.ts';

// Several bot processes may share one host's cgroup tree (tests do; so may a deployment). A bot
// that starts clears what a killed bot left, and must not take a cgroup another live bot has just
// made for a sandbox that has not joined it yet (that boot would die).

describe('per-sandbox cgroups left behind', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** A cgroup v2 tree in a temp folder: the parent hands down memory and pids. */
  function fakeTree(): { cgroupFile: string; mountRoot: string; parent: string } {
    root = mkdtempSync(join(tmpdir(), 'vibe-cgroups-'));
    const parent = join(root, 'fs', 'bot.slice');
    mkdirSync(parent, { recursive: true });
    writeFileSync(join(parent, 'cgroup.procs'), '');
    writeFileSync(join(parent, 'cgroup.subtree_control'), 'memory pids\n');
    const cgroupFile = join(root, 'cgroup');
    writeFileSync(cgroupFile, '0::/bot.slice\n');
    return { cgroupFile, mountRoot: join(root, 'fs'), parent };
  }

  it("removes a dead bot's empty cgroups and spares a live bot's", () => {
    const { cgroupFile, mountRoot, parent } = fakeTree();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited: its pid is free
    const live = join(parent, CgroupLimiter.nameFor('app1.live'));
    const gone = join(parent, `vibe-p${dead}-app2.dead`);
    const older = join(parent, 'vibe-app3.0123abcd'); // a bot from before owners were named
    for (const d of [live, gone, older]) mkdirSync(d);
    expect(CgroupLimiter.detect(cgroupFile, mountRoot)).toBeDefined();
    expect(existsSync(live)).toBe(true);
    expect(existsSync(gone)).toBe(false);
    expect(existsSync(older)).toBe(false);
  });

  it('names each sandbox cgroup after the bot process that made it', () => {
    const { cgroupFile, mountRoot, parent } = fakeTree();
    const limiter = CgroupLimiter.detect(cgroupFile, mountRoot)!;
    const made = limiter.create(CgroupLimiter.nameFor('app1.cafe'), { memoryMiB: 64, pids: 16, cpuSeconds: 10 });
    expect(made.procs).toEqual([join(parent, `vibe-p${process.pid}-app1.cafe`, 'cgroup.procs')]);
  });
});
