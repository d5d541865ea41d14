import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileMap, Logger } from '../core/ports/index.ts';
import { AgentChannel } from './agent-channel.ts';
import { SANDBOX_ROOT } from './bwrap-args.ts';
import { spawnSandboxAgent } from './local-agent.ts';
import type { SandboxLimits } from './sandbox-limits.ts';

/** How long after the seed was begun a boot may wait for it; later boots go without it. */
const SEED_WAIT_MS = 20_000;
/** The seed's whole run, its sandbox's start included: past it, that sandbox is stopped. */
const SEED_MAKE_MS = 90_000;

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
  private making?: { dir: string; deps: Promise<string | undefined>; until: number; abort: AbortController };

  constructor(
    /** Runs the optimizer in a sandbox whose cache is `cacheDir` on the host; stops it on `signal`. */
    private readonly optimize: (cacheDir: string, signal: AbortSignal) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  /**
   * The seed's `deps` folder: made on the first call; every boot waits for it until SEED_WAIT_MS
   * after it was begun, none longer; undefined when it is not made by then or could not be made
   * (boots go on without it: Vite then bundles the dependencies itself).
   */
  async get(): Promise<string | undefined> {
    this.making ??= this.make();
    const { deps, until } = this.making;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>(
      (resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, until - Date.now()))),
    );
    try {
      return await Promise.race([deps, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops a seed still being made and removes it from the host (the provider is closing); a later boot makes it again. */
  async remove(): Promise<void> {
    const making = this.making;
    this.making = undefined;
    if (!making) return;
    making.abort.abort();
    await making.deps;
    rmSync(making.dir, { recursive: true, force: true });
  }

  private make(): NonNullable<DepsSeed['making']> {
    const started = Date.now();
    const dir = mkdtempSync(join(tmpdir(), 'vibe-deps-'));
    const abort = new AbortController();
    const deps = (async () => {
      try {
        await this.optimize(dir, AbortSignal.any([abort.signal, AbortSignal.timeout(SEED_MAKE_MS)]));
        const deps = join(dir, 'deps');
        if (!existsSync(join(deps, '_metadata.json'))) throw new Error('the optimizer left no deps/_metadata.json');
        this.logger.info(
          { ms: Date.now() - started },
          "Vite's pre-bundled dependencies are made; sandboxes start with them",
        );
        return deps;
      } catch (err) {
        rmSync(dir, { recursive: true, force: true });
        if (!abort.signal.aborted)
          this.logger.warn(
            { err: (err as Error).message.slice(0, 300) },
            "Vite's pre-bundled dependencies could not be made: each sandbox bundles them itself",
          );
        return undefined;
      }
    })();
    return { dir, deps, until: started + SEED_WAIT_MS, abort };
  }
}

/**
 * The seed's run: an isolated sandbox like any other (the template's own placeholder in src/,
 * no app's code) whose cache is `cacheDir` on the host, running Vite's optimizer and nothing else.
 */
export async function optimizeInSandbox(
  cacheDir: string,
  signal: AbortSignal,
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
  const stopped = new Promise<never>((_, reject) => {
    const stop = () => reject(new Error('the seed was stopped (closing, or past its deadline)'));
    if (signal.aborted) stop();
    signal.addEventListener('abort', stop, { once: true });
  });
  stopped.catch(() => undefined);
  try {
    const agent = new AgentChannel(server.child);
    await Promise.race([agent.ready, stopped]);
    await Promise.race([agent.request('write', { files }), stopped]);
    const vite = join(SANDBOX_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
    const argv = [process.execPath, vite, 'optimize', '--configLoader', 'runner', '--logLevel', 'warn'];
    const r = await Promise.race([
      agent.request<{ code: number | null; stderr: string }>('run', { argv, timeoutMs: 60_000 }, { timeoutMs: 65_000 }),
      stopped,
    ]);
    if (r.code !== 0) throw new Error(`vite optimize exited ${r.code}: ${r.stderr.trim().slice(-300)}`);
  } finally {
    await server.kill();
  }
}
