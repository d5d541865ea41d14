import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, processTree } from './process-tree.ts';

/** One sandbox process tree (the agent and its Vite, possibly wrapped in bwrap) and the last lines it printed. */
export class DevServerProcess {
  readonly child: ChildProcess;
  readonly output: string[] = [];
  exited = false;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  private readonly exitListeners: (() => void)[] = [];

  constructor(
    command: string,
    args: string[],
    opts: { cwd: string; env: Record<string, string> },
    onLine: (line: string) => void,
  ) {
    // detached: its own process group, so stop() can signal everything it started at once.
    // fd 3 is the IPC channel to the sandbox agent (NODE_CHANNEL_FD=3 inside the sandbox).
    this.child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split(/\r?\n/)) {
        if (!line.trim()) continue;
        this.output.push(line);
        if (this.output.length > 40) this.output.shift();
        onLine(line);
      }
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.child.on('error', (err) => {
      this.output.push(`spawn error: ${err.message}`);
      this.markExited(null, null);
    });
    this.child.on('exit', (code, signal) => this.markExited(code, signal));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  onExit(listener: () => void): void {
    if (this.exited) listener();
    else this.exitListeners.push(listener);
  }

  /** Polls `url` until the server answers HTTP; throws with its output if it exits or times out. */
  async waitUntilServing(url: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited)
        throw new Error(
          `dev server exited (${this.exitSignal ?? this.exitCode}) before serving:\n${this.output.join('\n')}`,
        );
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    throw new Error(`dev server did not answer ${url} within ${timeoutMs} ms:\n${this.output.join('\n')}`);
  }

  /** SIGTERM to the group and every descendant, SIGKILL after `graceMs`; resolves when all are gone. */
  async kill(graceMs = 3000): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) return;
    // Once reaped, the pid may belong to someone else: then only the process group (whose id
    // the kernel does not hand out while members remain) is still ours to signal.
    const tree = () => (this.exited ? [] : processTree(pid));
    let pids = tree();
    this.signal(pid, pids, 'SIGTERM');
    if (await this.waitGone(pids, graceMs)) return;
    pids = [...new Set([...pids, ...tree()])];
    this.signal(pid, pids, 'SIGKILL');
    if (!(await this.waitGone(pids, 5000))) throw new Error(`dev server ${pid} survived SIGKILL`);
  }

  private signal(groupId: number, pids: number[], signal: NodeJS.Signals): void {
    try {
      process.kill(-groupId, signal);
    } catch {
      // group already gone
    }
    for (const p of pids) {
      try {
        process.kill(p, signal);
      } catch {
        // already gone
      }
    }
  }

  private async waitGone(pids: number[], ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (this.exited && !pids.some(isAlive)) return true;
      await sleep(25);
    }
    return this.exited && !pids.some(isAlive);
  }

  private markExited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    this.exitCode = code;
    this.exitSignal = signal;
    for (const l of this.exitListeners.splice(0)) l();
  }
}
