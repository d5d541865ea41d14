import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { assertValidFiles } from '../core/files.ts';
import type { Logger } from '../core/app-runtime.ts';
import type { CheckError, FileMap, SandboxHandle, SandboxProvider, SandboxStatus } from '../core/ports.ts';
import { prepareAppDir, readSrc, syncSrc } from './app-dir.ts';
import { bwrapArgs, bwrapWorks } from './bwrap-args.ts';
import { DevServerProcess } from './dev-server.ts';
import { freePort } from './free-port.ts';
import { sandboxEnv } from './sandbox-env.ts';
import { combineCheck, libraryNames } from './source-check.ts';
import { parseTscOutput } from './tsc-output.ts';

/** The pino methods this provider uses: the core's Logger. */
export type SandboxLogger = Logger;

export interface LocalSandboxOptions {
  /** Where app dirs live (a cache: the store is the source of truth). */
  appsDir: string;
  /** sandbox-template/, with its node_modules installed. */
  templateDir: string;
  logger: SandboxLogger;
  /** 'auto': bwrap when it works here, else unisolated with a warning. Default 'auto'. */
  isolation?: 'auto' | 'bwrap' | 'none';
  /** URL path the app is served under. Default `/apps/${appId}/`. */
  basePath?: (appId: string) => string;
  /** Paths masked inside bwrap because they hold secrets (e.g. the bot's .env, its data dir). */
  hide?: string[];
  bootTimeoutMs?: number;
}

interface LocalSandbox {
  id: string;
  appId: string;
  appDir: string;
  url: string;
  server: DevServerProcess;
  stopping?: Promise<void>;
}

const execFileAsync = promisify(execFile);

/** Runs each app as a Vite dev server process on loopback, under bubblewrap when available. */
export class LocalSandboxProvider implements SandboxProvider {
  private readonly sandboxes = new Map<string, LocalSandbox>();
  private readonly templateDir: string;
  private readonly appsDir: string;
  private isolated?: boolean;
  private libraries?: string[];

  constructor(private readonly opts: LocalSandboxOptions) {
    // Real paths: bwrap binds and Vite's fs.allow compare resolved paths.
    this.templateDir = realpathSync(opts.templateDir);
    this.appsDir = resolve(opts.appsDir);
  }

  async boot(appId: string, files?: FileMap): Promise<SandboxHandle> {
    // The app id becomes a directory name and a URL segment.
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(appId)) throw new Error(`invalid app id for a sandbox: ${JSON.stringify(appId)}`);
    const isolated = this.useBwrap();
    // Two servers must never share one app dir.
    await Promise.all([...this.sandboxes.values()].filter((s) => s.appId === appId).map((s) => this.stop(s.id)));

    const appDir = join(this.appsDir, appId);
    const source = files ?? (await readSrc(this.templateDir));
    assertValidFiles(source);
    await prepareAppDir(this.templateDir, appDir);
    await syncSrc(appDir, source);

    const base = this.basePath(appId);
    const id = `${appId}.${randomBytes(4).toString('hex')}`;
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}${base}`;
      const server = this.spawnVite(id, appDir, base, port, isolated);
      try {
        await server.waitUntilServing(url, this.opts.bootTimeoutMs ?? 30_000);
      } catch (err) {
        await server.kill().catch(() => undefined);
        // Another process may take the port between freePort() and Vite's listen.
        if (attempt < 3 && server.output.some((l) => /already in use|EADDRINUSE/i.test(l))) continue;
        throw err;
      }
      const sandbox: LocalSandbox = { id, appId, appDir, url, server };
      this.sandboxes.set(id, sandbox);
      server.onExit(() => {
        if (sandbox.stopping) return;
        this.opts.logger.warn({ sandboxId: id, code: server.exitCode, signal: server.exitSignal, output: server.output.slice(-10) }, 'sandbox dev server exited on its own');
      });
      this.opts.logger.info({ sandboxId: id, url, isolated, bootMs: Date.now() - started }, 'sandbox booted');
      return { id, url };
    }
  }

  async write(id: string, files: FileMap): Promise<void> {
    assertValidFiles(files);
    const sandbox = this.get(id);
    const { written, removed } = await syncSrc(sandbox.appDir, files);
    this.opts.logger.debug({ sandboxId: id, written, removed }, 'sandbox files written');
  }

  async check(id: string): Promise<CheckError[]> {
    const sandbox = this.get(id);
    const started = Date.now();
    const files = await readSrc(sandbox.appDir);
    const errors = combineCheck(files, await this.runTsc(sandbox.appDir), this.libraryNames());
    this.opts.logger.debug({ sandboxId: id, errors: errors.length, checkMs: Date.now() - started }, 'sandbox checked');
    return errors;
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
      this.opts.logger.info({ sandboxId: id }, 'sandbox stopped');
    });
    await sandbox.stopping;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.sandboxes.keys()].map((id) => this.stop(id)));
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

  /** Decided once per provider: probing bwrap costs a process spawn. */
  private useBwrap(): boolean {
    if (this.isolated !== undefined) return this.isolated;
    const mode = this.opts.isolation ?? 'auto';
    if (mode === 'none') return (this.isolated = false);
    const works = bwrapWorks();
    if (!works && mode === 'bwrap') throw new Error('sandbox isolation "bwrap" is required, but bwrap is missing or cannot create namespaces here');
    if (!works) this.opts.logger.warn({}, 'bwrap is missing or unusable here: local sandboxes run WITHOUT isolation');
    return (this.isolated = works);
  }

  private spawnVite(id: string, appDir: string, base: string, port: number, isolated: boolean): DevServerProcess {
    // 'runner' loads vite.config.ts in memory: the default bundler writes a temp file into
    // node_modules, which is the template's, read-only and shared.
    const vite = [process.execPath, join(this.templateDir, 'node_modules', 'vite', 'bin', 'vite.js'), '--configLoader', 'runner'];
    const [command, args] = isolated
      ? ['bwrap', [...bwrapArgs({ appDir, readOnly: [this.templateDir, realpathSync(join(this.templateDir, 'node_modules'))], hide: this.opts.hide }), ...vite]]
      : [vite[0]!, vite.slice(1)];
    const env = sandboxEnv({ appDir, base, port });
    return new DevServerProcess(command as string, args as string[], { cwd: appDir, env }, (line) =>
      this.opts.logger.debug({ sandboxId: id, line }, 'vite'),
    );
  }

  /** tsc executes nothing, so it runs outside bwrap; it still gets no secret from our env. */
  private async runTsc(appDir: string): Promise<CheckError[]> {
    const tsc = join(this.templateDir, 'node_modules', 'typescript', 'bin', 'tsc');
    const env = sandboxEnv({ appDir, base: '/', port: 0 });
    try {
      await execFileAsync(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', appDir], { cwd: appDir, env, timeout: 60_000, maxBuffer: 16 << 20 });
      return [];
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      const errors = parseTscOutput(`${e.stdout ?? ''}\n${e.stderr ?? ''}`, appDir);
      if (errors.length === 0) throw new Error(`tsc failed without diagnostics: ${e.message}`);
      return errors;
    }
  }

  /** Package names the app may import (libraries.json), read once. */
  private libraryNames(): string[] {
    this.libraries ??= libraryNames(this.templateDir);
    return this.libraries;
  }
}
