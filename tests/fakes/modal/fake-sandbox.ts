import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connectPort, openExec } from './agent-client.ts';
import { bwrapArgs } from './bwrap-args.ts';
import { FakeExec } from './fake-exec.ts';
import { childPids, hostPidOf } from './host-pid.ts';
import { OutputBuffer } from './output-buffer.ts';
import { prepareSandboxRoot } from './sandbox-root.ts';
import { startTunnel, type Tunnel } from './tunnel.ts';

const AGENT_SCRIPT = fileURLToPath(new URL('./sandbox-agent.mjs', import.meta.url));
/** Where the agent's folder appears inside every sandbox. */
const CONTROL_MOUNT = '/.fake-modal';
/** Added to every sandbox's env; nothing else comes from the host. */
const BASE_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/tmp' };

/** Modal's GenericResult statuses the fake reports. */
export const GenericStatus = { SUCCESS: 1, FAILURE: 2, TERMINATED: 3, TIMEOUT: 4, INIT_FAILURE: 5 } as const;

/**
 * The address the container has inside its network namespace (each sandbox has its own, so
 * every one gets the same). Tunnels and the TCP readiness probe connect to it, as Modal's do to
 * the container's interface: a server bound to 127.0.0.1 only is not reachable from outside.
 */
export const SANDBOX_ADDRESS = '10.88.0.2';

export interface SandboxResult {
  status: number;
  exitcode: number;
  exception: string;
}

/**
 * `scheduling`: created, its container not running yet (execs are refused); `failed`: the
 * container never started (GENERIC_STATUS_INIT_FAILURE); the others are ends.
 */
export type FakeSandboxStatus =
  'scheduling' | 'running' | 'exited' | 'failed' | 'terminated' | 'timeout' | 'idle-timeout' | 'killed';

/** `definition.networkAccess` as received (NetworkAccessType 1 OPEN, 2 BLOCKED, 3 ALLOWLIST). */
export interface FakeNetworkAccess {
  type: 'OPEN' | 'BLOCKED' | 'ALLOWLIST';
  allowedCidrs: string[];
  allowedDomains: string[];
}

export interface FakeSandboxSpec {
  id: string;
  taskId: string;
  appId: string;
  imageId: string;
  imageDir: string;
  command: string[];
  env: Record<string, string>;
  workdir: string;
  timeoutSecs: number;
  idleTimeoutSecs?: number;
  /** Ports to tunnel, with whether their tunnel is TLS. */
  ports: { port: number; encrypted: boolean }[];
  tags: Record<string, string>;
  readinessProbe?: { tcpPort?: number; execArgv?: string[]; intervalMs?: number };
  /** Recorded only: a fake sandbox has no egress whatever the policy (its own network namespace). */
  networkAccess: FakeNetworkAccess;
  /** The SandboxCreateV2 `definition` as received. */
  definition: unknown;
  name?: string;
}

/**
 * One sandbox: bwrap around the agent (sandbox-agent.mjs), which runs the command and execs in
 * the sandbox's namespaces; tunnels from host loopback ports to its ports; its lifetime.
 *
 * As on Modal, creating one returns before its container runs: the tunnels exist at once, the
 * container starts after a scheduling delay (its files copied, then bwrap), and until then it is
 * `scheduling`.
 */
export class FakeSandbox {
  status: FakeSandboxStatus = 'scheduling';
  result?: SandboxResult;
  /** Host pid of the sandbox's command (of the agent when there is no command); 0 until it runs. */
  pid = 0;
  /** Host pid of bwrap. */
  bwrapPid = 0;
  readonly createdAt: number;
  readonly stdout = new OutputBuffer();
  readonly stderr = new OutputBuffer();
  readonly execs = new Map<string, FakeExec>();
  readonly tunnels = new Map<number, Tunnel & { encrypted: boolean }>();
  tags: Record<string, string>;
  readonly #socketPath: string;
  #proc?: ChildProcess;
  #exited: Promise<void> = Promise.resolve();
  #mainExit?: { code: number | null; signal: string | null; error?: string };
  readonly #finishWaiters = new Set<() => void>();
  #timers: NodeJS.Timeout[] = [];
  #openConnections = 0;
  #lastActive = Date.now();
  #scheduleTimer?: NodeJS.Timeout;
  /** The container's start, once scheduled; never rejects. */
  #booting: Promise<void> = Promise.resolve();
  #agentReady = false;
  readonly #left = deferred();
  readonly #released = deferred();
  /** Resolves once the sandbox is no longer `scheduling` (running, or finished without running). */
  readonly leftScheduling = this.#left.promise;
  /** Resolves once the sandbox has finished and everything in it is gone. */
  readonly released = this.#released.promise;

  private constructor(
    readonly spec: FakeSandboxSpec,
    readonly dir: string,
    createdAt: number,
  ) {
    this.createdAt = createdAt;
    this.tags = { ...spec.tags };
    this.#socketPath = path.join(dir, 'control', 'agent.sock');
  }

  get id(): string {
    return this.spec.id;
  }

  /** Its container runs (execs and connections are possible). */
  get running(): boolean {
    return this.status === 'running';
  }

  /** It has a result: exited, failed to start, terminated or timed out. */
  get finished(): boolean {
    return this.result !== undefined;
  }

  get address(): string {
    return SANDBOX_ADDRESS;
  }

  /**
   * Opens its tunnels and schedules its container to start `schedulingDelayMs` later; resolves
   * at once, with the sandbox `scheduling`. A container that fails to start ends `failed`.
   */
  static async create(
    spec: FakeSandboxSpec,
    dir: string,
    createdAt: number,
    cert: { key: string; cert: string },
    schedulingDelayMs: number,
  ): Promise<FakeSandbox> {
    const sb = new FakeSandbox(spec, dir, createdAt);
    try {
      for (const { port, encrypted } of spec.ports) {
        const tunnel = await startTunnel(
          () => sb.connect(port),
          encrypted ? cert : undefined,
          (delta) => sb.#activity(delta),
        );
        sb.tunnels.set(port, { ...tunnel, encrypted });
      }
    } catch (err) {
      sb.#release();
      throw err;
    }
    sb.#scheduleTimer = setTimeout(() => {
      sb.#booting = sb.#boot().catch((err: unknown) => sb.#failStart(err));
    }, schedulingDelayMs);
    return sb;
  }

  async #boot(): Promise<void> {
    const rootDir = path.join(this.dir, 'root');
    const controlDir = path.join(this.dir, 'control');
    // prepareSandboxRoot may be synchronous or not: either way it runs after the create's reply.
    await Promise.resolve().then(() => prepareSandboxRoot(this.spec.imageDir, rootDir));
    if (this.finished) return; // terminated while its files were copied
    mkdirSync(controlDir, { recursive: true });
    copyFileSync(AGENT_SCRIPT, path.join(controlDir, 'agent.mjs'));
    const env = { ...BASE_ENV, ...this.spec.env };
    writeFileSync(
      path.join(controlDir, 'config.json'),
      JSON.stringify({
        socketPath: `${CONTROL_MOUNT}/agent.sock`,
        command: this.spec.command,
        env,
        cwd: this.spec.workdir,
        address: SANDBOX_ADDRESS,
      }),
    );
    const args = bwrapArgs({
      rootDir,
      workdir: this.spec.workdir,
      controlDir,
      controlMount: CONTROL_MOUNT,
      imageDir: this.spec.imageDir,
    });
    const proc = spawn('bwrap', [...args, '--', 'node', `${CONTROL_MOUNT}/agent.mjs`, `${CONTROL_MOUNT}/config.json`], {
      env: BASE_ENV,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      detached: true, // its own process group, killed as one
    });
    this.#proc = proc;
    this.bwrapPid = proc.pid ?? 0;
    proc.stdout?.on('data', (d: Buffer) => this.stdout.append(d));
    proc.stderr?.on('data', (d: Buffer) => this.stderr.append(d));
    // No bwrap: 'close' follows, and the sandbox fails to start with this as its reason.
    proc.once('error', (err) => this.stderr.append(Buffer.from(`${err.message}\n`)));
    this.#exited = new Promise((resolve) => proc.once('close', () => resolve()));
    void this.#exited.then(() => this.#onExit(proc.exitCode));

    const events = createInterface({ input: proc.stdio[3] as NodeJS.ReadableStream });
    const started = new Promise<void>((resolve, reject) => {
      let agentReady = false;
      events.on('line', (line) => {
        const e = JSON.parse(line) as {
          event: string;
          pid?: number;
          code?: number | null;
          signal?: string | null;
          error?: string;
        };
        if (e.event === 'ready') {
          agentReady = true;
          this.#agentReady = true;
          if (this.spec.command.length === 0) {
            this.pid = this.bwrapPid;
            resolve();
          }
        } else if (e.event === 'main' && e.pid !== undefined) {
          this.pid = hostPidOf(e.pid, this.bwrapPid) ?? 0;
          resolve();
        } else if (e.event === 'exit') {
          this.#mainExit = { code: e.code ?? null, signal: e.signal ?? null, error: e.error };
          resolve(); // the command ended already: a finished sandbox, not a failed create
        }
      });
      void this.#exited.then(() => {
        if (!agentReady)
          reject(
            new Error(
              `sandbox ${this.id} did not start: ${this.stderr.text().trim() || `bwrap exited ${proc.exitCode}`}`,
            ),
          );
        else resolve();
      });
    });
    await started;
    if (this.finished) return; // terminated while starting, or its command ended already
    this.status = 'running';
    this.#lastActive = Date.now();
    this.#left.resolve();

    if (this.spec.timeoutSecs > 0)
      this.#timers.push(setTimeout(() => void this.stop('timeout'), this.spec.timeoutSecs * 1000));
    if (this.spec.idleTimeoutSecs) {
      const idleMs = this.spec.idleTimeoutSecs * 1000;
      this.#timers.push(
        setInterval(
          () => {
            const busy = this.#openConnections > 0 || [...this.execs.values()].some((e) => e.running);
            if (busy) this.#lastActive = Date.now();
            else if (Date.now() - this.#lastActive >= idleMs) void this.stop('idle-timeout');
          },
          Math.min(500, idleMs),
        ),
      );
    }
  }

  /** A byte stream to `port` inside the sandbox, or null if nothing listens there. */
  connect(port: number): Promise<import('node:net').Socket | null> {
    if (!this.running) return Promise.resolve(null);
    return connectPort(this.#socketPath, port).catch(() => null);
  }

  async exec(
    execId: string,
    argv: string[],
    opts: {
      env: Record<string, string>;
      workdir?: string;
      keepStdout: boolean;
      keepStderr: boolean;
      timeoutSecs?: number;
    },
  ): Promise<FakeExec> {
    const socket = await openExec(this.#socketPath, {
      argv,
      env: { ...BASE_ENV, ...this.spec.env, ...opts.env },
      cwd: opts.workdir ?? this.spec.workdir,
    });
    const exec = new FakeExec(execId, argv, socket, opts);
    this.execs.set(execId, exec);
    this.#lastActive = Date.now();
    return exec;
  }

  /** Ends the sandbox (every process in it) as `reason`; resolves once bwrap is gone. */
  async stop(reason: 'terminated' | 'timeout' | 'idle-timeout' | 'killed'): Promise<void> {
    this.#finish(reason, resultFor(reason));
    clearTimeout(this.#scheduleTimer);
    await this.#killProc();
    await this.#booting; // a start under way sees the result and stops short of bwrap
    await this.#killProc();
    await waitGone(this.pid, 2000);
    this.#release();
  }

  /** The container could not start: its sandbox ends with GENERIC_STATUS_INIT_FAILURE. */
  async #failStart(err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    this.#finish('failed', { status: GenericStatus.INIT_FAILURE, exitcode: 1, exception: message });
    await this.#killProc();
    this.#release();
  }

  /** Records how it ended, unless it has ended already. */
  #finish(status: FakeSandboxStatus, result: SandboxResult): void {
    if (this.finished) return;
    this.status = status;
    this.result = result;
    this.#left.resolve();
  }

  async #killProc(): Promise<void> {
    const proc = this.#proc;
    if (proc?.pid && proc.exitCode === null && proc.signalCode === null) {
      // Killing the pid namespace's init ends every process in it, and bwrap, still alive, reaps
      // it and exits: no zombies left for the host's pid 1. The group kill is the fallback.
      for (const pid of childPids(proc.pid)) kill(pid);
      const gone = await Promise.race([
        this.#exited.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 1000)),
      ]);
      if (!gone) kill(-proc.pid);
    }
    await this.#exited;
  }

  /** The result once finished, or undefined if still running after `timeoutMs`. */
  waitFinished(timeoutMs: number, signal?: AbortSignal): Promise<SandboxResult | undefined> {
    if (this.result) return Promise.resolve(this.result);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#finishWaiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve(this.result);
      };
      const timer = setTimeout(done, timeoutMs);
      this.#finishWaiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #activity(delta: 1 | -1): void {
    this.#openConnections += delta;
    this.#lastActive = Date.now();
  }

  #onExit(bwrapCode: number | null): void {
    if (!this.#agentReady) {
      const why = this.stderr.text().trim() || `bwrap exited ${bwrapCode}`;
      this.#finish('failed', {
        status: GenericStatus.INIT_FAILURE,
        exitcode: 1,
        exception: `sandbox ${this.id} did not start: ${why}`,
      });
    } else {
      const main = this.#mainExit;
      const code = main ? (main.code ?? 128 + 9) : (bwrapCode ?? 1);
      this.#finish('exited', {
        status: code === 0 ? GenericStatus.SUCCESS : GenericStatus.FAILURE,
        exitcode: code,
        exception: main?.error ?? '',
      });
    }
    this.#release();
  }

  #release(): void {
    clearTimeout(this.#scheduleTimer);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers = [];
    for (const t of this.tunnels.values()) t.close();
    this.stdout.close();
    this.stderr.close();
    for (const w of [...this.#finishWaiters]) w();
    if (this.finished) this.#released.resolve();
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Waits until `pid` is gone or a zombie: the kernel may still be tearing the namespace down. */
async function waitGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pid > 0 && Date.now() < deadline) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return;
    }
    if (/\) [ZX] /.test(stat)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function resultFor(reason: 'terminated' | 'timeout' | 'idle-timeout' | 'killed'): SandboxResult {
  switch (reason) {
    case 'terminated':
      return { status: GenericStatus.TERMINATED, exitcode: 0, exception: 'Sandbox terminated' };
    case 'timeout':
    case 'idle-timeout':
    case 'killed':
      return {
        status: GenericStatus.TIMEOUT,
        exitcode: 0,
        exception: `Sandbox ${reason === 'idle-timeout' ? 'idle timeout' : 'timed out'}`,
      };
  }
}
