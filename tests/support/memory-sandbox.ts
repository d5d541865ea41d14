import type { CheckError, FileMap, SandboxHandle, SandboxProvider, SandboxStatus } from '../../src/core/ports/index.ts';

/**
 * A SandboxProvider test double for core tests: keeps files in memory; `check` reports an
 * error for every file containing the marker `BROKEN`, and `write` refuses files holding
 * `REFUSED` (the local provider has real tests).
 */
export class MemorySandbox implements SandboxProvider {
  readonly sandboxes = new Map<string, { appId: string; files: FileMap; running: boolean }>();
  bootError?: Error;
  bootDelayMs = 0;
  /** Like Modal: the host stops idle sandboxes itself (tests stop them with `stop`). */
  idlesItself?: boolean;
  /** Sandboxes booting or running right now, and the most there ever were at once. */
  alive = 0;
  maxAlive = 0;
  private seq = 0;

  async boot(appId: string, files?: FileMap): Promise<SandboxHandle> {
    this.maxAlive = Math.max(this.maxAlive, ++this.alive);
    try {
      if (this.bootDelayMs) await new Promise((r) => setTimeout(r, this.bootDelayMs));
      if (this.bootError) throw this.bootError;
    } catch (err) {
      this.alive--;
      throw err;
    }
    const id = `${appId}.${++this.seq}`;
    this.sandboxes.set(id, { appId, files: { ...(files ?? { 'src/App.tsx': 'placeholder' }) }, running: true });
    return { id, url: `http://127.0.0.1:1/apps/${appId}/` };
  }

  /** Like the real providers, refuses (writes nothing) when a file holds the marker `REFUSED`. */
  async write(id: string, files: FileMap): Promise<CheckError[]> {
    const refused = Object.entries(files)
      .filter(([, text]) => text.includes('REFUSED'))
      .map(([file]) => ({ file, line: 1, column: 1, message: "Import '../../.env?raw' carries a query or hash" }));
    if (refused.length === 0) this.get(id).files = { ...files };
    return refused;
  }

  async check(id: string): Promise<CheckError[]> {
    return Object.entries(this.get(id).files)
      .filter(([, text]) => text.includes('BROKEN'))
      .map(([file]) => ({ file, line: 1, column: 1, message: 'TS2304: Cannot find name BROKEN.' }));
  }

  async status(id: string): Promise<SandboxStatus> {
    return this.sandboxes.get(id)?.running ? 'running' : 'stopped';
  }

  async stop(id: string): Promise<void> {
    const s = this.sandboxes.get(id);
    if (s?.running) this.alive--;
    if (s) s.running = false;
  }

  async stopAll(): Promise<void> {
    for (const id of this.sandboxes.keys()) await this.stop(id);
  }

  /** Like Modal: a sandbox that is still running can be picked up again by id. */
  async attach(appId: string, sandboxId: string): Promise<SandboxHandle | undefined> {
    const s = this.sandboxes.get(sandboxId);
    return s?.running && s.appId === appId ? { id: sandboxId, url: `http://127.0.0.1:1/apps/${appId}/` } : undefined;
  }

  running(): string[] {
    return [...this.sandboxes].filter(([, s]) => s.running).map(([id]) => id);
  }

  filesOf(appId: string): FileMap | undefined {
    return [...this.sandboxes.values()].filter((s) => s.appId === appId && s.running).at(-1)?.files;
  }

  private get(id: string) {
    const s = this.sandboxes.get(id);
    if (!s || !s.running) throw new Error(`sandbox ${id} is not running`);
    return s;
  }
}
