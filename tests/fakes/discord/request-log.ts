import type { UploadedFile } from './state.ts';

/** One HTTP request the fake received, as the bot's SDK sent it. */
export interface RecordedRequest {
  method: string;
  /** Full path without the query, e.g. `/api/v10/channels/123/messages`. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body; for multipart/form-data, the decoded `payload_json` (or the plain fields). */
  body: any;
  /** Files of a multipart body (`field` = form field, e.g. `files[0]`), with their bytes. */
  files: UploadedFile[];
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** Arrival time, ms since the Unix epoch. */
  at: number;
  /** The status the fake answered with. */
  status: number;
}

type Waiter = { match: (r: RecordedRequest) => boolean; resolve: (r: RecordedRequest) => void };

/** Every request, in arrival order, with waits for the ones a test expects. */
export class RequestLog {
  readonly requests: RecordedRequest[] = [];
  private readonly waiters = new Set<Waiter>();

  add(request: RecordedRequest): void {
    this.requests.push(request);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(request)) {
        this.waiters.delete(waiter);
        waiter.resolve(request);
      }
    }
  }

  requestsTo(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => matches(r, method, path));
  }

  /**
   * Resolves with the first request (already received or arriving later) that matches; the fake has
   * answered it and updated its state by then. Rejects after `timeoutMs`.
   */
  waitForRequest(
    method: string,
    path: RegExp,
    predicate: (r: RecordedRequest) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<RecordedRequest> {
    const match = (r: RecordedRequest): boolean => matches(r, method, path) && predicate(r);
    const seen = this.requests.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const seenPaths = this.requests.map((r) => `${r.method} ${r.path}`).join(', ') || 'none';
        reject(new Error(`fake discord: no ${method} ${path} within ${timeoutMs} ms (received: ${seenPaths})`));
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      this.waiters.add(waiter);
    });
  }
}

function matches(r: RecordedRequest, method: string, path: RegExp): boolean {
  return r.method === method.toUpperCase() && path.test(r.path);
}
