import { ServerError, Status } from 'nice-grpc';

export type GrpcStatusName = keyof typeof Status;

/** An error a call must fail with, and the trailers to send with it. */
export interface Fault {
  error: ServerError;
  trailer?: Record<string, Uint8Array>;
}

/** Errors queued by tests, thrown by the next calls to a method (either service). */
export class FaultQueue {
  readonly #queued = new Map<string, Fault[]>();

  /** The next `times` calls to `method` fail with `status`. */
  failNext(method: string, status: Status | GrpcStatusName, message = 'injected failure', times = 1): void {
    const code = typeof status === 'number' ? status : Status[status];
    this.#push(method, times, () => ({ error: new ServerError(code, message) }));
  }

  /**
   * The next `times` calls to `method` fail as Modal throttles: RESOURCE_EXHAUSTED with a
   * `grpc-status-details-bin` trailer holding a `modal.client.RPCRetryPolicy`, which the SDK's
   * unary retry middleware obeys (it sleeps `retryAfterSecs`, then retries, until its
   * `maxThrottleWaitSecs` would be exceeded).
   */
  throttleNext(method: string, retryAfterSecs: number, times = 1, message = 'Too many requests, retry later'): void {
    const details = encodeRetryStatus(Status.RESOURCE_EXHAUSTED, message, retryAfterSecs);
    this.#push(method, times, () => ({
      error: new ServerError(Status.RESOURCE_EXHAUSTED, message),
      trailer: { 'grpc-status-details-bin': details },
    }));
  }

  /** Drops every queued fault (a test's leftovers must not reach the next test). */
  clear(): void {
    this.#queued.clear();
  }

  /** Removes and returns the fault the call to `method` must fail with, if any. */
  take(method: string): Fault | undefined {
    const list = this.#queued.get(method);
    const fault = list?.shift();
    if (list?.length === 0) this.#queued.delete(method);
    return fault;
  }

  #push(method: string, times: number, make: () => Fault): void {
    const list = this.#queued.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(make());
    this.#queued.set(method, list);
  }
}

// google.rpc.Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
// google.protobuf.Any { string type_url = 1; bytes value = 2; }
// modal.client.RPCRetryPolicy { float retry_after_secs = 1; }
// Encoded by hand (the SDK does not export its generated types); the fake's tests check the SDK
// decodes them.
const RETRY_POLICY_TYPE_URL = 'type.googleapis.com/modal.client.RPCRetryPolicy';

function encodeRetryStatus(code: number, message: string, retryAfterSecs: number): Uint8Array {
  const policy = Buffer.alloc(5);
  policy.writeUInt8((1 << 3) | 5, 0); // field 1, fixed32
  policy.writeFloatLE(retryAfterSecs, 1);
  const any = Buffer.concat([bytesField(1, Buffer.from(RETRY_POLICY_TYPE_URL)), bytesField(2, policy)]);
  return Buffer.concat([
    Buffer.from([(1 << 3) | 0, ...varint(code)]),
    bytesField(2, Buffer.from(message)),
    bytesField(3, any),
  ]);
}

function bytesField(field: number, bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from([...varint((field << 3) | 2), ...varint(bytes.length)]), bytes]);
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
