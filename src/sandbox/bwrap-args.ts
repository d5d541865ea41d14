import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

/**
 * bubblewrap arguments that run a command with the whole file system read-only except the app
 * dir. The network is shared on purpose: the dev server listens on loopback for the bot.
 * `readOnly` stay visible even under /tmp; `hide` masks paths that hold secrets (a directory becomes an empty tmpfs, a file /dev/null).
 */
export function bwrapArgs(opts: { appDir: string; readOnly?: string[]; hide?: string[] }): string[] {
  // Order matters: later mounts cover earlier ones, so the app bind comes last, or the tmpfs on
  // /tmp (or a hidden data dir) would cover an app dir that lives below it.
  const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
  // Secrets first (the bot's home, its folder with .env and the store), then what the sandbox
  // needs (the template and its node_modules) on top, even when it lives inside a hidden folder.
  for (const p of opts.hide ?? []) {
    if (!existsSync(p)) continue;
    args.push(...(statSync(p).isDirectory() ? ['--tmpfs', p] : ['--ro-bind', '/dev/null', p]));
  }
  for (const p of opts.readOnly ?? []) args.push('--ro-bind', p, p);
  args.push('--bind', opts.appDir, opts.appDir);
  args.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try');
  args.push('--die-with-parent', '--new-session', '--chdir', opts.appDir, '--');
  return args;
}

/** True when `bwrap` exists and can actually create its namespaces here (containers may forbid it). */
export function bwrapWorks(bwrap = 'bwrap'): boolean {
  const r = spawnSync(bwrap, ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid', '--die-with-parent', '--', 'true'], {
    stdio: 'ignore',
    timeout: 10_000,
  });
  return r.status === 0;
}
