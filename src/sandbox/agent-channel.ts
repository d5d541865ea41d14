import type { ChildProcess } from 'node:child_process';
import type { Server } from 'node:net';

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Requests to the agent inside a local sandbox (sandbox-template/agent/agent.mjs) over the
 * child's IPC channel: each `{ id, op, … }` gets one `{ id, ok, result | error }` back.
 * Everything the bot does to an app's files goes through here, never through a host path.
 */
export class AgentChannel {
  private next = 1;
  private readonly pending = new Map<number, Pending>();
  readonly ready: Promise<void>;

  constructor(private readonly child: ChildProcess) {
    this.ready = new Promise((resolve, reject) => {
      child.on('message', (m: { id?: number; ready?: boolean; ok?: boolean; result?: unknown; error?: string }) => {
        if (m?.ready) return resolve();
        const p = m?.id === undefined ? undefined : this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id!);
        clearTimeout(p.timer);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(`sandbox agent: ${m.error ?? 'failed'}`));
      });
      child.once('exit', () => {
        reject(new Error('the sandbox exited before its agent started'));
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new Error('the sandbox exited'));
          this.pending.delete(id);
        }
      });
    });
    this.ready.catch(() => undefined);
  }

  request<T>(
    op: string,
    body: Record<string, unknown>,
    opts: { timeoutMs?: number; handle?: Server } = {},
  ): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      if (!this.child.connected) return reject(new Error('the sandbox is not running'));
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`sandbox agent did not answer ${op} within ${opts.timeoutMs ?? 60_000} ms`));
      }, opts.timeoutMs ?? 60_000);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.send({ id, op, ...body }, opts.handle, (err) => {
        if (!err) return;
        this.pending.delete(id);
        clearTimeout(timer);
        reject(err);
      });
    });
  }
}
