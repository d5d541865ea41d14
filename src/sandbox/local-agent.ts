import { join } from 'node:path';
import type { Logger } from '../core/ports/index.ts';
import { prepareAppDir } from './app-dir.ts';
import { bwrapArgs, SANDBOX_CACHE, SANDBOX_HOME, SANDBOX_ROOT, SANDBOX_SEED } from './bwrap-args.ts';
import { DevServerProcess } from './dev-server.ts';
import { portToListenOnLater } from './free-port.ts';
import { joinCgroupArgs, prlimitArgs, type SandboxCgroup, type SandboxLimits } from './sandbox-limits.ts';
import { sandboxEnv } from './sandbox-env.ts';

/** Vite's port inside a sandbox's own network namespace (every sandbox can use the same one). */
const VITE_PORT = 5173;

/**
 * Starts a local sandbox's agent (sandbox-template/agent/): isolated, under bubblewrap inside its
 * cgroup and rlimits; else as a plain process in a working folder made from the template.
 */
export async function spawnSandboxAgent(opts: {
  id: string;
  appId: string;
  base: string;
  isolated: boolean;
  cgroup: SandboxCgroup | undefined;
  templateDir: string;
  appsDir: string;
  limits: SandboxLimits;
  logger: Logger;
  /** Isolated only: the seed of Vite's pre-bundled dependencies, copied into the sandbox's cache. */
  seed?: string;
  /** Isolated only: the cache on the host, writable (the seed's own run, see deps-seed.ts). */
  cacheOnHost?: string;
}): Promise<DevServerProcess> {
  const { id, appId, base, isolated, cgroup, templateDir, appsDir, limits, logger, seed, cacheOnHost } = opts;
  const root = isolated ? SANDBOX_ROOT : join(appsDir, appId);
  const env = sandboxEnv({
    root,
    home: isolated ? SANDBOX_HOME : join(root, '.home'),
    cacheDir: isolated ? SANDBOX_CACHE : undefined,
    base,
    port: isolated ? VITE_PORT : await portToListenOnLater(),
    heapMiB: Math.max(256, Math.floor(limits.memoryMiB / 2)),
  });
  const agent = join(root, 'agent', 'agent.mjs');
  const onLine = (line: string) => logger.debug({ sandboxId: id, line }, 'sandbox');
  if (!isolated) {
    await prepareAppDir(templateDir, root);
    return new DevServerProcess(
      process.execPath,
      [join(templateDir, 'agent', 'agent.mjs')],
      { cwd: root, env },
      onLine,
    );
  }
  // Inside, NODE_CHANNEL_FD names the IPC pipe (fd 3, see DevServerProcess): --clearenv drops Node's own.
  const inner = {
    ...env,
    NODE_CHANNEL_FD: '3',
    NODE_CHANNEL_SERIALIZATION_MODE: 'json',
    ...(seed ? { VIBE_DEPS_SEED: SANDBOX_SEED } : {}),
  };
  const argv = [
    ...joinCgroupArgs(cgroup),
    ...prlimitArgs(limits),
    'bwrap',
    ...bwrapArgs({ templateDir, env: inner, seed, cacheOnHost }),
    process.execPath,
    agent,
  ];
  return new DevServerProcess(argv[0]!, argv.slice(1), { cwd: '/', env: { PATH: env.PATH! } }, onLine);
}
