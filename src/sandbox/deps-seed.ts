import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileMap, Logger } from '../core/ports/index.ts';
import { AgentChannel } from './agent-channel.ts';
import { SANDBOX_ROOT } from './bwrap-args.ts';
import { spawnSandboxAgent } from './local-agent.ts';
import type { SandboxLimits } from './sandbox-limits.ts';

/** How long a boot waits for a seed still being made before it goes without. */
const SEED_WAIT_MS = 20_000;

/**
 * Vite's pre-bundled dependencies (its dep optimizer's output: React, recharts, yjs…), made once
 * per provider and copied into every isolated sandbox's own cache as it boots. Without it each
 * dev server spends its first seconds of CPU bundling the same libraries, on the cores the
 * create's build and checks need. The seed is made by a sandbox that runs nothing but the
 * template and Vite (no app's code ever runs in it, so nothing hostile can be in it); sandboxes
 * get it read-only. Vite checks the seed's hash against its own config and lockfile and bundles
 * afresh where they differ, so a stale seed costs what no seed costs.
 */
export class DepsSeed {
  private making?: Promise<string | undefined>;
  private dir?: string;

  constructor(
    /** Runs the optimizer in a sandbox whose cache is `cacheDir` on the host. */
    private readonly optimize: (cacheDir: string) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  /**
   * The seed's `deps` folder: made on the first call (which waits for it, at most SEED_WAIT_MS),
   * then at once; undefined when it could not be made (boots go on without it, and say so once).
   */
  async get(): Promise<string | undefined> {
    this.making ??= this.make();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), SEED_WAIT_MS)));
    try {
      return await Promise.race([this.making, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Removes the seed from the host (the provider is closing). */
  async remove(): Promise<void> {
    await this.making?.catch(() => undefined);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.making = undefined; // made again by the next boot
  }

  private async make(): Promise<string | undefined> {
    const started = Date.now();
    const dir = (this.dir = mkdtempSync(join(tmpdir(), 'vibe-deps-')));
    try {
      await this.optimize(dir);
      const deps = join(dir, 'deps');
      if (!existsSync(join(deps, '_metadata.json'))) throw new Error('the optimizer left no deps/_metadata.json');
      this.logger.info(
        { ms: Date.now() - started },
        "Vite's pre-bundled dependencies are made; sandboxes start with them",
      );
      return deps;
    } catch (err) {
      this.logger.warn(
        { err: (err as Error).message.slice(0, 300) },
        "Vite's pre-bundled dependencies could not be made: each sandbox bundles them itself",
      );
      return undefined;
    }
  }
}

/**
 * The seed's run: an isolated sandbox like any other (the template's own placeholder in src/,
 * no app's code) whose cache is `cacheDir` on the host, running Vite's optimizer and nothing else.
 */
export async function optimizeInSandbox(
  cacheDir: string,
  opts: { templateDir: string; appsDir: string; limits: SandboxLimits; logger: Logger; files: FileMap },
): Promise<void> {
  const { files, ...where } = opts;
  const server = await spawnSandboxAgent({
    ...where,
    id: 'deps-seed',
    appId: 'deps-seed',
    base: '/',
    isolated: true,
    cgroup: undefined,
    cacheOnHost: cacheDir,
  });
  try {
    const agent = new AgentChannel(server.child);
    await agent.ready;
    await agent.request('write', { files });
    const vite = join(SANDBOX_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
    const argv = [process.execPath, vite, 'optimize', '--configLoader', 'runner', '--logLevel', 'warn'];
    const r = await agent.request<{ code: number | null; stderr: string }>(
      'run',
      { argv, timeoutMs: 60_000 },
      { timeoutMs: 65_000 },
    );
    if (r.code !== 0) throw new Error(`vite optimize exited ${r.code}: ${r.stderr.trim().slice(-300)}`);
  } finally {
    await server.kill();
  }
}
