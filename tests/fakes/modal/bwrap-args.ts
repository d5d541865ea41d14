import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { isBuiltImage } from './sandbox-root.ts';

export interface SandboxMounts {
  /** Host folder bound read-write at `workdir`. */
  rootDir: string;
  workdir: string;
  /** Host folder with the agent, its config and its socket, bound read-write at `controlMount`. */
  controlDir: string;
  controlMount: string;
  /** The image directory (node_modules symlinks point into it), bound read-only at its own path. */
  imageDir: string;
}

/**
 * bwrap arguments for one sandbox: the host's `/` read-only, fresh /dev, /proc and /tmp, the
 * sandbox's files at its workdir, and its own network and pid namespaces (ports do not clash
 * between sandboxes; killing the namespace's first process ends every process in it).
 *
 * `/` is bound entry by entry instead of `--ro-bind / /`, because bwrap cannot create mount
 * points such as `/app` inside a read-only bind.
 */
export function bwrapArgs(m: SandboxMounts): string[] {
  const own = new Set([topLevel(m.workdir), topLevel(m.controlMount), 'dev', 'proc', 'sys', 'tmp']);
  const args: string[] = [];
  for (const entry of readdirSync('/')) {
    if (own.has(entry)) continue;
    const hostPath = `/${entry}`;
    const st = lstatSync(hostPath);
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(hostPath), hostPath);
    else args.push('--ro-bind', hostPath, hostPath);
  }
  args.push('--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp');
  // After the tmpfs, so an image directory under /tmp stays visible.
  args.push('--ro-bind', m.imageDir, m.imageDir);
  args.push('--bind', m.rootDir, m.workdir, '--bind', m.controlDir, m.controlMount);
  // A built image's node_modules at its place, as on Modal (see sandbox-root.ts).
  const modules = path.join(m.imageDir, 'node_modules');
  if (isBuiltImage(m.imageDir) && existsSync(modules))
    args.push('--ro-bind', modules, path.posix.join(m.workdir, 'node_modules'));
  args.push(
    '--unshare-net',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--die-with-parent',
    '--chdir',
    m.workdir,
  );
  return args;
}

function topLevel(p: string): string {
  return path.posix.normalize(p).split('/')[1] ?? '';
}
