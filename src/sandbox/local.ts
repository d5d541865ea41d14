import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { assertValidFiles } from '../core/files.ts';
import { isAppId } from '../core/ids.ts';
import type {
  CheckError,
  FileMap,
  Logger,
  SandboxHandle,
  SandboxProvider,
  SandboxStatus,
} from '../core/ports/index.ts';
import { AgentChannel } from './agent-channel.ts';
import { templatePlaceholder } from './app-dir.ts';
import { readBuiltFiles } from './built-files.ts';
import { EXPORT_TIMEOUT_MS, exportBuildArgv } from './export-build.ts';
import { fetchLightBuild } from './light-build-fetch.ts';
import { bwrapWorks, SANDBOX_ROOT } from './bwrap-args.ts';
import type { DevServerProcess } from './dev-server.ts';
import { DepsSeed, optimizeInSandbox } from './deps-seed.ts';
import { spawnSandboxAgent } from './local-agent.ts';
import { CgroupLimiter, DEFAULT_LIMITS, type SandboxCgroup, type SandboxLimits } from './sandbox-limits.ts';
import { combineCheck, libraryNames } from './source-check.ts';
import { SourceVetter } from './source-guard.ts';
import { typeCheck, type RunResult } from './type-check.ts';

export interface LocalSandboxOptions {
  /** Where unisolated app dirs live (isolation "none" only; an isolated sandbox writes nothing to disk). */
  appsDir: string;
  /** sandbox-template/, with its node_modules installed. */
  templateDir: string;
  logger: Logger;
  /** 'auto': bwrap when it works here, else unisolated with a warning. Default 'auto'. */
  isolation?: 'auto' | 'bwrap' | 'none';
  /** URL path the app is served under. Default `/apps/${appId}/`. */
  basePath?: (appId: string) => string;
  bootTimeoutMs?: number;
  limits?: SandboxLimits;
}

interface LocalSandbox {
  id: string;
  appId: string;
  url: string;
  server: DevServerProcess;
  agent: AgentChannel;
  /** The files last written (vetted on the way in): nothing is ever read back from the sandbox. */
  files: FileMap;
  cgroup?: SandboxCgroup;
  stopping?: Promise<void>;
}

/**
 * Runs each app as a Vite dev server behind an agent process, under bubblewrap when available
 * (see bwrap-args.ts). The bot opens the app's listening socket itself, on loopback, and hands
 * it to the agent, which accepts on it and forwards to Vite; files and the type check go
 * through the agent too. So the sandbox needs no network and no host folder of its own.
 */
export class LocalSandboxProvider implements SandboxProvider {
  private readonly sandboxes = new Map<string, LocalSandbox>();
  private readonly templateDir: string;
  private readonly appsDir: string;
  private readonly limits: SandboxLimits;
  private isolated?: boolean;
  private cgroups?: CgroupLimiter | null;
  private sourceVetter?: SourceVetter;
  private placeholder?: FileMap;
  private readonly seed: DepsSeed;

  constructor(private readonly opts: LocalSandboxOptions) {
    this.templateDir = realpathSync(opts.templateDir);
    this.appsDir = resolve(opts.appsDir);
    this.limits = opts.limits ?? DEFAULT_LIMITS;
    const where = { templateDir: this.templateDir, appsDir: this.appsDir, limits: this.limits, logger: opts.logger };
    const run = (dir: string, signal: AbortSignal) =>
      optimizeInSandbox(dir, signal, { ...where, files: this.placeholderFiles() });
    this.seed = new DepsSeed(run, opts.logger);
  }

  /** True when sandboxes run under bubblewrap (probed once). */
  isIsolated(): boolean {
    return this.useBwrap();
  }

  async boot(appId: string, files?: FileMap): Promise<SandboxHandle> {
    // The app id becomes a URL segment (and, unisolated, a directory name).
    if (!isAppId(appId)) throw new Error(`invalid app id for a sandbox: ${JSON.stringify(appId)}`);
    const isolated = this.useBwrap();
    await Promise.all([...this.sandboxes.values()].filter((s) => s.appId === appId).map((s) => this.stop(s.id)));

    const source = files ?? this.placeholderFiles();
    assertValidFiles(source);
    const refused = await this.vetter().vet(source);
    if (refused.length > 0)
      throw new Error(
        `refusing to boot ${appId}: ${refused.map((e) => `${e.file}:${e.line} ${e.message}`).join('; ')}`,
      );

    const base = this.basePath(appId);
    const id = `${appId}.${randomBytes(4).toString('hex')}`;
    const started = Date.now();
    // The app's address, opened here on the host's loopback and handed to the sandbox.
    const listener = net.createServer();
    await new Promise<void>((ok, fail) => listener.once('error', fail).listen(0, '127.0.0.1', () => ok()));
    const url = `http://127.0.0.1:${(listener.address() as net.AddressInfo).port}${base}`;
    const cgroup = isolated ? this.cgroupFor(id) : undefined;
    let server: DevServerProcess | undefined;
    try {
      server = await spawnSandboxAgent({
        id,
        appId,
        base,
        isolated,
        cgroup,
        templateDir: this.templateDir,
        appsDir: this.appsDir,
        limits: this.limits,
        logger: this.opts.logger,
        seed: isolated ? await this.seed.get() : undefined,
      });
      const agent = new AgentChannel(server.child);
      const proc = server;
      await agent.ready.catch((err: Error) => {
        throw new Error(
          `${err.message} (exit ${proc.exitSignal ?? proc.exitCode}): ${proc.output.slice(-8).join('\n')}`,
        );
      });
      await agent.request('write', { files: source });
      await agent.request('serve', {}, { handle: listener });
      listener.close(); // the sandbox holds its own copy of the socket now
      await server.waitUntilServing(url, this.opts.bootTimeoutMs ?? 30_000);
      const sandbox: LocalSandbox = { id, appId, url, server, agent, files: { ...source }, cgroup };
      this.sandboxes.set(id, sandbox);
      server.onExit(() => {
        cgroup?.remove();
        if (sandbox.stopping) return;
        this.opts.logger.warn(
          { sandboxId: id, code: server!.exitCode, signal: server!.exitSignal, output: server!.output.slice(-10) },
          'sandbox dev server exited on its own',
        );
      });
      this.opts.logger.info(
        { sandboxId: id, url, isolated, cgroup: Boolean(cgroup), bootMs: Date.now() - started },
        'sandbox booted',
      );
      return { id, url };
    } catch (err) {
      listener.close();
      await server?.kill().catch(() => undefined);
      cgroup?.remove();
      throw err;
    }
  }

  async write(id: string, files: FileMap): Promise<CheckError[]> {
    assertValidFiles(files);
    const refused = await this.vetter().vet(files);
    if (refused.length > 0) return refused;
    const sandbox = this.get(id);
    const { written, removed } = await sandbox.agent.request<{ written: string[]; removed: string[] }>('write', {
      files,
    });
    sandbox.files = { ...files };
    this.opts.logger.debug({ sandboxId: id, written, removed }, 'sandbox files written');
    return [];
  }

  async check(id: string): Promise<CheckError[]> {
    const sandbox = this.get(id);
    const started = Date.now();
    const root = this.rootOf(sandbox.appId);
    const tscErrors = await typeCheck(sandbox, (argv) => this.run(id, argv), root, this.opts.logger);
    const errors = combineCheck(sandbox.files, tscErrors);
    this.opts.logger.debug({ sandboxId: id, errors: errors.length, checkMs: Date.now() - started }, 'sandbox checked');
    return errors;
  }

  async exportBuild(id: string): Promise<Map<string, Uint8Array>> {
    // Vite runs inside the sandbox like the type check; only its checked answer comes out.
    const r = await this.run(id, exportBuildArgv(process.execPath), EXPORT_TIMEOUT_MS);
    if (r.code !== 0)
      throw new Error(`the export build failed (exit ${r.signal ?? r.code}): ${r.stderr.trim().slice(-300)}`);
    return await readBuiltFiles(r.stdout);
  }

  lightBuild(id: string, source: string): Promise<Map<string, Uint8Array>> {
    return fetchLightBuild(this.get(id).url, source);
  }

  /** Runs a command inside the sandbox (its agent starts it there): the command-line tsc, exports, tests' probes. */
  run(id: string, argv: string[], timeoutMs = 60_000): Promise<RunResult> {
    return this.get(id).agent.request('run', { argv, timeoutMs }, { timeoutMs: timeoutMs + 5000 });
  }

  async status(id: string): Promise<SandboxStatus> {
    const sandbox = this.sandboxes.get(id);
    return sandbox && !sandbox.server.exited && !sandbox.stopping ? 'running' : 'stopped';
  }

  async stop(id: string): Promise<void> {
    const sandbox = this.sandboxes.get(id);
    if (!sandbox) return;
    sandbox.stopping ??= sandbox.server.kill().then(() => {
      this.sandboxes.delete(id);
      sandbox.cgroup?.remove();
      this.opts.logger.info({ sandboxId: id }, 'sandbox stopped');
    });
    await sandbox.stopping;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.sandboxes.keys()].map((id) => this.stop(id)));
    this.sourceVetter?.close();
    this.sourceVetter = undefined;
    await this.seed.remove();
  }

  /** Process ids of a running sandbox's tree (tests use them to check what runs and that stop ends it). */
  pidOf(id: string): number | undefined {
    return this.sandboxes.get(id)?.server.pid;
  }

  private get(id: string): LocalSandbox {
    const sandbox = this.sandboxes.get(id);
    if (!sandbox || sandbox.stopping) throw new Error(`no running local sandbox ${id}`);
    return sandbox;
  }

  private basePath(appId: string): string {
    const raw = this.opts.basePath?.(appId) ?? `/apps/${appId}/`;
    return `/${raw.replace(/^\/+|\/+$/g, '')}/`.replace(/^\/\/$/, '/');
  }

  /** The app root as the sandbox's processes see it. */
  private rootOf(appId: string): string {
    return this.useBwrap() ? SANDBOX_ROOT : join(this.appsDir, appId);
  }

  /** Decided once per provider: probing bwrap costs a process spawn. */
  private useBwrap(): boolean {
    if (this.isolated !== undefined) return this.isolated;
    const mode = this.opts.isolation ?? 'auto';
    if (mode === 'none') return (this.isolated = false);
    const works = bwrapWorks();
    if (!works && mode === 'bwrap')
      throw new Error('sandbox isolation "bwrap" is required, but bwrap is missing or cannot create namespaces here');
    if (!works) this.opts.logger.warn({}, 'bwrap is missing or unusable here: local sandboxes run WITHOUT isolation');
    return (this.isolated = works);
  }

  private cgroupFor(id: string): SandboxCgroup | undefined {
    if (this.cgroups === undefined) {
      this.cgroups = CgroupLimiter.detect() ?? null;
      if (!this.cgroups)
        this.opts.logger.warn(
          {},
          'no cgroup can be made here: sandbox memory and process count are capped by rlimits only',
        );
    }
    try {
      return this.cgroups?.create(CgroupLimiter.nameFor(id), this.limits);
    } catch (err) {
      this.opts.logger.warn({ err, sandboxId: id }, 'could not make a cgroup for the sandbox; rlimits only');
      return undefined;
    }
  }

  /** The template's own src/ (the "starting" placeholder), read once. */
  private placeholderFiles(): FileMap {
    return (this.placeholder ??= templatePlaceholder(this.templateDir));
  }

  /** The source check, with the package names the app may import (libraries.json), made once. */
  private vetter(): SourceVetter {
    this.sourceVetter ??= new SourceVetter(libraryNames(this.templateDir));
    return this.sourceVetter;
  }
}
