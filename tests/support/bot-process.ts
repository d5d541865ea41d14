import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One line of `npm start -- --json` output. */
export interface JsonEvent {
  type: string;
  id?: string;
  channel: string;
  thread?: string;
  card?: { title?: string; text?: string; footer?: string; links?: { url: string }[] };
  app?: string;
  version?: number;
  url?: string;
  state?: 'progress' | 'live' | 'failed';
  text?: string;
}

/**
 * The real bot (`tsx src/main.ts --json`) as a child process driven through stdin/stdout,
 * exactly as a script would drive it. `stop()` ends it (and so its sandboxes) even when a test failed.
 */
export class BotProcess {
  readonly events: JsonEvent[] = [];
  readonly stderr: string[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<number | null>;

  /** The bot's data folder (log, screenshots): the test's own unless it gives VIBE_DATA_DIR, removed at stop. */
  private readonly dataDir?: string;

  constructor(env: Record<string, string>, args: string[] = ['--json']) {
    if (!env.VIBE_DATA_DIR) this.dataDir = mkdtempSync(join(tmpdir(), 'vibe-bot-data-'));
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        ...(this.dataDir ? { VIBE_DATA_DIR: this.dataDir } : {}),
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as JsonEvent);
      } catch {
        this.stderr.push(`(stdout, not JSON) ${line}`);
      }
    });
    createInterface({ input: this.child.stderr }).on('line', (line) => this.stderr.push(line));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  send(line: string | object): void {
    this.child.stdin.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`);
  }

  /** Waits for an event matching `pred` that arrived after index `from`; fails at once if the bot exits. */
  async waitFor(pred: (e: JsonEvent) => boolean, opts: { from?: number; timeoutMs?: number } = {}): Promise<JsonEvent> {
    const ms = opts.timeoutMs ?? 60_000;
    let exited: Error | undefined;
    const hit = await eventually(() => {
      const found = this.events.slice(opts.from ?? 0).find(pred);
      if (found) return found;
      if (this.child.exitCode !== null) {
        exited = new Error(
          `bot exited (${this.child.exitCode}) while waiting.\nstderr:\n${this.stderr.slice(-30).join('\n')}`,
        );
        return exited;
      }
      return undefined;
    }, ms).catch(() => {
      throw new Error(
        `timed out waiting for an event.\nlast events:\n${this.events
          .slice(-5)
          .map((e) => JSON.stringify(e))
          .join('\n')}\nstderr:\n${this.stderr.slice(-30).join('\n')}`,
      );
    });
    if (hit === exited) throw exited;
    return hit as JsonEvent;
  }

  /** Ends stdin (the bot finishes its work and exits); SIGTERM then SIGKILL if it lingers. */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (this.child.exitCode === null) {
      this.child.stdin.end();
      const timer = setTimeout(() => this.child.kill('SIGTERM'), timeoutMs);
      const hard = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs + 5000);
      await this.exited;
      clearTimeout(timer);
      clearTimeout(hard);
    }
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
    return this.child.exitCode;
  }
}

/**
 * Runs one of the project's scripts (e.g. scripts/register-discord.ts) with `env` and collects
 * its output. Asynchronous on purpose: a fake it talks to may live in this very process.
 */
export function runScript(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}
