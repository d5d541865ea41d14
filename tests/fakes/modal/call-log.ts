/** One RPC the fake received, in arrival order. */
export interface RecordedCall {
  /** The RPC's name as in the proto, e.g. `SandboxCreateV2`, `TaskExecStart`. */
  method: string;
  service: 'ModalClient' | 'TaskCommandRouter';
  /** The decoded request; for a client stream, every message received. */
  request: unknown;
  /** Epoch ms. */
  at: number;
  /** gRPC status code name when the call failed (injected, unimplemented or real). */
  error?: string;
}

/** Every call the fake saw, with helpers so tests can assert on order and wait for calls. */
export class CallLog {
  readonly calls: RecordedCall[] = [];
  readonly #waiters = new Set<() => void>();

  record(call: RecordedCall): void {
    this.calls.push(call);
    for (const wake of this.#waiters) wake();
  }

  of(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  methods(): string[] {
    return this.calls.map((c) => c.method);
  }

  /** Resolves with the first call to `method` (after `since` calls) matching `match`. */
  waitFor(method: string, match: (c: RecordedCall) => boolean = () => true, timeoutMs = 10_000): Promise<RecordedCall> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.calls.find((c) => c.method === method && match(c));
        if (hit) {
          cleanup();
          resolve(hit);
        }
        return hit !== undefined;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${method} call within ${timeoutMs} ms; calls: ${this.methods().join(', ')}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
      };
      const wake = (): void => void check();
      if (!check()) this.#waiters.add(wake);
    });
  }

  clear(): void {
    this.calls.length = 0;
  }
}
