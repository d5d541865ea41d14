import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where the app lives inside every local sandbox (each has its own mount namespace). */
export const SANDBOX_ROOT = '/app';
export const SANDBOX_HOME = '/home';
export const SANDBOX_CACHE = '/cache';
/** Where a sandbox finds the seed of Vite's pre-bundled dependencies (see deps-seed.ts). */
export const SANDBOX_SEED = '/seed';

/** Sizes of the in-memory file systems a sandbox may write (they count against its memory). */
const TMPFS_BYTES = { src: 16 << 20, home: 16 << 20, tmp: 256 << 20, cache: 256 << 20 };

/** System folders a dynamically linked program needs; a merged-/usr system has symlinks for most. */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * bubblewrap arguments for one local sandbox. Nothing of the host is visible but the system's
 * programs and libraries, Node, and the template (read-only at /app, node_modules included);
 * every writable place is a size-capped tmpfs (src/, Vite's cache, HOME, /tmp), so nothing the
 * sandbox writes lands on the host's disk. Every namespace is new (network included: the
 * sandbox has only its own loopback), no capability is kept, it cannot make namespaces of its
 * own, it dies with the bot, and it sees exactly the environment in `env`.
 */
export function bwrapArgs(opts: {
  templateDir: string;
  env: Record<string, string>;
  nodePath?: string;
  /** Host folder of Vite's pre-bundled dependencies, read-only at SANDBOX_SEED (see deps-seed.ts). */
  seed?: string;
  /** Host folder bound writable as the cache: only for the seed's own run, which runs no app code. */
  cacheOnHost?: string;
}): string[] {
  const args = [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--cap-drop',
    'ALL',
    '--die-with-parent',
    '--new-session',
    '--clearenv',
  ];
  for (const [k, v] of Object.entries(opts.env)) args.push('--setenv', k, v);
  for (const dir of SYSTEM_DIRS) {
    if (!existsSync(dir)) continue;
    const st = lstatSync(dir);
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else if (st.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  // Node itself, when it is not a system package (nvm, /opt, /usr/local on some systems).
  const nodePrefix = dirname(dirname(realpathSync(opts.nodePath ?? process.execPath)));
  if (!SYSTEM_DIRS.some((d) => nodePrefix === d || nodePrefix.startsWith(`${d}/`)))
    args.push('--ro-bind', nodePrefix, nodePrefix);
  args.push('--proc', '/proc', '--dev', '/dev');
  args.push('--size', String(TMPFS_BYTES.tmp), '--tmpfs', '/tmp');
  args.push('--size', String(TMPFS_BYTES.home), '--tmpfs', SANDBOX_HOME);
  if (opts.cacheOnHost) args.push('--bind', opts.cacheOnHost, SANDBOX_CACHE);
  else args.push('--size', String(TMPFS_BYTES.cache), '--tmpfs', SANDBOX_CACHE);
  // -try: a seed removed as the provider closes leaves a boot without it, not failed.
  if (opts.seed) args.push('--ro-bind-try', opts.seed, SANDBOX_SEED);
  args.push('--ro-bind', opts.templateDir, SANDBOX_ROOT);
  // The template's own src/ is the mount point; the app's files arrive through the agent.
  args.push('--size', String(TMPFS_BYTES.src), '--tmpfs', `${SANDBOX_ROOT}/src`);
  args.push('--chdir', SANDBOX_ROOT, '--');
  return args;
}

/** True when `bwrap` exists and can create every namespace the profile uses here (containers may forbid it). */
export function bwrapWorks(bwrap = 'bwrap'): boolean {
  const r = spawnSync(
    bwrap,
    [
      '--unshare-all',
      '--unshare-user',
      '--disable-userns',
      '--cap-drop',
      'ALL',
      '--ro-bind',
      '/',
      '/',
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--die-with-parent',
      '--',
      'true',
    ],
    {
      stdio: 'ignore',
      timeout: 10_000,
    },
  );
  return r.status === 0;
}
