import { ServerError, Status } from 'nice-grpc';

export type GrpcStatusName = keyof typeof Status;

/** Errors queued by tests, thrown by the next calls to a method (either service). */
export class FaultQueue {
  readonly #queued = new Map<string, ServerError[]>();

  /** The next `times` calls to `method` fail with `status`. */
  failNext(method: string, status: Status | GrpcStatusName, message = 'injected failure', times = 1): void {
    const code = typeof status === 'number' ? status : Status[status];
    const list = this.#queued.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(new ServerError(code, message));
    this.#queued.set(method, list);
  }

  /** Removes and returns the error the call to `method` must fail with, if any. */
  take(method: string): ServerError | undefined {
    const list = this.#queued.get(method);
    const err = list?.shift();
    if (list?.length === 0) this.#queued.delete(method);
    return err;
  }
}
